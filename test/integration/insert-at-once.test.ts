// A small call of entities whose keys the database generates goes as INSERTs whose parameters are
// the encoded COPY rows (copy/insert-at-once.ts). These tests prove the stored rows are flush's,
// value for value and key for key, in CSV and binary alike (PG_COPY_FORMAT), and that a row the
// server rejects is still named by its input position with nothing written.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BigIntType, DecimalType, DriverException, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, countRows, initTestOrm } from '../support/orm.js';
import { TRICKY_TEXTS } from '../support/zoo.js';

class SmallKinds {
  id!: number;
  label!: string;
  text?: string | null;
  count?: number | null;
  big?: bigint | null;
  price?: string | null;
  active?: boolean | null;
  at?: Date | null;
  meta?: unknown;
  tags?: string[] | null;
  bytes?: Buffer | null;
}

const SmallKindsSchema = new EntitySchema<SmallKinds>({
  class: SmallKinds,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    label: { type: 'string', length: 20 },
    text: { type: 'text', nullable: true },
    count: { type: 'integer', nullable: true },
    big: { type: new BigIntType('bigint'), nullable: true },
    price: { type: new DecimalType('string'), precision: 12, scale: 3, nullable: true },
    active: { type: 'boolean', nullable: true },
    at: { type: 'datetime', nullable: true },
    meta: { type: 'json', nullable: true },
    tags: { type: 'string[]', nullable: true },
    bytes: { type: 'blob', nullable: true },
  },
});

/** Every tricky text, and around them the other types with edge values and left-out (undefined) columns. */
function data(): Partial<SmallKinds>[] {
  const texts = Object.values(TRICKY_TEXTS);
  return texts.map((text, i) => ({
    label: `row ${i}`,
    text,
    count: i % 3 === 0 ? undefined : i % 3 === 1 ? null : -2147483648 + i,
    big: i % 2 ? 9007199254740993n + BigInt(i) : undefined,
    price: i % 4 === 0 ? null : `${i}.${i}05`,
    active: i % 3 === 0 ? true : i % 3 === 1 ? false : undefined,
    at: i % 2 ? new Date(Date.UTC(2020, 0, 1, 12, 0, i, i)) : null,
    meta: i % 3 === 0 ? { text, list: [1, 'two', null] } : i % 3 === 1 ? 'a "string"' : undefined,
    // not the texts with whitespace at either end: MikroORM's marshallArray leaves those unquoted,
    // so PostgreSQL trims them in flush's rows, while the package's array encoder keeps them
    // (on the COPY path as well; reported)
    tags: i % 2 ? [text?.trim() === text ? text : 'x', text === null ? 'NULL' : '', 'a,b', '{x}'] : undefined,
    bytes: i % 2 ? Buffer.from([0, 1, 2, 255, i]) : undefined,
  }));
}

describe('small calls as INSERTs: the rows and keys flush writes', () => {
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;
  let logged: string[] = [];

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'insert_at_once_flush', entities: [SmallKindsSchema] });
    // MikroORM colours its log lines; the tests read the text
    const logger = (message: string) => logged.push(message.replace(/\u001b\[[0-9;]*m/g, ''));
    copyOrm = await initTestOrm({ schema: 'insert_at_once_copy', entities: [SmallKindsSchema], debug: ['query'], logger });
  });
  beforeEach(async () => {
    for (const [orm, schema] of [[flushOrm, 'insert_at_once_flush'], [copyOrm, 'insert_at_once_copy']] as const) {
      await orm.em.getConnection().execute(`truncate "${schema}".small_kinds restart identity`);
    }
    logged = [];
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  /** The table as text, row by row in key order. */
  const stored = async (orm: MikroORM, schema: string) =>
    (await orm.em.getConnection().execute<{ r: string }[]>(`select t::text as r from "${schema}".small_kinds t order by id`)).map(row => row.r);

  it('one INSERT, and the same rows and keys as persist + flush, for every tricky value', async () => {
    const flushEm = flushOrm.em.fork();
    const flushed = data().map(d => flushEm.create(SmallKinds, d as never));
    await flushEm.flush();

    const em = copyOrm.em.fork() as CopyEntityManager;
    const copied = data().map(d => em.create(SmallKinds, d as never, { persist: false }));
    logged = [];
    await em.copyPersist(copied);
    assert.equal(logged.filter(line => /insert into/i.test(line)).length, 1, logged.join('\n'));
    assert.deepEqual(logged.filter(line => /\bcopy\b|\bbegin\b/i.test(line)), []);

    assert.deepEqual(copied.map(e => e.id), flushed.map(e => e.id));
    assert.deepEqual(await stored(copyOrm, 'insert_at_once_copy'), await stored(flushOrm, 'insert_at_once_flush'));
  });

  it('41 entities go as a COPY with reserved keys, still in input order', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const entities = Array.from({ length: 41 }, (_, i) => em.create(SmallKinds, { label: `row ${i}` }, { persist: false }));
    await em.copyPersist(entities);
    assert.ok(logged.some(line => /\bcopy\b/i.test(line)), logged.join('\n'));
    assert.deepEqual(entities.map(e => e.id), entities.map((_, i) => i + 1));
  });

  it('a value the server rejects (too long for varchar(20)) names its position and writes nothing', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const entities = Array.from({ length: 10 }, (_, i) => em.create(SmallKinds, { label: i === 6 ? 'x'.repeat(21) : `row ${i}` }, { persist: false }));
    const error = await em.copyPersist(entities).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(error instanceof DriverException, String(error));
    assert.equal((error as { copyPersist?: { position?: number } }).copyPersist?.position, 6);
    assert.match((error as Error).message, /copyPersist into SmallKinds failed, input position 6/);
    assert.deepEqual(entities.map(e => e.id), entities.map(() => undefined));
    assert.equal(await countRows(copyOrm, '"insert_at_once_copy".small_kinds'), 0);
    await assertPoolHealthy(copyOrm);
  });
});
