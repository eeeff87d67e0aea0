import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { loadFile, LoadFileError, truncateEntities, type CopyEntityManager, type LoadFileReject } from '../../src/index.js';
import { countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'load_file_rejects_test';

class Owner {
  id!: number;
}

class Item {
  id!: number;
  code!: string;
  qty?: number;
  big?: string;
  price?: string;
  kind?: string;
  at?: Date;
  note?: string;
  owner?: Owner;
}

const OwnerSchema = new EntitySchema<Owner>({ class: Owner, properties: { id: { type: 'integer', primary: true } } });
const ItemSchema = new EntitySchema<Item>({
  class: Item,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    code: { type: 'string', length: 8, unique: true },
    qty: { type: 'smallint', nullable: true },
    big: { type: 'bigint', nullable: true },
    price: { type: 'decimal', precision: 6, scale: 2, nullable: true },
    kind: { enum: true, items: ['a', 'b'], nullable: true },
    at: { type: 'datetime', nullable: true },
    note: { type: 'text', nullable: true },
    owner: { kind: 'm:1', entity: () => Owner, nullable: true },
  },
});

// One bad row of each kind, between good ones; the line each is on and what its reason must say.
// Lines 12 to 14 pass every check of the loader and are rejected by PostgreSQL itself.
const CSV_LINES: [string, RegExp | undefined][] = [
  ['code,qty,big,price,kind,at,note,owner', undefined],
  ['good1,1,1,1.50,a,2020-01-01T00:00:00Z,fine,1', undefined],
  ['nul,1,,,,,"has \u0000 NUL",', /note: holds a NUL character/],
  ['half,0.5,,,,,,', /qty: not an integer: "0.5"/],
  ['big16,99999,,,,,,', /qty: out of range for smallint/],
  ['big64,,9223372036854775808,,,,,', /big: out of range for bigint/],
  ['price,,,12345.6,,,,', /price: more than 4 digits before the decimal point/],
  ['muchtoolong,,,,,,,', /code: longer than 8 characters/],
  ['enum,,,,c,,,', /kind: not one of a, b: "c"/],
  ['date,,,,,yesterday,,', /at: not a date: "yesterday"/],
  ['"QUOTED"X",,,,,,,', /text after the closing quote of field 1/],
  ['good1,2,,,,,,', /duplicate key value violates unique constraint.*\(code\)=\(good1\) already exists/],
  ['fk,,,,,,,99', /foreign key constraint.*\(owner_id\)=\(99\) is not present/],
  ['check,-1,,,,,,', /check constraint "item_qty_positive"/],
  ['good2,3,,,b,,"multi\nline, ""quoted""",', undefined],
];

