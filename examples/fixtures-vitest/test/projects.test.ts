import { describe, expect, it } from 'vitest';
import { Project, Task } from '../src/entities.js';
import { completeProject } from '../src/tasks.js';
import { useTestDatabase } from './database.js';
import { itRunsOnItsWorkersClone } from './worker-log.js';

describe('projects', () => {
  const db = useTestDatabase();

  itRunsOnItsWorkersClone(db, 'projects');

  it('deletes every project of the fixtures, for this test only', async () => {
    await db.tx.em.nativeDelete(Task, {});
    await db.tx.em.nativeDelete(Project, {});
    expect(await db.tx.em.count(Project)).toBe(0);
  });

  it('has all projects back', async () => {
    expect(await db.tx.em.count(Project)).toBe(10);
    expect(await completeProject(db.orm.em, 3)).toBe(10);
  });

  it('creates a project through the global orm.em, rolled back afterwards', async () => {
    const project = db.orm.em.create(Project, { name: 'new', organization: 1, owner: 1 });
    await db.orm.em.flush();
    expect(project.id).toBe(11);
    expect(await db.tx.em.count(Project)).toBe(11);
  });

  it('counts ten projects again', async () => {
    expect(await db.tx.em.count(Project)).toBe(10);
  });
});
