import { describe, expect, it } from 'vitest';
import { Task } from '../src/entities.js';
import { addTask, completeProject } from '../src/tasks.js';
import { useTestDatabase } from './database.js';
import { itRunsOnItsWorkersClone } from './worker-log.js';

describe('tasks', () => {
  const db = useTestDatabase();

  itRunsOnItsWorkersClone(db, 'tasks');

  it('adds a task through a fork, inside the test transaction', async () => {
    expect(await db.tx.em.count(Task)).toBe(100);
    const task = await addTask(db.orm.em, 1, 'new', [1, 2]);
    expect(task.id).toBe(101); // the sequence is past the fixtures' keys
    expect(await db.tx.em.count(Task)).toBe(101);
    const loaded = await db.tx.em.findOneOrFail(Task, task.id, { populate: ['tags'] });
    expect(loaded.tags.getItems().map(t => t.label).sort()).toEqual(['bug', 'feature']);
  });

  it('sees none of the previous test', async () => {
    expect(await db.tx.em.count(Task)).toBe(100);
    expect(await db.tx.em.count(Task, { title: 'new' })).toBe(0);
  });

  it('completes a project in em.transactional() of a fork', async () => {
    expect(await completeProject(db.orm.em, 2)).toBe(10);
    expect(await db.tx.em.count(Task, { done: true })).toBe(10);
  });

  it('fixture tags are linked', async () => {
    const task = await db.tx.em.findOneOrFail(Task, 1, { populate: ['tags'] });
    expect(task.tags.getItems().map(t => t.id)).toEqual([1]);
  });
});
