// The differential test: the same entities, written once by `em.persist()` + `em.flush()` into
// schema diff_flush and once by copyPersist into diff_copy, must leave identical tables. Tables
// are compared in SQL (`EXCEPT ALL` both ways on every column as text, plus row counts), so any
// difference in a value's stored form shows up, and the differing rows are printed.
// DIFF_DUMP=1 prints every table copyPersist wrote, for debugging.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CopyEntityManager, CopyPersistError, copyPersist } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';
import { TRICKY_TEXTS, createSqlConvertedZoo, createZoo } from '../support/zoo.js';

const FLUSH = 'diff_flush';
const COPY = 'diff_copy';
const FLUSH_OTHER = 'diff_flush_other';
const COPY_OTHER = 'diff_copy_other';

/**
 * Columns left out of the comparison, per table: ids the database assigns (compared by count and
 * order-free content of the other columns instead) and values that depend on when the row was
 * written (checked for non-null separately).
 */
const NOT_COMPARED: Record<string, { columns: string[]; nonNull: string[] }> = {
  initializer_kinds: { columns: ['id', 'with_default_raw'], nonNull: ['id', 'with_default_raw'] },
};

type Row = Record<string, unknown>;

describe('differential: copyPersist writes the rows persist + flush writes', () => {
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;

  before(async () => {
    const flushZoo = createZoo({ otherSchema: FLUSH_OTHER });
    const copyZoo = createZoo({ otherSchema: COPY_OTHER });
    flushOrm = await initTestOrm({ schema: FLUSH, extraSchemas: [FLUSH_OTHER], entities: flushZoo.entities });
    copyOrm = await initTestOrm({ schema: COPY, extraSchemas: [COPY_OTHER], entities: copyZoo.entities });

    const flushEm = flushOrm.em.fork();
    for (const phase of flushZoo.phases) {
      flushEm.persist(phase(flushEm));
      await flushEm.flush();
    }
    for (const row of flushZoo.plainRows.rows) flushEm.create(flushZoo.plainRows.entity, row as never);
    await flushEm.flush();

    const copyEm = copyOrm.em.fork() as CopyEntityManager;
    const [phase1, ...rest] = copyZoo.phases;
    await copyPersist(copyEm, phase1(copyEm)); // the standalone function
    for (const phase of rest) await copyEm.copyPersist(phase(copyEm));
    await copyEm.copyPersist(copyZoo.plainRows.entity, copyZoo.plainRows.rows as never); // typed as em.create data, cast as above
  });

  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  it('creates the same tables on both sides', async () => {
    assert.deepEqual(await tablesOf(copyOrm, COPY, COPY_OTHER), await tablesOf(flushOrm, FLUSH, FLUSH_OTHER));
  });

  it('writes identical rows into every table', async () => {
    const tables = await tablesOf(flushOrm, FLUSH, FLUSH_OTHER);
    assert.equal(tables.length, 14, `expected the 14 tables of the zoo, found ${tables.join(', ')}`);
    const failures: string[] = [];
    for (const name of tables) {
      const [where, table] = name.split('.');
      const [flushSchema, copySchema] = where === 'main' ? [FLUSH, COPY] : [FLUSH_OTHER, COPY_OTHER];
      const problem = await compareTable(flushOrm, `"${flushSchema}"."${table}"`, `"${copySchema}"."${table}"`, flushSchema, table);
      if (problem) failures.push(problem);
    }
    assert.equal(failures.length, 0, failures.join('\n\n'));
  });

  it('fills database-assigned columns on both sides', async () => {
    for (const [table, { nonNull }] of Object.entries(NOT_COMPARED)) {
      for (const schema of [FLUSH, COPY]) {
        const conn = flushOrm.em.getConnection();
        for (const column of nonNull) {
          const [{ n }] = await conn.execute<{ n: string }[]>(`select count(*)::int as n from "${schema}"."${table}" where "${column}" is null`);
          assert.equal(Number(n), 0, `${schema}.${table}.${column} has NULLs`);
        }
      }
    }
    // the sequence hands out the same ids on both sides; which row gets which is not compared:
    // both flush and copyPersist group rows by the columns they fill, and group differently
    const ids = async (schema: string) =>
      (await flushOrm.em.getConnection().execute<Row[]>(`select id from "${schema}".initializer_kinds order by id`)).map(r => Number(r.id));
    assert.deepEqual(await ids(COPY), await ids(FLUSH));
  });

  it('has the rows the zoo promises (guards against an empty comparison)', async () => {
    const conn = flushOrm.em.getConnection();
    const count = async (table: string) => Number((await conn.execute<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0].n);
    assert.equal(await count(`"${COPY}".animal`), 5);
    assert.equal(await count(`"${COPY}".relation_kinds`), 6);
    assert.equal(await count(`"${COPY}".initializer_kinds`), 8);
    assert.equal(await count(`"${COPY_OTHER}".other_schema_kinds`), 2);
    const [cat] = await conn.execute<Row[]>(`select * from "${COPY}".animal where name = 'cat'`);
    assert.equal(cat.type, 'cat');
    if (process.env.DIFF_DUMP === '1') {
      for (const name of await tablesOf(copyOrm, COPY, COPY_OTHER)) {
        const [where, table] = name.split('.');
        console.log(name, await conn.execute(`select * from "${where === 'main' ? COPY : COPY_OTHER}"."${table}" order by 1`));
      }
    }
  });

  it('spot checks: the values landed as intended, on both sides', async () => {
    const conn = flushOrm.em.getConnection();
    for (const schema of [FLUSH, COPY]) {
      const texts = await conn.execute<{ kind: string; text_value: string | null }[]>(`select kind, text_value from "${schema}".text_kinds`);
      const byKind = Object.fromEntries(texts.map(r => [r.kind, r.text_value]));
      assert.deepEqual(byKind, TRICKY_TEXTS, `${schema}.text_kinds`);
      const inits = await conn.execute<Row[]>(
        `select label, from_initializer, from_on_create, with_default, with_number_default, version from "${schema}".initializer_kinds where label in ('all undefined', 'built with new', 'non-nullable default set to null')`,
      );
      for (const row of inits) {
        assert.deepEqual(
          { ...row },
          { label: row.label, from_initializer: 'initialized in the class', from_on_create: `created:${row.label}`, with_default: 'the default', with_number_default: 42, version: 1 },
          `${schema}.initializer_kinds`,
        );
      }
      const [json] = await conn.execute<{ t: string }[]>(`select jsonb_typeof(jsonb_value) as t from "${schema}".json_kinds where kind = 'string'`);
      assert.equal(json.t, 'string', `${schema}.json_kinds: a JSON string stays a string`);
      const [big] = await conn.execute<{ v: string }[]>(`select bigint_as_bigint::text as v from "${schema}".scalar_kinds where id = 1`);
      assert.equal(big.v, '9007199254740993');
    }
  });

  it('the comparison reports a difference (guards the guard)', async () => {
    const conn = flushOrm.em.getConnection();
    await conn.execute(`update "${COPY}".text_kinds set text_value = 'changed' where kind = 'empty'`);
    try {
      const problem = await compareTable(flushOrm, `"${FLUSH}".text_kinds`, `"${COPY}".text_kinds`, FLUSH, 'text_kinds');
      assert.match(problem ?? '', /only in flush's table \(1\)[\s\S]*"kind":"empty"[\s\S]*only in copyPersist's table \(1\)[\s\S]*"changed"/);
    } finally {
      await conn.execute(`update "${COPY}".text_kinds set text_value = '' where kind = 'empty'`);
    }
  });
});

