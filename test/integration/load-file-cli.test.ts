import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { truncateEntities } from '../../src/index.js';
import { HOSTILE_PROPERTIES, HostileSchema, hostileCsv, hostileNdjson, hostileRows, readHostile } from '../support/hostile-values.js';
import { countRows, databaseUrl, initTestOrm, MIKRO_ORM_VERSION } from '../support/orm.js';

const SCHEMA = 'load_file_cli_test';

class Book {
  id!: number;
  title!: string;
  pages?: number;
}
const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    pages: { type: 'integer', nullable: true },
  },
});

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const TYPO_DATABASE = 'load_file_cli_no_such_db';

// The project's config: an array of contexts as MikroORM's CLI allows; `typo` names a database that
// does not exist, `ghost` an entity whose table does not.
const CONFIG = `
  import { defineConfig, EntitySchema } from '@mikro-orm/postgresql';
  class Book {}
  class Ghost {}
  class Hostile {}
  const book = new EntitySchema({ class: Book, properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    pages: { type: 'integer', nullable: true },
  } });
  const ghost = new EntitySchema({ class: Ghost, properties: { id: { type: 'integer', primary: true } } });
  const hostile = new EntitySchema({ class: Hostile, properties: ${JSON.stringify(HOSTILE_PROPERTIES)} });
  const url = ${JSON.stringify(databaseUrl())};
  export default [
    defineConfig({ contextName: 'default', clientUrl: url, schema: ${JSON.stringify(SCHEMA)}, entities: [book, ghost, hostile] }),
    defineConfig({ contextName: 'typo', clientUrl: url.replace(/\\/[^/]*$/, '/${TYPO_DATABASE}'), schema: ${JSON.stringify(SCHEMA)}, entities: [book] }),
  ];
`;

