// Test fixtures (issue 16): the fixture set of the issue — 1 organization, 50 users, 30 tags,
// 500 projects, 20k tasks, 40k task-tag links — loaded with `loadFixtures` against `em.create` +
// `flush`, and what a per-test reset costs: a rolled-back test transaction, a fresh clone of a
// template database, and the old recipe (truncate + load again). A script, not a test.
//
//   npm run build:test && ./node_modules/.bin/node build/bench/fixtures.js [--rounds=3] [--tasks=20k]
//       [--out=bench/results/fixtures.json] [--paths=rows,cascade,pivot,flush] [--no-reset]
//   node --cpu-prof build/bench/fixtures.js --paths=rows --no-reset     a profile of one path
//
// Uses DATABASE_URL (the role must be allowed to CREATE DATABASE) or a throwaway embedded server.
// Every load is checked: row counts of every table, and the links table, after the timed call.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { MikroORM, type EntityMetadata, type Options } from '@mikro-orm/postgresql';
import { TestEntityManager, beginTestTransaction, cloneTemplateDatabase, createTemplateDatabase, dropTestDatabases, loadFixtures, truncateEntities } from '../src/index.js';
// the model of the example project, so bench and example cannot drift apart
import { Organization, Project, Tag, Task, User, entities } from '../examples/fixtures-vitest/src/entities.js';
import { redact, repoRoot, startPostgres } from './support/postgres.js';
import { fmtInt, load, parseFlags, parseSize, printTable } from './support/runner.js';

interface FixtureSet {
  Organization: { id: number; name: string }[];
  User: { id: number; email: string; organization: number }[];
  Tag: { id: number; label: string }[];
  Project: { id: number; name: string; organization: number; owner: number }[];
  Task: { id: number; title: string; done: boolean; project: number; tags: number[] }[];
}

const USERS = 50;
const TAGS = 30;
const PROJECTS = 500;

function fixtureSet(tasks: number): FixtureSet {
  return {
    Organization: [{ id: 1, name: 'Acme' }],
    User: Array.from({ length: USERS }, (_, i) => ({ id: i + 1, email: `user${i + 1}@acme.test`, organization: 1 })),
    Tag: Array.from({ length: TAGS }, (_, i) => ({ id: i + 1, label: `tag ${i + 1}` })),
    Project: Array.from({ length: PROJECTS }, (_, i) => ({ id: i + 1, name: `project ${i + 1}`, organization: 1, owner: (i % USERS) + 1 })),
    Task: Array.from({ length: tasks }, (_, i) => ({
      id: i + 1,
      title: `task ${i + 1}`,
      done: i % 3 === 0,
      project: (i % PROJECTS) + 1,
      tags: [(i % TAGS) + 1, ((i + 7) % TAGS) + 1],
    })),
  };
}

type Path = 'rows' | 'cascade' | 'pivot' | 'flush';
const PATHS: Path[] = ['rows', 'cascade', 'pivot', 'flush'];
const LABEL: Record<Path, string> = {
  rows: 'loadFixtures(rows)',
  cascade: 'loadFixtures(rows, { cascade: true })',
  pivot: 'loadFixtures(rows + pivot rows by name)',
  flush: 'em.create × N + flush',
};

async function run(orm: MikroORM, path: Path, set: FixtureSet): Promise<number> {
  const em = orm.em.fork();
  const started = performance.now();
  if (path === 'rows') {
    await loadFixtures(em, { ...set });
  } else if (path === 'cascade') {
    await loadFixtures(em, { ...set }, { cascade: true });
  } else if (path === 'pivot') {
    // the task_tags rows given as rows of MikroORM's pivot entity, without going through the tasks' collections
    const pivot = pivotOf(orm);
    const tasks = set.Task.map(({ tags: _tags, ...task }) => task);
    const links = set.Task.flatMap(task => task.tags.map(tag => ({ [pivot.owner]: task.id, [pivot.target]: tag })));
    await loadFixtures(em, { ...set, Task: tasks, [pivot.name]: links });
  } else {
    for (const o of set.Organization) em.create(Organization, o);
    for (const u of set.User) em.create(User, u);
    for (const t of set.Tag) em.create(Tag, t);
    for (const p of set.Project) em.create(Project, p);
    for (const { tags, ...t } of set.Task) {
      const task = em.create(Task, t);
      for (const tag of tags) task.tags.add(em.getReference(Tag, tag));
    }
    await em.flush();
  }
  return performance.now() - started;
}

function pivotOf(orm: MikroORM): { name: string; owner: string; target: string } {
  const task = orm.getMetadata().find(Task) as EntityMetadata<Task>;
  const pivot = task.properties.tags.pivotEntity;
  const meta = orm.getMetadata().find(pivot) as EntityMetadata;
  const [owner, target] = meta.relations.map(r => r.name);
  return { name: meta.className, owner, target };
}

