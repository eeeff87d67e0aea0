// Property-based: random object graphs with cycles (between tables and within one), self-references
// with mixed column sets, single-table inheritance with references between subclasses and inverse
// one-to-ones, written by persist + flush and by copyPersist — flat in a random order, or as roots
// with `cascade` — must give the same tables. Rows are compared by their names, so the ids each
// side generated do not matter. FUZZ_SEED / FUZZ_RUNS as in fuzz.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cascade, Collection, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

const RUN_FACTOR = Number(process.env.FUZZ_RUNS ?? '1');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

function model() {
  class Person {
    id?: number;
    name!: string;
    kind?: string;
  }
  class Boss extends Person {}
  class Staff extends Person {
    boss?: Boss | null;
    buddy?: Staff | null;
  }
  class Writer {
    id?: number;
    name!: string;
    works = new Collection<Work>(this);
    favourite?: Work | null;
    address?: Address | null;
  }
  class Work {
    id?: number;
    name!: string;
    note?: string | null;
    writer!: Writer;
    sequel?: Work | null;
  }
  class Address {
    id?: number;
    name!: string;
    writer!: Writer;
  }
  const schemas = [
    new EntitySchema<Person>({
      class: Person,
      discriminatorColumn: 'kind',
      discriminatorMap: { boss: 'Boss', staff: 'Staff' } as never,
      abstract: true,
      properties: { id: { type: 'integer', primary: true, autoincrement: true }, name: { type: 'string' }, kind: { type: 'string' } },
    }),
    new EntitySchema<Boss, Person>({ class: Boss, discriminatorValue: 'boss', properties: {} }),
    new EntitySchema<Staff, Person>({
      class: Staff,
      discriminatorValue: 'staff',
      properties: { boss: { kind: 'm:1', entity: () => Boss, nullable: true }, buddy: { kind: 'm:1', entity: () => Staff, nullable: true } },
    }),
    new EntitySchema<Writer>({
      class: Writer,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        works: { kind: '1:m', entity: () => Work, mappedBy: 'writer' },
        favourite: { kind: 'm:1', entity: () => Work, nullable: true },
        address: { kind: '1:1', entity: () => Address, mappedBy: 'writer', cascade: [Cascade.ALL], nullable: true },
      },
    }),
    new EntitySchema<Work>({
      class: Work,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        note: { type: 'string', nullable: true },
        writer: { kind: 'm:1', entity: () => Writer },
        sequel: { kind: 'm:1', entity: () => Work, nullable: true },
      },
    }),
    new EntitySchema<Address>({
      class: Address,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        writer: { kind: '1:1', entity: () => Writer, owner: true, inversedBy: 'address' },
      },
    }),
  ];
  return { Boss, Staff, Writer, Work, Address, schemas };
}
type Model = ReturnType<typeof model>;

/** A graph as indexes, built the same way on both sides. */
interface GraphSpec {
  writers: { favourite: number | null; address: boolean }[];
  works: { writer: number; note: boolean; sequel: number | null }[];
  people: { boss: boolean; bossOf: number | null; buddy: number | null }[];
  order: number[];
  cascade: boolean;
}

const spec: fc.Arbitrary<GraphSpec> = fc
  .record({
    writerCount: fc.integer({ min: 1, max: 5 }),
    workCount: fc.integer({ min: 0, max: 10 }),
    peopleCount: fc.integer({ min: 0, max: 8 }),
    cascade: fc.boolean(),
  })
  .chain(({ writerCount, workCount, peopleCount, cascade }) => {
    const workRef = workCount ? fc.option(fc.nat(workCount - 1), { nil: null }) : fc.constant(null);
    const personRef = peopleCount ? fc.option(fc.nat(peopleCount - 1), { nil: null }) : fc.constant(null);
    return fc.record({
      writers: fc.array(fc.record({ favourite: workRef, address: fc.boolean() }), { minLength: writerCount, maxLength: writerCount }),
      works: fc.array(fc.record({ writer: fc.nat(writerCount - 1), note: fc.boolean(), sequel: workRef }), { minLength: workCount, maxLength: workCount }),
      people: fc.array(fc.record({ boss: fc.boolean(), bossOf: personRef, buddy: personRef }), { minLength: peopleCount, maxLength: peopleCount }),
      order: fc.shuffledSubarray([...Array(writerCount + workCount + peopleCount).keys()], { minLength: writerCount + workCount + peopleCount }),
      cascade: fc.constant(cascade),
    });
  });