describe('the CLI', () => {
  let orm: MikroORM;
  let project: string;

  /** Runs the CLI in the project directory, without a terminal. */
  const run = async (...args: string[]) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, MIKRO_ORM_CLI_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    const [code] = await once(child, 'close');
    return { code: code as number, stdout, stderr };
  };
  const books = async () => orm.em.fork().getConnection().execute<{ id: number; title: string; pages: number | null }[]>(`select id, title, pages from ${SCHEMA}.book order by id`);

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [BookSchema, HostileSchema] });
    // under the working directory, so that the config resolves @mikro-orm/* of this run's version
    project = await mkdtemp(join(process.cwd(), 'build', 'cli-project-'));
    // MikroORM 7's config loader wants @mikro-orm/cli among the project's dependencies (6 has its own, and checks the versions)
    const dependencies = MIKRO_ORM_VERSION === 7 ? { '@mikro-orm/core': '*', '@mikro-orm/cli': '*' } : { '@mikro-orm/core': '*' };
    await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module', dependencies }));
    await writeFile(join(project, 'mikro-orm.config.js'), CONFIG);
    await mkdir(join(project, 'data'));
    await writeFile(join(project, 'data', 'books.csv'), 'Name,Pages\nfirst,1\nsecond,oops\nthird,3\n');
    await writeFile(join(project, 'data', 'ids.csv'), 'id,title\n1,a\n1,b\n');
    await writeFile(join(project, 'data', 'ghost.csv'), 'id\n1\n');
  });
  afterEach(async () => {
    await truncateEntities(orm.em);
  });
  after(async () => {
    await orm?.close(true);
    await rm(project, { recursive: true, force: true });
  });

  it('--version prints the package version; --help lists the exit codes and two examples', async () => {
    // the repository's package.json: up from build/test/integration (MikroORM 7) or compat/v6/build/... (6)
    let pkg: { name?: string; version: string } | undefined;
    for (let dir = dirname(fileURLToPath(import.meta.url)); !pkg && dir !== '/'; dir = dirname(dir)) {
      const found = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string; version: string };
      if (found.name === 'mikro-orm-pg-copy') pkg = found;
    }
    const version = await run('--version');
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.equal(version.stdout, `${pkg!.version}\n`);
    const help = await run('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:\n {2}0 .*\n {2}1 .*\n(.*\n)? {2}2 .*\n {2}3 /);
    assert.equal(help.stdout.match(/^ {2}mikro-orm-pg-copy load /gm)?.length, 2);
  });

  it('a bad row stops the load with one line naming it, nothing written; --verbose adds the stack', async () => {
    const stopped = await run('load', 'data/books.csv', '--entity', 'Book', '--map', 'Name=title', '--map', 'Pages=pages');
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.equal(stopped.stderr, 'mikro-orm-pg-copy: line 3: pages: not a number: "oops"\nnothing was written (--verbose shows where the error came from)\n');
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
    const verbose = await run('load', 'data/books.csv', '--entity', 'Book', '--map', 'Name=title', '--map', 'Pages=pages', '--verbose');
    assert.equal(verbose.code, 1);
    assert.match(verbose.stderr, /^mikro-orm-pg-copy: line 3: pages: not a number: "oops"\nLoadFileError: .*\n {4}at /);
  });

  it('an unknown CSV column: the message adds how --map maps it, nothing written', async () => {
    const result = await run('load', 'data/books.csv', '--entity', 'Book', '--no-progress');
    assert.equal(result.code, 1, result.stderr);
    // the library names its own option; the CLI's wording adds the flag
    assert.match(result.stderr, /^mikro-orm-pg-copy: line 1: unknown columns? "Name".*option map.*; on the command line: --map header=property\nnothing was written/);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
  });

  it('a row the database rejects is named by its line, in one line', async () => {
    const result = await run('load', 'data/ids.csv', '--entity', 'Book', '--no-progress');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mikro-orm-pg-copy: line 3: duplicate key value violates unique constraint "book_pkey".*Key \(id\)=\(1\) already exists.*\nnothing was written/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
  });

  it('--reject-file: the bad rows go there, the rest is loaded, the counts are printed, exit code 3', async () => {
    const loaded = await run('load', 'data/books.csv', '--entity', 'Book', '--format', 'csv', '--map', 'Name=title', '--map', 'Pages=pages', '--reject-file', 'bad.csv');
    assert.equal(loaded.code, 3, loaded.stderr);
    assert.match(loaded.stderr, /line 3: pages: not a number/);
    assert.match(loaded.stdout, /^2 rows loaded into Book, 1 rejected \(bad\.csv\), 4 lines read in [\d.]+ s\n$/);
    assert.equal(await readFile(join(project, 'bad.csv'), 'utf8'), 'Name,Pages\nsecond,oops\n');
    assert.deepEqual((await books()).map(b => b.title), ['first', 'third']);

    const quiet = await run('load', 'data/ids.csv', '--entity', 'Book', '--reject-file', 'ids.bad.csv', '--quiet');
    assert.equal(quiet.code, 3);
    assert.equal(quiet.stdout + quiet.stderr, '');
  });

  it('clear one-line messages for a missing file, an unknown entity, a missing table, an unknown database (not created)', async () => {
    const cases: [string[], RegExp][] = [
      [['load', 'data/nope.csv', '--entity', 'Book'], /^mikro-orm-pg-copy: cannot read data\/nope\.csv: no such file\n/],
      [['load', 'data/books.csv', '--entity', 'Nope'], /^mikro-orm-pg-copy: no entity named "Nope" in this ORM \(known: Book, Ghost, Hostile\)\n/],
      [['load', 'data/ghost.csv', '--entity', 'Ghost'], /^mikro-orm-pg-copy: the table of Ghost does not exist .*relation "load_file_cli_test\.ghost" does not exist.*: create the schema or run the migrations first\n/],
      [['load', 'data/ids.csv', '--entity', 'Book', '--schema', 'no_such_schema'], /^mikro-orm-pg-copy: the table of Book does not exist \(schema "no_such_schema" does not exist\).*migrations first\n/],
      [['load', 'data/ids.csv', '--entity', 'Book', '--context', 'typo'], new RegExp(`^mikro-orm-pg-copy: cannot connect to the database: .*database "${TYPO_DATABASE}" does not exist`)],
      [['load', 'data/ids.csv', '--entity', 'Book', '--context', 'nope'], /^mikro-orm-pg-copy: cannot load the MikroORM config: .*nope/],
    ];
    for (const [args, message] of cases) {
      const result = await run(...args);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
    const databases = await orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from pg_database where datname = '${TYPO_DATABASE}'`);
    assert.equal(databases[0].n, 0);
  });

  for (const format of ['csv', 'ndjson'] as const) {
    it(`loads a generated ${format} file of hostile values that reads back exactly`, async () => {
      const rows = hostileRows();
      await writeFile(join(project, 'data', `hostile.${format}`), format === 'csv' ? hostileCsv(rows) : hostileNdjson(rows));
      const result = await run('load', `data/hostile.${format}`, '--entity', 'Hostile', '--batch-size', '4');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${rows.length} rows loaded into Hostile, 0 rejected`));
      assert.deepEqual(await readHostile(orm, SCHEMA), rows);
    });
  }

  it('--on-conflict merges into existing rows or ignores them', async () => {
    await writeFile(join(project, 'data', 'upsert.csv'), 'id,title\n1,a\n2,b\n');
    assert.equal((await run('load', 'data/upsert.csv', '--entity', 'Book')).code, 0);
    await writeFile(join(project, 'data', 'upsert.csv'), 'id,title\n1,A\n3,C\n');
    const ignored = await run('load', 'data/upsert.csv', '--entity', 'Book', '--on-conflict', 'id', '--on-conflict-action', 'ignore');
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.match(ignored.stdout, /\(1 inserted, 0 updated, 1 skipped\)/);
    assert.deepEqual((await books()).map(b => b.title), ['a', 'b', 'C']);
    await writeFile(join(project, 'data', 'upsert.csv'), 'id,title\n1,A\n4,D\n');
    const merged = await run('load', 'data/upsert.csv', '--entity', 'Book', '--on-conflict', 'pk');
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /\(1 inserted, 1 updated, 0 skipped\)/);
    assert.deepEqual((await books()).map(b => b.title), ['A', 'b', 'C', 'D']);
  });

  it('--parallel with --load-id: a re-run skips the batches already committed', async () => {
    const lines = ['title,pages', ...Array.from({ length: 10 }, (_, i) => `t${i},${i}`)];
    await writeFile(join(project, 'data', 'many.csv'), lines.join('\n') + '\n');
    const args = ['load', 'data/many.csv', '--entity', 'Book', '--parallel', '2', '--batch-size', '3', '--load-id', `cli-${MIKRO_ORM_VERSION}`];
    const first = await run(...args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^10 rows loaded/);
    const again = await run(...args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^0 rows loaded/);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 10);
  });

  it('--parallel: a row the database rejects is named by its file line, and the message says what stays committed', async () => {
    // a blank line, so that input positions and file lines part ways
    await writeFile(join(project, 'data', 'dup.csv'), 'id,title\n1,a\n\n2,b\n3,c\n3,d\n');
    const result = await run('load', 'data/dup.csv', '--entity', 'Book', '--parallel', '2', '--batch-size', '2');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^mikro-orm-pg-copy: line 6: duplicate key value violates unique constraint "book_pkey".*; (rows of lines [\d., ]+ stay committed|no batch was committed)\n$/);
    const committed = /rows of lines 2\.\.4 stay committed/.test(result.stderr) ? 2 : 0;
    assert.equal(await countRows(orm, `${SCHEMA}.book`), committed);
  });

  it('draws a progress bar on a terminal (under a pseudo-terminal), none with --no-progress', async () => {
    const lines = ['title,pages', ...Array.from({ length: 60_000 }, (_, i) => `"book ${i}, with a comma",${i % 1000}`)];
    await writeFile(join(project, 'data', 'big.csv'), lines.join('\n') + '\n');
    // script(1) gives the CLI a terminal on stdout and stderr
    const underTty = async (...args: string[]) => {
      const command = [process.execPath, CLI, ...args].map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project, env: { ...process.env, MIKRO_ORM_CLI_CONFIG: '', COLUMNS: '120' } });
      let out = '';
      child.stdout.on('data', d => (out += d));
      const [code] = await once(child, 'close');
      return { code: code as number, out };
    };
    const drawn = await underTty('load', 'data/big.csv', '--entity', 'Book', '--batch-size', '5000');
    assert.equal(drawn.code, 0, drawn.out);
    // cli-progress redraws after moving the cursor to column 1 (ESC [1G)
    const frames = drawn.out.split(/\r|\x1b\[1G/).map(f => f.replace(/\x1b\[[\d;?]*[a-zA-Z]/g, '').trim()).filter(f => /^\[[=-]+\] +\d+% /.test(f));
    assert.ok(frames.length >= 2, drawn.out);
    const percents = frames.map(f => Number(/\] +(\d+)%/.exec(f)![1]));
    assert.deepEqual([...percents].sort((a, b) => a - b), percents, 'the percentage never goes back');
    assert.equal(percents.at(-1), 100);
    assert.match(frames.at(-1)!, /60000 rows, \d+ rows\/s/);
    assert.match(drawn.out, /60000 rows loaded into Book/);
    await truncateEntities(orm.em);
    const plain = await underTty('load', 'data/big.csv', '--entity', 'Book', '--no-progress');
    assert.equal(plain.code, 0, plain.out);
    assert.doesNotMatch(plain.out, /%/);
    assert.match(plain.out, /^60000 rows loaded into Book/);
  });
});