async function counts(orm: MikroORM): Promise<Record<string, number>> {
  const [row] = await orm.em.fork().getConnection().execute<Record<string, string>[]>(
    `select (select count(*) from app_user) as users, (select count(*) from tag) as tags, (select count(*) from project) as projects,
            (select count(*) from task) as tasks, (select count(*) from task_tags) as links`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['rounds', 'tasks', 'out', 'paths', 'no-reset']);
  const paths = (flags.get('paths')?.split(',') ?? PATHS) as Path[];
  const rounds = Number(flags.get('rounds') ?? 3);
  const tasks = parseSize(flags.get('tasks') ?? '20k');
  const out = flags.get('out') ?? join(repoRoot(), 'bench/results/fixtures.json');
  const pg = await startPostgres();
  console.log(`PostgreSQL: ${redact(pg.url)}; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB`);
  const set = fixtureSet(tasks);
  const rowsTotal = 1 + USERS + TAGS + PROJECTS + tasks + 2 * tasks;
  const base = { clientUrl: pg.url, entities, entityManager: TestEntityManager, pool: { min: 0, max: 2 } } as Options;
  const WORK = 'mpc_bench_fixtures';
  const TEMPLATE = 'mpc_bench_fixtures_template';
  const result: Record<string, unknown> = { when: new Date().toISOString(), tasks, rows: rowsTotal, rounds };
  try {
    await createTemplateDatabase({ config: base, template: WORK });
    const orm = await MikroORM.init(await cloneTemplateDatabase({ config: base, template: WORK, name: `${WORK}_run` }));
    const times: Record<Path, number[]> = { rows: [], cascade: [], pivot: [], flush: [] };
    const expected = { users: USERS, tags: TAGS, projects: PROJECTS, tasks, links: 2 * tasks };
    try {
      for (let round = 0; round < rounds; round++) {
        for (const path of paths) {
          await truncateEntities(orm.em);
          await orm.em.getConnection().execute('checkpoint');
          const t = await run(orm, path, set);
          const got = await counts(orm);
          if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${path} wrote ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
          times[path].push(t);
          console.error(`round ${round + 1} ${path}: ${ms(t)}`);
        }
      }
      if (flags.has('no-reset')) return;
      // the tables now hold the fixtures (the last path); a test's reset: begin + rollback around one write
      const begin: number[] = [];
      const rollback: number[] = [];
      for (let i = 0; i < 50; i++) {
        let t = performance.now();
        const tx = await beginTestTransaction(orm.em);
        begin.push(performance.now() - t);
        tx.em.create(Task, { id: 10_000_000 + i, title: 'written by the test', done: false, project: tx.em.getReference(Project, 1) });
        await tx.em.flush();
        t = performance.now();
        await tx.rollback();
        rollback.push(performance.now() - t);
      }
      if ((await counts(orm)).tasks !== tasks) throw new Error('a rolled-back write is still there');
      result.reset_rollback_ms = { begin: median(begin), rollback: median(rollback), both: median(begin.map((b, i) => b + rollback[i])) };
      result.load_ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { median: median(v), all: v }]));
    } finally {
      await orm.close(true);
    }
    // a fresh clone of a template holding the fixtures, as each test file (or test) would get
    await createTemplateDatabase({ config: base, template: TEMPLATE, seed: async o => void (await loadFixtures(o.em.fork(), { ...set })) });
    const clone: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await cloneTemplateDatabase({ config: base, template: TEMPLATE, name: `${TEMPLATE}_clone` });
      clone.push(performance.now() - t);
    }
    result.reset_clone_ms = { median: median(clone), all: clone };
    result.load = load();

    const lm = result.load_ms as Record<Path, { median: number }>;
    console.log(`\nFixture set: 1 organization, ${USERS} users, ${TAGS} tags, ${PROJECTS} projects, ${fmtInt(tasks)} tasks, ${fmtInt(2 * tasks)} links = ${fmtInt(rowsTotal)} rows; median of ${rounds}\n`);
    printTable(
      ['path', 'load', 'rows/s', 'vs flush'],
      paths.map(p => [LABEL[p], ms(lm[p].median), fmtInt(rowsTotal / (lm[p].median / 1000)), `${(lm.flush.median / lm[p].median).toFixed(1)}×`]),
      new Set([1, 2, 3]),
    );
    const rb = result.reset_rollback_ms as { begin: number; rollback: number; both: number };
    console.log('');
    printTable(
      ['per-test reset', 'median'],
      [
        ['beginTestTransaction + rollback (50 tests)', ms(rb.both)],
        ['cloneTemplateDatabase (drop + CREATE DATABASE ... TEMPLATE, 10 times)', ms(median(clone))],
        ['old recipe: truncateEntities + loadFixtures again', ms(lm.rows.median)],
      ],
      new Set([1]),
    );
    console.log(`load average after: ${(result.load as number[]).join(' ')}`);
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await dropTestDatabases(base, { prefix: 'mpc_bench_fixtures' });
    await pg.stop();
  }
}

await main();