describe('differential: kinds copyPersist refuses', () => {
  let orm: MikroORM;
  const { entities, SqlConverted } = createSqlConvertedZoo();
  before(async () => {
    orm = await initTestOrm({ schema: 'diff_reject', entities });
  });
  after(async () => orm?.close(true));

  it('rejects a custom type with convertToDatabaseValueSQL and writes nothing', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    const entity = em.create(SqlConverted, { id: 1, shout: 'quiet' }, { persist: false });
    await assert.rejects(em.copyPersist([entity]), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError, `expected a CopyPersistError, got ${String(e)}`);
      assert.equal(e.code, 'UNSUPPORTED_PROPERTY');
      assert.equal(e.entity, 'SqlConverted');
      assert.equal(e.property, 'shout');
      assert.match(e.message, /convertToDatabaseValueSQL/);
      return true;
    });
    const [{ n }] = await em.getConnection().execute<{ n: number }[]>('select count(*)::int as n from diff_reject.sql_converted');
    assert.equal(n, 0);
  });
});

/** The base tables of an ORM's two schemas, as `main.table` / `other.table`, sorted. */
async function tablesOf(orm: MikroORM, schema: string, otherSchema: string): Promise<string[]> {
  const rows = await orm.em.getConnection().execute<{ table_schema: string; table_name: string }[]>(
    `select table_schema, table_name from information_schema.tables
      where table_schema in (?, ?) and table_type = 'BASE TABLE'`,
    [schema, otherSchema],
  );
  return rows.map(r => `${r.table_schema === schema ? 'main' : 'other'}.${r.table_name}`).sort();
}

/** Returns a description of every difference between the two tables, or undefined when equal. */
async function compareTable(orm: MikroORM, flushTable: string, copyTable: string, schema: string, table: string): Promise<string | undefined> {
  const conn = orm.em.getConnection();
  const skip = NOT_COMPARED[table]?.columns ?? [];
  const columns = (
    await conn.execute<{ column_name: string }[]>(
      'select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position',
      [schema, table],
    )
  )
    .map(c => c.column_name)
    .filter(c => !skip.includes(c));
  // every column as text: json has no equality operator, and text is the exact stored form
  const list = columns.map(c => `"${c}"::text as "${c}"`).join(', ');
  const onlyFlush = await conn.execute<Row[]>(`select ${list} from ${flushTable} except all select ${list} from ${copyTable}`);
  const onlyCopy = await conn.execute<Row[]>(`select ${list} from ${copyTable} except all select ${list} from ${flushTable}`);
  const [{ a, b }] = await conn.execute<{ a: number; b: number }[]>(`select (select count(*)::int from ${flushTable}) as a, (select count(*)::int from ${copyTable}) as b`);
  if (onlyFlush.length === 0 && onlyCopy.length === 0 && a === b) return undefined;
  return [
    `${table}: ${a} rows by flush, ${b} by copyPersist`,
    `  only in flush's table (${onlyFlush.length}):`,
    ...onlyFlush.map(r => `    ${JSON.stringify(r)}`),
    `  only in copyPersist's table (${onlyCopy.length}):`,
    ...onlyCopy.map(r => `    ${JSON.stringify(r)}`),
  ].join('\n');
}
