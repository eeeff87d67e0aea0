// Plain rows whose relations are keys skip em.create (plan/row-view.ts): a to-one key becomes the
// foreign key, an owning many-to-many array of keys becomes pivot rows. The rows written must be
// the ones em.create + flush writes: the same rows go through both into two schemas, and every
// table is compared in SQL (`EXCEPT ALL` both ways on every column as text, plus row counts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, Reference, type EntityManager, type MikroORM, type Opt } from '@mikro-orm/postgresql';
import { copyPersist, loadFixtures, type CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';

const FLUSH = 'views_flush';
const COPY = 'views_copy';

class Org {
  id!: number;
  name!: string;
}

class Region {
  code!: string;
  country!: string;
  name!: string;
}

class Label {
  id!: number;
  text!: string;
}

class Person {
  id!: number;
  name!: string;
  active: Opt<boolean> = true;
  score?: number;
  org?: Org | null;
  region?: Region | null;
  labels = new Collection<Label>(this);
}

function model() {
  return [
    new EntitySchema<Org>({ class: Org, properties: { id: { type: 'integer', primary: true }, name: { type: 'string' } } }),
    new EntitySchema<Region>({
      class: Region,
      properties: { code: { type: 'string', primary: true }, country: { type: 'string', primary: true }, name: { type: 'string' } },
    }),
    new EntitySchema<Label>({ class: Label, properties: { id: { type: 'integer', primary: true }, text: { type: 'string' } } }),
    new EntitySchema<Person>({
      class: Person,
      properties: {
        id: { type: 'integer', primary: true },
        name: { type: 'string' },
        active: { type: 'boolean' },
        score: { type: 'integer', default: 7, nullable: true },
        org: { kind: 'm:1', entity: () => Org, nullable: true },
        region: { kind: 'm:1', entity: () => Region, nullable: true },
        labels: { kind: 'm:n', entity: () => Label, owner: true },
      },
    }),
  ];
}

/** The referenced rows, written by flush on both sides. */
function seed(em: EntityManager): void {
  em.create(Org, { id: 1, name: 'one' });
  em.create(Org, { id: 2, name: 'two' });
  em.create(Region, { code: 'N', country: 'NL', name: 'north' });
  em.create(Region, { code: 'S', country: 'NL', name: 'south' });
  for (let id = 1; id <= 4; id++) em.create(Label, { id, text: `label ${id}` });
}

/** Person rows with every form of relation value a view takes; `em` makes the references. */
function personRows(em: EntityManager): Record<string, unknown>[] {
  return [
    { id: 1, name: 'keys', org: 1, region: ['N', 'NL'], labels: [1, 2] },
    { id: 2, name: 'nulls', org: null, region: null, labels: [] },
    { id: 3, name: 'nothing but scalars' },
    { id: 4, name: 'a reference', org: em.getReference(Org, 2), labels: [em.getReference(Label, 3)] },
    { id: 5, name: 'a wrapped reference', org: Reference.createFromPK(Org, 1), region: ['S', 'NL'] },
    { id: 6, name: 'a key twice', labels: [4, 4, 1, 4] },
    { id: 7, name: 'class field and default overridden', active: false, score: null, labels: [3] },
    { id: 8, name: 'explicit values', active: true, score: 3, org: 2 },
  ];
}

type Row = Record<string, unknown>;

describe('row views: plain rows with to-one and many-to-many keys are written as em.create + flush writes them', () => {
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;

  before(async () => {
    flushOrm = await initTestOrm({ schema: FLUSH, entities: model() });
    copyOrm = await initTestOrm({ schema: COPY, entities: model() });
    for (const orm of [flushOrm, copyOrm]) {
      const em = orm.em.fork();
      seed(em);
      await em.flush();
    }
    const flushEm = flushOrm.em.fork();
    for (const row of personRows(flushEm)) flushEm.create(Person, row as never);
    await flushEm.flush();
  });

  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  it('copyPersist(Person, rows) writes the tables flush writes, without building entities', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const rows = personRows(em);
    const labelsBefore = em.getUnitOfWork().getIdentityMap().getStore(copyOrm.getMetadata().find(Label)!).size;
    const result = await copyPersist(em, Person, rows as never[]); // rows of every relation form, typed loosely
    assert.deepEqual(result.byEntity, { Person: 8, person_labels: 6 });
    await assertSameTables(flushOrm);
    // em.create would have put a reference of each label key into the identity map; a view does not
    const labelsAfter = em.getUnitOfWork().getIdentityMap().getStore(copyOrm.getMetadata().find(Label)!).size;
    assert.equal(labelsAfter, labelsBefore, 'rows of keys went through em.create');
  });

  it('the comparison reports a difference (guards the guard)', async () => {
    await assertSameTables(flushOrm);
    await copyOrm.em.getConnection().execute(`update "${COPY}".person_labels set label_id = 2 where person_id = 7`);
    try {
      await assert.rejects(assertSameTables(flushOrm), /person_labels: 6 rows by flush, 6 copied/);
    } finally {
      await copyOrm.em.getConnection().execute(`update "${COPY}".person_labels set label_id = 3 where person_id = 7`);
    }
  });

  it('loadFixtures writes the same rows: keys and references, with and without cascade', async () => {
    const keysOnly = (row: Record<string, unknown>) => (row.id === 4 ? { ...row, org: 2, labels: [3] } : row.id === 5 ? { ...row, org: 1 } : row);
    // under cascade a reference makes every row an entity (cascade walks entities); rows of keys stay views
    for (const [cascade, only] of [[false, false], [true, false], [true, true]]) {
      await copyOrm.em.getConnection().execute(`truncate "${COPY}".person cascade`);
      const em = copyOrm.em.fork();
      const rows = personRows(em).map(row => (only ? keysOnly(row) : row));
      const result = await loadFixtures(em, { Person: rows }, { cascade });
      assert.deepEqual(result.byEntity, { Person: 8, person_labels: 6 }, `cascade: ${cascade}, keys only: ${only}`);
      await assertSameTables(flushOrm);
    }
  });

  it('rows from a stream, a chunk at a time, write the same rows (each chunk\'s links after its rows)', async () => {
    await copyOrm.em.getConnection().execute(`truncate "${COPY}".person cascade`);
    const em = copyOrm.em.fork();
    async function* stream() {
      yield* personRows(em);
    }
    const result = await copyPersist(em, Person, stream() as never, { chunkSize: 3 });
    assert.deepEqual(result.byEntity, { Person: 8, person_labels: 6 });
    await assertSameTables(flushOrm);
  });

  it('a row with the key of an entity the identity map holds is written from the entity em.create returns', async () => {
    await copyOrm.em.getConnection().execute(`truncate "${COPY}".person cascade`);
    const em = copyOrm.em.fork();
    const managed = em.create(Person, { id: 9, name: 'managed already' }, { persist: false });
    em.getUnitOfWork().register(managed);
    // em.create returns the managed entity (keeping its own changes); a view would write the row's values
    assert.equal(em.create(Person, { id: 9, name: 'the row' }, { persist: false }), managed);
    await copyPersist(em, Person, [{ id: 9, name: 'the row' }]);
    const [row] = await em.getConnection().execute<{ name: string }[]>(`select name from "${COPY}".person where id = 9`);
    assert.equal(row?.name, managed.name);
    assert.notEqual(row?.name, 'the row');
  });
});

