// Rows holding every value a careless CSV or NDJSON writer or reader gets wrong, the entity they
// belong to, the files that hold them, and how to read them back for comparison.
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';

export class Hostile {
  id!: number;
  txt?: string;
  vc?: string;
  n?: number;
  big?: string;
  price?: string;
  at?: Date;
  flag?: boolean;
  tags?: string[];
  meta?: unknown;
}

/** The properties as plain JSON, so a generated MikroORM config (the CLI's tests) can declare the same entity. */
export const HOSTILE_PROPERTIES = {
  id: { type: 'integer', primary: true },
  txt: { type: 'text', nullable: true },
  vc: { type: 'string', length: 12, nullable: true },
  n: { type: 'smallint', nullable: true },
  big: { type: 'bigint', nullable: true },
  price: { type: 'decimal', precision: 12, scale: 4, nullable: true },
  at: { type: 'datetime', nullable: true },
  flag: { type: 'boolean', nullable: true },
  tags: { type: 'string[]', nullable: true },
  meta: { type: 'json', nullable: true },
} as const;

export const HostileSchema = new EntitySchema<Hostile>({ class: Hostile, properties: HOSTILE_PROPERTIES });

const TEXTS = [
  '',
  ' leading and trailing ',
  'comma, "quote", and \\ backslash',
  'line\nbreak',
  'crlf\r\nbreak',
  'lone \r cr',
  '\\N',
  'NULL',
  '"QUOTED"',
  '"',
  ',',
  '\ttab',
  'emoji 😀, é and e\u0301',
  '{a,b}',
  'ends with \\',
  'x'.repeat(10_000),
];
const SHORT = ['', ' sp ', '"q"', ',', 'é😀', '\\N', 'NULL', '12 chars 😀!'];

export type HostileRow = { id: number; txt: string | null; vc: string | null; n: number | null; big: string | null; price: string | null; at: string | null; flag: boolean | null; tags: string[] | null; meta: unknown };

/** Every hostile value at least once, and a row of NULLs. */
export function hostileRows(): HostileRow[] {
  const numbers = [-32768, 32767, 0, null];
  const bigs = ['-9223372036854775808', '9223372036854775807', '0', null];
  const prices = ['0.0001', '-99999999.9999', '12.5000', null];
  const dates = ['2020-02-29T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '2100-12-31T12:00:00.001Z', null];
  // no item with surrounding spaces: MikroORM's marshallArray leaves it unquoted and PostgreSQL trims it (flush too)
  const tags = [['a,b', 'quote"d', 'back\\slash', '{x}', 'NULL?', 'é😀'], [], ['one'], null];
  const metas = [{ s: 'quote" and \\ and \n', n: [1, null, true, 2.5], u: 'é😀' }, [1, 'two'], 'a string', null];
  const rows: HostileRow[] = TEXTS.map((txt, i) => ({
    id: i + 1,
    txt,
    vc: SHORT[i % SHORT.length],
    n: numbers[i % 4],
    big: bigs[i % 4],
    price: prices[i % 4],
    at: dates[i % 4],
    flag: [true, false, null][i % 3],
    tags: tags[i % 4],
    meta: metas[i % 4],
  }));
  rows.push({ id: rows.length + 1, txt: null, vc: null, n: null, big: null, price: null, at: null, flag: null, tags: null, meta: null });
  return rows;
}

/** A CSV field as a careful writer quotes it: NULL unquoted and empty, everything else quoted. */
function csvField(value: unknown, json: boolean): string {
  if (value === null) return '';
  const text = typeof value === 'string' && !json ? value : JSON.stringify(value);
  return `"${text.replaceAll('"', '""')}"`;
}

const COLUMNS = ['id', 'txt', 'vc', 'n', 'big', 'price', 'at', 'flag', 'tags', 'meta'] as const;

/** A CSV file of the rows: a header of property names, CRLF line ends, every field quoted except NULLs. */
export function hostileCsv(rows: HostileRow[]): string {
  const lines = [COLUMNS.join(','), ...rows.map(row => COLUMNS.map(c => (c === 'id' ? String(row.id) : csvField(row[c], c === 'meta'))).join(','))];
  return lines.join('\r\n') + '\r\n';
}

export function hostileNdjson(rows: HostileRow[]): string {
  return rows.map(row => JSON.stringify(row)).join('\n') + '\n';
}

/** The table's rows in the shape of `hostileRows()`. */
export async function readHostile(orm: MikroORM, schema: string): Promise<HostileRow[]> {
  const rows = await orm.em.fork().getConnection().execute<HostileRow[]>(`select ${COLUMNS.join(', ')} from ${schema}.hostile order by id`);
  // timestamptz comes back as a Date in MikroORM 6 and as text in 7; bigint and numeric as text in both
  return rows.map(r => ({ ...r, at: r.at === null ? null : new Date(r.at).toISOString(), big: r.big === null ? null : String(r.big) }));
}
