import { describe, expect, it } from 'vitest';
import { User } from '../src/entities.js';
import { useTestDatabase } from './database.js';
import { itRunsOnItsWorkersClone } from './worker-log.js';

describe('users', () => {
  const db = useTestDatabase();

  itRunsOnItsWorkersClone(db, 'users');

  it('renames a user', async () => {
    const user = await db.tx.em.findOneOrFail(User, 1);
    user.email = 'renamed@acme.test';
    await db.tx.em.flush();
    expect(await db.tx.em.count(User, { email: 'renamed@acme.test' })).toBe(1);
  });

  it('finds the user as loaded', async () => {
    expect((await db.tx.em.findOneOrFail(User, 1)).email).toBe('user1@acme.test');
  });

  it('a unique violation fails only this test', async () => {
    db.tx.em.create(User, { email: 'user2@acme.test', organization: 1 });
    await expect(db.tx.em.flush()).rejects.toThrow(/unique/i);
  });
});