async function assertSameTables(flushOrm: MikroORM): Promise<void> {
  const failures: string[] = [];
  for (const table of ['org', 'region', 'label', 'person', 'person_labels']) {
    const problem = await compareTable(flushOrm, table);
    if (problem) failures.push(problem);
  }
  assert.equal(failures.length, 0, failures.join('\n\n'));
}

async function compareTable(orm: MikroORM, table: string): Promise<string | undefined> {
  const conn = orm.em.getConnection();
  const columns = (
    await conn.execute<{ column_name: string }[]>('select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position', [FLUSH, table])
  ).map(c => c.column_name);
  assert.ok(columns.length > 0, `no table ${FLUSH}.${table}`);
  const list = columns.map(c => `"${c}"::text as "${c}"`).join(', ');
  const [a, b] = [`"${FLUSH}"."${table}"`, `"${COPY}"."${table}"`];
  const onlyFlush = await conn.execute<Row[]>(`select ${list} from ${a} except all select ${list} from ${b}`);
  const onlyCopy = await conn.execute<Row[]>(`select ${list} from ${b} except all select ${list} from ${a}`);
  const [{ n, m }] = await conn.execute<{ n: number; m: number }[]>(`select (select count(*)::int from ${a}) as n, (select count(*)::int from ${b}) as m`);
  if (!onlyFlush.length && !onlyCopy.length && n === m) return undefined;
  return [`${table}: ${n} rows by flush, ${m} copied`, ...onlyFlush.map(r => `  only flush: ${JSON.stringify(r)}`), ...onlyCopy.map(r => `  only copy: ${JSON.stringify(r)}`)].join('\n');
}
