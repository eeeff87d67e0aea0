// Two ORMs on two schemas of the test database: one writes with `em.persist()` + `em.flush()`,
// the other with copyPersist. `write()` gives both sides the same plain rows (each side builds its
// own entities with `em.create`), then `compare()` checks the two tables in SQL, as the
// differential test does: `EXCEPT ALL` both ways on every column as text, plus row counts.
import type { MikroORM } from '@mikro-orm/postgresql';
import { copyPersist, type CopyPersistOptions } from '../../src/index.js';
import { initTestOrm } from './orm.js';
import { FUZZ_TABLES, createFuzzEntities, type FuzzClasses, type FuzzEntityName } from './fuzz-entities.js';

type Row = Record<string, unknown>;

export const FLUSH_SCHEMA = 'fuzz_flush';
export const COPY_SCHEMA = 'fuzz_copy';

export class FuzzPair {
  private constructor(
    readonly flushOrm: MikroORM,
    readonly copyOrm: MikroORM,
    private readonly flushClasses: FuzzClasses,
    private readonly copyClasses: FuzzClasses,
  ) {}

  static async start(): Promise<FuzzPair> {
    const flushSide = createFuzzEntities();
    const copySide = createFuzzEntities();
    const flushOrm = await initTestOrm({ schema: FLUSH_SCHEMA, entities: flushSide.entities });
    const copyOrm = await initTestOrm({ schema: COPY_SCHEMA, entities: copySide.entities });
    return new FuzzPair(flushOrm, copyOrm, flushSide.classes, copySide.classes);
  }

  async close(): Promise<void> {
    await this.flushOrm.close(true);
    await this.copyOrm.close(true);
  }

  table(side: 'flush' | 'copy', entity: FuzzEntityName): string {
    return `"${side === 'flush' ? FLUSH_SCHEMA : COPY_SCHEMA}"."${FUZZ_TABLES[entity]}"`;
  }

  async truncate(entity: FuzzEntityName): Promise<void> {
    await this.flushOrm.em.getConnection().execute(`truncate table ${this.table('flush', entity)}, ${this.table('copy', entity)}`);
  }

  /** Writes `rows` with persist + flush (a fresh fork, one flush). Each side gets its own clone of the data. */
  async flush(entity: FuzzEntityName, rows: readonly Row[]): Promise<void> {
    const em = this.flushOrm.em.fork();
    const cls = this.flushClasses[entity] as new () => object;
    em.persist(structuredClone(rows).map(row => em.create(cls, row as never, { persist: false })));
    await em.flush();
  }

  /** Writes `rows` with copyPersist (entities built with `em.create`, not persisted). */
  async copy(entity: FuzzEntityName, rows: readonly Row[], options?: CopyPersistOptions): Promise<void> {
    const em = this.copyOrm.em.fork();
    const cls = this.copyClasses[entity] as new () => object;
    await copyPersist(em, structuredClone(rows).map(row => em.create(cls, row as never, { persist: false })), options);
  }

  /** The row copyPersist wrote, read back as an entity through MikroORM. */
  async findCopied(entity: FuzzEntityName, id: number): Promise<object | null> {
    const em = this.copyOrm.em.fork();
    return em.findOne(this.copyClasses[entity] as new () => object, { id } as never);
  }

  async count(side: 'flush' | 'copy', entity: FuzzEntityName): Promise<number> {
    const [{ n }] = await this.flushOrm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from ${this.table(side, entity)}`);
    return Number(n);
  }

  /** Truncates both tables, writes `rows` on both sides, and returns the differences (undefined when none). */
  async differential(entity: FuzzEntityName, rows: readonly Row[], options?: CopyPersistOptions): Promise<string | undefined> {
    await this.truncate(entity);
    await this.flush(entity, rows);
    await this.copy(entity, rows, options);
    return this.compare(entity, rows.length);
  }

  /** Every difference between the two tables, or undefined when they hold the same rows. */
  async compare(entity: FuzzEntityName, expectedRows: number): Promise<string | undefined> {
    const conn = this.flushOrm.em.getConnection();
    const columns = (
      await conn.execute<{ column_name: string }[]>(
        'select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position',
        [FLUSH_SCHEMA, FUZZ_TABLES[entity]],
      )
    ).map(c => c.column_name);
    // every column as text: json has no equality operator, and text is the exact stored form
    const list = columns.map(c => `"${c}"::text as "${c}"`).join(', ');
    const flushTable = this.table('flush', entity);
    const copyTable = this.table('copy', entity);
    const onlyFlush = await conn.execute<Row[]>(`select ${list} from ${flushTable} except all select ${list} from ${copyTable}`);
    const onlyCopy = await conn.execute<Row[]>(`select ${list} from ${copyTable} except all select ${list} from ${flushTable}`);
    const [{ a, b }] = await conn.execute<{ a: number; b: number }[]>(`select (select count(*)::int from ${flushTable}) as a, (select count(*)::int from ${copyTable}) as b`);
    if (onlyFlush.length === 0 && onlyCopy.length === 0 && a === b && a === expectedRows) return undefined;
    return [
      `${FUZZ_TABLES[entity]}: ${a} rows by flush, ${b} by copyPersist, ${expectedRows} expected`,
      `  only in flush's table (${onlyFlush.length}):`,
      ...onlyFlush.map(r => `    ${JSON.stringify(r)}`),
      `  only in copyPersist's table (${onlyCopy.length}):`,
      ...onlyCopy.map(r => `    ${JSON.stringify(r)}`),
    ].join('\n');
  }
}

/** Gives every row its position as id, so rows of one batch never collide on the key. */
export function withIds<T extends object>(rows: readonly T[]): (T & { id: number })[] {
  return rows.map((row, i) => ({ ...row, id: i + 1 }));
}
