// Application code under test: it forks the EntityManager it is given, as services do.
import type { EntityManager } from '@mikro-orm/postgresql';
import { Project, Tag, Task } from './entities.js';

export async function addTask(em: EntityManager, projectId: number, title: string, tagIds: number[] = []): Promise<Task> {
  const fork = em.fork();
  const task = fork.create(Task, { title, project: fork.getReference(Project, projectId) });
  for (const id of tagIds) task.tags.add(fork.getReference(Tag, id));
  await fork.flush();
  return task;
}

export async function completeProject(em: EntityManager, projectId: number): Promise<number> {
  return em.fork().transactional(async trx => {
    const tasks = await trx.find(Task, { project: projectId, done: false });
    for (const task of tasks) task.done = true;
    return tasks.length;
  });
}
