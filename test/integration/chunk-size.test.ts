// The default chunk size depends on the input: an array (already in memory) is sent 2000 rows at
// a time, a stream 500, which keeps a long stream's peak RSS low (issue 13: 5M rows from an async
// generator within 200 MB), its first chunks smaller (8, then doubling; see job.ts). `chunkSize`
// overrides both, from the first chunk on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager, CopyPersistOptions } from '../../src/index.js';
import { Author, libraryEntities } from '../support/library.js';
import { countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'chunk_size_test';

describe('chunk size: 2000 rows for an array, 500 for a stream, unless chunkSize says otherwise', () => {
  let orm: MikroORM;
  const fork = () => orm.em.fork() as CopyEntityManager;

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: libraryEntities });
  });
  after(async () => {
    await orm.close(true);
  });

  /** Copies 4100 authors and returns the rows sent with each write, and how far ahead of the writes the input was read. */
  async function writes(input: 'array' | 'generator', options: CopyPersistOptions = {}): Promise<{ sizes: number[]; ahead: number }> {
    await orm.em.getConnection().execute(`truncate ${SCHEMA}.book, ${SCHEMA}.author restart identity cascade`);
    const em = fork();
    const make = (i: number) => em.create(Author, { name: `author ${i}` }, { persist: false });
    const sizes: number[] = [];
    let sent = 0;
    let made = 0;
    let ahead = 0;
    async function* lazily() {
      for (let i = 0; i < 4100; i++) {
        made++;
        ahead = Math.max(ahead, made - sent);
        yield make(i);
      }
    }
    const source = input === 'array' ? Array.from({ length: 4100 }, (_, i) => make(i)) : lazily();
    const result = await em.copyPersist(source, {
      ...options,
      onProgress: p => {
        sizes.push(p.rows - sent);
        sent = p.rows;
      },
    });
    assert.equal(result.rows, 4100);
    assert.equal(await countRows(orm, `${SCHEMA}.author`), 4100);
    return { sizes, ahead };
  }

  it('an array is sent 2000 rows at a time', async () => {
    assert.deepEqual((await writes('array')).sizes, [2000, 2000, 100]);
  });

  it('an async generator is read and sent 500 rows at a time, after first chunks of 8, 16, ... 256', async () => {
    const { sizes, ahead } = await writes('generator');
    assert.deepEqual(sizes, [8, 16, 32, 64, 128, 256, ...Array(7).fill(500), 96]);
    assert.equal(ahead, 500);
  });

  it('chunkSize overrides both', async () => {
    assert.deepEqual((await writes('array', { chunkSize: 3000 })).sizes, [3000, 1100]);
    const { sizes, ahead } = await writes('generator', { chunkSize: 3000 });
    assert.deepEqual(sizes, [3000, 1100]);
    assert.equal(ahead, 3000);
  });
});
