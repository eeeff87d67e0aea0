import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadFile, truncateEntities, type CopyEntityManager } from '../../src/index.js';
import { Hostile, HostileSchema, hostileCsv, hostileNdjson, hostileRows, readHostile } from '../support/hostile-values.js';
import { initTestOrm } from '../support/orm.js';

const SCHEMA = 'load_file_values_test';

describe('loadFile: hostile values are read back exactly', () => {
  let orm: MikroORM;
  let dir: string;

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [HostileSchema] });
    dir = await mkdtemp(join(tmpdir(), 'load-file-values-'));
  });
  afterEach(async () => {
    await truncateEntities(orm.em);
  });
  after(async () => {
    await orm?.close(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('CSV (CRLF line ends, every field quoted except NULLs)', async () => {
    const rows = hostileRows();
    const path = join(dir, 'hostile.csv');
    await writeFile(path, hostileCsv(rows));
    const result = await loadFile(orm.em.fork() as CopyEntityManager, { path, entity: Hostile });
    assert.equal(result.rows, rows.length);
    assert.equal(result.rejected, 0);
    assert.deepEqual(await readHostile(orm, SCHEMA), rows);
  });

  it('NDJSON', async () => {
    const rows = hostileRows();
    const path = join(dir, 'hostile.ndjson');
    await writeFile(path, hostileNdjson(rows));
    const result = await loadFile(orm.em.fork() as CopyEntityManager, { path, entity: Hostile, batchSize: 5 });
    assert.equal(result.rows, rows.length);
    assert.deepEqual(await readHostile(orm, SCHEMA), rows);
  });
});