/** Builds the graph; returns the input: every entity in `order`, or with cascade the writers and people only. */
function build(em: CopyEntityManager, m: Model, s: GraphSpec): object[] {
  const make = <T extends object>(cls: new () => T, data: object) => em.create(cls, data as never, { persist: false }) as T;
  const writers = s.writers.map((_, i) => make(m.Writer, { name: `writer ${i}` }));
  const works = s.works.map((w, i) => make(m.Work, { name: `work ${i}`, note: w.note ? `note ${i}` : null, writer: writers[w.writer] }));
  s.works.forEach((w, i) => {
    writers[w.writer].works.add(works[i]);
    // no self-references: flush writes a row that references itself with an extra UPDATE too, but keep the graph plain
    if (w.sequel !== null && w.sequel !== i) works[i].sequel = works[w.sequel];
  });
  const addresses: object[] = [];
  s.writers.forEach((w, i) => {
    if (w.favourite !== null) writers[i].favourite = works[w.favourite];
    if (w.address) {
      const address = make(m.Address, { name: `address ${i}`, writer: writers[i] });
      writers[i].address = address;
      addresses.push(address);
    }
  });
  const people: (InstanceType<Model['Boss']> | InstanceType<Model['Staff']>)[] = s.people.map((p, i) => make(p.boss ? m.Boss : m.Staff, { name: `person ${i}` }));
  s.people.forEach((p, i) => {
    const person = people[i];
    if (!(person instanceof m.Staff)) return;
    if (p.bossOf !== null && people[p.bossOf] instanceof m.Boss) person.boss = people[p.bossOf] as InstanceType<Model['Boss']>;
    if (p.buddy !== null && p.buddy !== i && people[p.buddy] instanceof m.Staff) person.buddy = people[p.buddy] as InstanceType<Model['Staff']>;
  });
  const all: object[] = [...writers, ...works, ...people];
  if (s.cascade) return [...writers, ...people];
  return [...s.order.map(i => all[i]), ...addresses];
}

const VIEWS = (s: string) => [
  `select w.name, f.name as favourite from ${s}.writer w left join ${s}.work f on f.id = w.favourite_id order by 1`,
  `select w.name, w.note, a.name as writer, q.name as sequel from ${s}.work w join ${s}.writer a on a.id = w.writer_id left join ${s}.work q on q.id = w.sequel_id order by 1`,
  `select d.name, a.name as writer from ${s}.address d join ${s}.writer a on a.id = d.writer_id order by 1`,
  `select p.name, p.kind, b.name as boss, u.name as buddy from ${s}.person p left join ${s}.person b on b.id = p.boss_id left join ${s}.person u on u.id = p.buddy_id order by 1`,
];

describe('write order, property-based: random graphs with cycles, as flush writes them', () => {
  const flushSide = model();
  const copySide = model();
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'graphs_flush', entities: flushSide.schemas });
    copyOrm = await initTestOrm({ schema: 'graphs_copy', entities: copySide.schemas });
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  it('copyPersist writes the tables flush writes', async () => {
    await fc.assert(
      fc.asyncProperty(spec, async s => {
        for (const [orm, schema] of [[flushOrm, 'graphs_flush'], [copyOrm, 'graphs_copy']] as const) {
          await orm.em.getConnection().execute(`truncate ${['writer', 'work', 'address', 'person'].map(t => `${schema}.${t}`).join(', ')} restart identity cascade`);
        }
        const fem = flushOrm.em.fork() as CopyEntityManager;
        fem.persist(build(fem, flushSide, s));
        await fem.flush();
        const cem = copyOrm.em.fork() as CopyEntityManager;
        const result = await cem.copyPersist(build(cem, copySide, s), { cascade: s.cascade });
        const flushViews = VIEWS('graphs_flush');
        const copyViews = VIEWS('graphs_copy');
        let total = 0;
        for (let i = 0; i < flushViews.length; i++) {
          const want = await flushOrm.em.getConnection().execute(flushViews[i]);
          assert.deepEqual(await copyOrm.em.getConnection().execute(copyViews[i]), want, copyViews[i]);
          total += want.length;
        }
        assert.equal(result.rows, total, 'rows reported');
      }),
      { numRuns: Math.max(1, Math.round(40 * RUN_FACTOR)), ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    await assertPoolHealthy(copyOrm);
  });
});