describe('loadFile: one bad row of each kind', () => {
  let orm: MikroORM;
  let dir: string;
  const fork = () => orm.em.fork() as CopyEntityManager;
  const content = CSV_LINES.map(([line]) => line).join('\n') + '\n';
  // the good2 record spans two lines, so it starts on line 15 and the file has 16
  const badLines = CSV_LINES.map(([, reason], i) => (reason ? i + 1 : 0)).filter(Boolean);

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [OwnerSchema, ItemSchema] });
    // a check only the database knows
    await orm.em.getConnection().execute(`alter table ${SCHEMA}.item add constraint item_qty_positive check (qty >= 0)`);
    dir = await mkdtemp(join(tmpdir(), 'load-file-rejects-'));
  });
  afterEach(async () => {
    await truncateEntities(orm.em);
  });
  after(async () => {
    await orm?.close(true);
    await rm(dir, { recursive: true, force: true });
  });

  for (const batchSize of [10_000, 3]) {
    it(`with a reject file exactly the bad rows are rejected, with their lines and reasons (batches of ${batchSize})`, async () => {
      await fork().getConnection().execute(`insert into ${SCHEMA}.owner (id) values (1)`);
      const path = join(dir, 'items.csv');
      await writeFile(path, content);
      const rejectFile = join(dir, `items.${batchSize}.rejected.csv`);
      const rejects: LoadFileReject[] = [];
      const result = await loadFile(fork(), { path, entity: Item, rejectFile, batchSize, onReject: r => rejects.push(r) });
      assert.deepEqual(result, { rows: 2, rejected: badLines.length, lines: 16 });
      assert.deepEqual(rejects.map(r => r.line).sort((a, b) => a - b), badLines);
      for (const reject of rejects) assert.match(reject.reason, CSV_LINES[reject.line - 1][1]!, `line ${reject.line}`);
      const rows = await orm.em.fork().getConnection().execute<{ code: string; note: string | null }[]>(`select code, note from ${SCHEMA}.item order by id`);
      assert.deepEqual(rows, [{ code: 'good1', note: 'fine' }, { code: 'good2', note: 'multi\nline, "quoted"' }]);
      // the reject file holds the header and the bad records as they were in the file
      const written = await readFile(rejectFile, 'utf8');
      const expected = [CSV_LINES[0][0], ...badLines.map(line => CSV_LINES[line - 1][0])];
      assert.deepEqual(written.split('\n').slice(0, -1).sort(), expected.sort());
    });
  }

  it('without a reject file the first bad row stops the load, named by its line, and nothing is written', async () => {
    await fork().getConnection().execute(`insert into ${SCHEMA}.owner (id) values (1)`);
    const path = join(dir, 'stop.csv');
    await writeFile(path, content);
    await assert.rejects(loadFile(fork(), { path, entity: Item }), (e: LoadFileError) => {
      assert.ok(e instanceof LoadFileError);
      assert.equal(e.code, 'BAD_ROW');
      assert.equal(e.line, 3);
      assert.match(e.message, /^line 3: note: holds a NUL character/);
      return true;
    });
    assert.equal(await countRows(orm, `${SCHEMA}.item`), 0);
  });

  // each of the rows PostgreSQL rejects, alone after good rows: the load stops at its line
  for (const line of [12, 13, 14]) {
    it(`without a reject file a row the database rejects stops the load at its line (${CSV_LINES[line - 1][0]})`, async () => {
      await fork().getConnection().execute(`insert into ${SCHEMA}.owner (id) values (1)`);
      const path = join(dir, `server-${line}.csv`);
      await writeFile(path, [CSV_LINES[0][0], CSV_LINES[1][0], 'ok1,,,,,,,', CSV_LINES[line - 1][0], 'ok2,,,,,,,'].join('\r\n') + '\r\n');
      await assert.rejects(loadFile(fork(), { path, entity: 'Item' }), (e: LoadFileError) => {
        assert.ok(e instanceof LoadFileError);
        assert.equal(e.line, 4);
        assert.match(e.message, new RegExp(`^line 4: .*${CSV_LINES[line - 1][1]!.source}`));
        return true;
      });
      assert.equal(await countRows(orm, `${SCHEMA}.item`), 0);
    });
  }

  it('NDJSON: the same kinds of bad rows, by line', async () => {
    await fork().getConnection().execute(`insert into ${SCHEMA}.owner (id) values (1)`);
    const lines: [unknown, RegExp | undefined][] = [
      [{ code: 'good1', qty: 1, note: 'fine', owner: 1 }, undefined],
      [{ code: 'nul', note: 'a\u0000b' }, /note: holds a NUL character/],
      [{ code: 'half', qty: 0.5 }, /qty: not an integer: 0.5/],
      [{ code: 'big16', qty: 99999 }, /qty: out of range for smallint/],
      [{ code: 'big64', big: '9223372036854775808' }, /big: out of range for bigint/],
      [{ code: 'muchtoolong' }, /code: longer than 8 characters/],
      [{ code: 'good1' }, /duplicate key value violates unique constraint/],
      [{ code: 'fk', owner: 99 }, /foreign key constraint/],
      [{ code: 'check', qty: -1 }, /check constraint "item_qty_positive"/],
      [{ code: 'good2', qty: 2 }, undefined],
    ];
    const path = join(dir, 'items.ndjson');
    await writeFile(path, lines.map(([row]) => JSON.stringify(row)).join('\n'));
    const rejects: LoadFileReject[] = [];
    const result = await loadFile(fork(), { path, entity: Item, rejectFile: join(dir, 'items.rejected.ndjson'), onReject: r => rejects.push(r) });
    assert.deepEqual(result, { rows: 2, rejected: 8, lines: 10 });
    for (const reject of rejects) assert.match(reject.reason, lines[reject.line - 1][1]!, `line ${reject.line}`);
    assert.deepEqual(rejects.map(r => r.line).sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
