// Test fixtures through COPY: entities, rows keyed by entity name (written in foreign-key order),
// or @mikro-orm/seeder factories made lazily; and one TRUNCATE of every table to reset between tests.
import { ReferenceKind, type EntityMetadata, type EntityName } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { copyPersist } from '../api/copy-persist.js';
import { checkedCount, noEntityNamed, notRegistered, notTableBacked } from '../errors.js';
import type { CopyPersistOptions, CopyPersistResult } from '../api/options.js';
import { quotedTable } from '../plan/entity-plan.js';
import { isOwningToOne, orderTables, type TableEdge } from '../plan/relations.js';
import { mikroOrm } from '../orm/index.js';
import { LifecycleHooks } from '../engine/lifecycle-hooks.js';

/**
 * What `loadFixtures` needs of a factory: `makeEntity`, which `@mikro-orm/seeder`'s `Factory` has
 * in 6.x and 7.x. Typed structurally so this package does not depend on the seeder.
 */
export interface FixtureFactory<T extends object = object, I = never> {
  makeEntity(input?: I, index?: number): T;
}

/** `count` entities made by `factory`, each with `overrides` (or `overrides(index)`). */
export interface FactoryFixture<T extends object = object, I = never> {
  factory: FixtureFactory<T, I>;
  count: number;
  overrides?: I | ((index: number) => I);
}

/**
 * Input of {@link loadFixtures}: an array of entities and factory fixtures (in any mix), one
 * factory fixture, or plain rows keyed by entity class name.
 */
export type FixtureInput =
  | ReadonlyArray<object | FactoryFixture<object, unknown>>
  | FactoryFixture<object, unknown>
  | { readonly [entityName: string]: ReadonlyArray<Record<string, unknown>> };

/** What `loadFixtures` returns. */
export interface LoadFixturesResult {
  /** Rows written. */
  rows: number;
  /** Rows written per entity class name. */
  byEntity: Record<string, number>;
}

/**
 * Loads test fixtures through COPY, all in one transaction (the caller's, when `em` is in one).
 *
 * - An array of entities is copied as `copyPersist(em, entities, options)` does (pass
 *   `{ cascade: true }` to copy unsaved relation targets too). Factory fixtures in the array are
 *   expanded in place.
 * - A factory fixture `{ factory, count, overrides }` calls `factory.makeEntity(overrides, i)`
 *   `count` times, lazily, a chunk ahead of the COPY: the made entities never enter the unit of
 *   work and never all sit in memory. (`make()`/`create()` of the seeder would persist them.)
 * - Plain rows keyed by entity class name (`{ Book: [...], Author: [...] }`) are written table by
 *   table, referenced tables first (many-to-many targets too), whatever the key order.
 *
 * Afterwards the sequence of each loaded table's integer primary key is moved past the table's
 * highest key, so rows loaded with explicit keys (`{ id: 1 }`) never collide with the next flush.
  *
 * @example
 * ```ts
 * import { loadFixtures } from 'mikro-orm-pg-copy';
 *
 * await loadFixtures(em, {
 *   Book: [{ id: 1, title: 'Dune', author: 1 }],
 *   Author: [{ id: 1, name: 'Frank Herbert' }],   // written first: books reference it
 * });
 * await loadFixtures(em, { factory: new AuthorFactory(em), count: 50_000, overrides: { country: 'NL' } });
 * await loadFixtures(em, [author, ...books]);
 * ```
 */
export function loadFixtures<T extends object, I>(em: SqlEntityManager, input: FactoryFixture<T, I>, options?: CopyPersistOptions): Promise<LoadFixturesResult>;
export function loadFixtures(em: SqlEntityManager, input: FixtureInput, options?: CopyPersistOptions): Promise<LoadFixturesResult>;
export async function loadFixtures(em: SqlEntityManager, input: FixtureInput, options: CopyPersistOptions = {}): Promise<LoadFixturesResult> {
  if (await canCheckKeysAfterwards(em, input, options)) {
    try {
      return await load(em, input, options, true);
    } catch (e) {
      // rolled back; the per-row checks find the row to report
      if (!(e instanceof ForeignKeyViolated)) throw e;
    }
  }
  return load(em, input, options, false);
}

/** One transaction for everything: a failing table leaves none of the others behind. */
function load(em: SqlEntityManager, input: FixtureInput, options: CopyPersistOptions, keysAfterwards: boolean): Promise<LoadFixturesResult> {
  return em.transactional(async trx => {
    const tem = trx as SqlEntityManager;
    // refused after all (a role changed by SET ROLE, say): load with the per-row checks
    const previousRole = keysAfterwards
      ? await setReplicationRole(tem, 'replica').catch((e: unknown) => {
          throw new ForeignKeyViolated('session_replication_role could not be set', { cause: e });
        })
      : undefined;
    const result = await copyFixtures(tem, input, options);
    const written = Object.keys(result.byEntity)
      .map(name => findEntity(em, name))
      .filter(meta => meta !== undefined);
    if (previousRole !== undefined) {
      // a failed copy needs no reset: the rollback (to the savepoint) undoes a local setting
      await setReplicationRole(tem, previousRole);
      await checkForeignKeys(tem, written);
    }
    await advanceSequences(tem, written);
    return result;
  });
}

/**
 * PostgreSQL checks each foreign key of each row with a trigger: a query and a row lock per row and
 * key. For the 40,000 links of issue 16's fixture set that was 1.5 s of a 2 s load on its own,
 * where the COPY took 0.2 s. Rails turns those triggers off while it loads fixtures; so does this,
 * where it changes nothing else: with `session_replication_role = replica` for the load (a
 * superuser's setting), and only when no table of the ORM has triggers or rules of its own, which
 * that mode would skip too. Every foreign key of the tables written is then checked in one query
 * per key (`ForeignKeyViolated`), and on a violation the load is rolled back and run again with the
 * per-row checks, which report the row as always. Only plain rows keyed by entity name are loaded
 * this way: running those twice is safe (no entities of the caller get keys, no hooks, nothing
 * managed). The referenced rows are not locked against a concurrent delete until the commit, as
 * the per-row checks would lock them.
 */
async function canCheckKeysAfterwards(em: SqlEntityManager, input: FixtureInput, options: CopyPersistOptions): Promise<boolean> {
  if (Array.isArray(input) || isFactoryFixture(input) || options.manage || options.onConflictAction !== undefined || options.onConflictFields !== undefined) return false;
  const metas = mikroOrm.allMetadata(em.getMetadata()).filter(meta => !meta.embeddable && !meta.virtual && !meta.expression && !!meta.tableName && !(meta.abstract && !meta.discriminatorColumn));
  const hooks = new LifecycleHooks(em);
  if (options.hooks !== false && metas.some(meta => hooks.has(meta))) return false;
  const tables = [...new Set(metas.map(meta => quotedTable(em, meta.root)))];
  if (!tables.length) return false;
  const list = tables.map(() => 'to_regclass(?)').join(', ');
  const [row] = await em.getConnection().execute<{ allowed: boolean }[]>(
    `select current_setting('is_superuser') = 'on'
        and not exists (select 1 from pg_trigger where tgrelid in (${list}) and not tgisinternal)
        and not exists (select 1 from pg_rewrite where ev_class in (${list}) and rulename <> '_RETURN') as allowed`,
    [...tables, ...tables],
    'all',
    em.getTransactionContext(),
  );
  return row?.allowed === true;
}

/** Sets `session_replication_role` for the rest of the transaction; returns the value it had. */
async function setReplicationRole(em: SqlEntityManager, role: string): Promise<string> {
  const [row] = await em.getConnection().execute<{ previous: string }[]>(
    `select current_setting('session_replication_role') as previous, set_config('session_replication_role', ?, true)`,
    [role],
    'all',
    em.getTransactionContext(),
  );
  return row.previous;
}

/** A foreign key of a table the fixtures wrote has a row without its referenced row (or the checks could not be turned off): load again with the per-row checks. */
class ForeignKeyViolated extends Error {}

/** Checks every foreign key of the tables of `metas` over the whole table, one query per key. */
async function checkForeignKeys(em: SqlEntityManager, metas: readonly EntityMetadata[]): Promise<void> {
  const tables = [...new Set(metas.map(meta => quotedTable(em, meta.root)))];
  if (!tables.length) return;
  const connection = em.getConnection();
  const ctx = em.getTransactionContext();
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const keys = await connection.execute<ForeignKeyRow[]>(
    `select cn.nspname as child_schema, cc.relname as child_table, pn.nspname as parent_schema, pc.relname as parent_table, con.confmatchtype as match,
            array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i) as child_columns,
            array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i) as parent_columns
       from pg_constraint con
       join pg_class cc on cc.oid = con.conrelid join pg_namespace cn on cn.oid = cc.relnamespace
       join pg_class pc on pc.oid = con.confrelid join pg_namespace pn on pn.oid = pc.relnamespace
      where con.contype = 'f' and con.conrelid in (${tables.map(() => 'to_regclass(?)').join(', ')})`,
    tables,
    'all',
    ctx,
  );
  for (const key of keys) {
    const child = key.child_columns.map(c => `c.${q(c)}`);
    const matches = key.child_columns.map((c, i) => `p.${q(key.parent_columns[i])} = c.${q(c)}`).join(' and ');
    const missing = `not exists (select 1 from ${q(key.parent_schema)}.${q(key.parent_table)} p where ${matches})`;
    // MATCH SIMPLE (the default) skips a row with any null key column; MATCH FULL only an all-null one
    const violation =
      key.match === 'f'
        ? `not (${child.map(c => `${c} is null`).join(' and ')}) and (${child.map(c => `${c} is null`).join(' or ')} or ${missing})`
        : `${child.map(c => `${c} is not null`).join(' and ')} and ${missing}`;
    const found = await connection.execute(`select 1 from ${q(key.child_schema)}.${q(key.child_table)} c where ${violation} limit 1`, [], 'all', ctx);
    if (found.length) throw new ForeignKeyViolated(`${key.child_table}(${key.child_columns.join(', ')})`);
  }
}

interface ForeignKeyRow {
  child_schema: string;
  child_table: string;
  parent_schema: string;
  parent_table: string;
  match: string;
  child_columns: string[];
  parent_columns: string[];
}

async function copyFixtures(em: SqlEntityManager, input: FixtureInput, options: CopyPersistOptions): Promise<LoadFixturesResult> {
  // checked before the copy: inside the input's generator the error would arrive as SOURCE_FAILED
  for (const item of Array.isArray(input) ? input : [input]) if (isFactoryFixture(item)) checkedCount('loadFixtures', 'count', item.count, 0);
  if (isFactoryFixture(input)) return summary(await copyPersist(em, made(input), options));
  if (Array.isArray(input)) {
    const source = input.some(isFactoryFixture) ? expand(input) : input;
    return summary(await copyPersist(em, source, options));
  }
  const byName = input as Record<string, ReadonlyArray<Record<string, unknown>>>;
  const rowsOf = new Map<EntityMetadata, ReadonlyArray<Record<string, unknown>>>();
  for (const [name, rows] of Object.entries(byName)) rowsOf.set(entityByName(em, name), rows);
  const result: LoadFixturesResult = { rows: 0, byEntity: {} };
  for (const meta of referencedFirst([...rowsOf.keys()])) {
    const rows = rowsOf.get(meta)!;
    if (!rows.length) continue;
    const copied = await copyPersist(em, meta.class, rows, options);
    result.rows += copied.rows;
    for (const [name, n] of Object.entries(copied.byEntity)) result.byEntity[name] = (result.byEntity[name] ?? 0) + n;
  }
  return result;
}

const INTEGER_COLUMN = /^(int[248]?|integer|smallint|bigint|(small|big)?serial[248]?)$/i;

/**
 * Moves the sequence behind each table's integer primary key past the highest key in the table,
 * as Rails does after loading PostgreSQL fixtures: rows with explicit keys leave the sequence
 * where it was, and the next flush would collide with them. Only ever moves a sequence forward.
 * (Sequences are not transactional: a rollback does not move them back.)
 */
async function advanceSequences(em: SqlEntityManager, metas: readonly EntityMetadata[]): Promise<void> {
  const connection = em.getConnection();
  const platform = em.getPlatform();
  const roots = new Set(metas.map(meta => meta.root ?? meta));
  for (const meta of roots) {
    if (meta.primaryKeys.length !== 1) continue;
    const pk = meta.properties[meta.primaryKeys[0]];
    if (pk.fieldNames?.length !== 1 || !INTEGER_COLUMN.test(pk.columnTypes?.[0] ?? '')) continue;
    const column = pk.fieldNames[0];
    // pg_get_serial_sequence parses its first argument as a (quoted) name and takes the column literally
    await connection.execute(
      `select setval(s.seq, s.max_key) from (
         select pg_get_serial_sequence(?, ?) as seq, (select max(${platform.quoteIdentifier(column)}) from ${quotedTable(em, meta.root)}) as max_key
       ) s
       where s.seq is not null and s.max_key >= coalesce(pg_sequence_last_value(s.seq::regclass), 1)`,
      [quotedTable(em, meta.root), column],
      'run',
      em.getTransactionContext(),
    );
  }
}

/**
 * Empties the tables of the given entities, or of every entity of the ORM (pivot tables
 * included), with one `TRUNCATE ... RESTART IDENTITY CASCADE`: sequences start over, and tables
 * referencing the truncated ones are emptied too. Runs in `em`'s transaction when it has one.
 * Returns the tables truncated, quoted and schema-qualified.
 *
 * @example
 * ```ts
 * import { truncateEntities } from 'mikro-orm-pg-copy';
 *
 * beforeEach(() => truncateEntities(orm.em));            // every table
 * await truncateEntities(orm.em, [Book, 'Author']);     // just these (and what references them)
 * ```
 */
export async function truncateEntities(em: SqlEntityManager, entities?: ReadonlyArray<EntityName<object> | string>): Promise<string[]> {
  const metas = entities
    ? entities.map(e => (typeof e === 'string' ? entityByName(em, e) : metaOf(em, e)))
    : mikroOrm.allMetadata(em.getMetadata()).filter(meta => !meta.embeddable && !meta.virtual && !meta.expression && !!meta.tableName && !(meta.abstract && !meta.discriminatorColumn));
  const tables = new Set<string>();
  for (const meta of metas) {
    if (meta.embeddable || meta.virtual || meta.expression) {
      throw notTableBacked(meta.className);
    }
    tables.add(quotedTable(em, meta.root));
  }
  if (!tables.size) return [];
  const list = [...tables];
  await em.getConnection().execute(`truncate table ${list.join(', ')} restart identity cascade`, [], 'run', em.getTransactionContext());
  return list;
}

function isFactoryFixture(value: unknown): value is FactoryFixture<object, unknown> {
  const factory = (value as { factory?: { makeEntity?: unknown } } | null)?.factory;
  return typeof factory?.makeEntity === 'function' && typeof (value as { count?: unknown }).count === 'number';
}

function* made(fixture: FactoryFixture<object, unknown>): Generator<object> {
  const { factory, count, overrides } = fixture;
  for (let i = 0; i < count; i++) {
    yield factory.makeEntity(typeof overrides === 'function' ? (overrides as (index: number) => unknown)(i) : overrides, i);
  }
}

function* expand(items: ReadonlyArray<unknown>): Generator<object> {
  for (const item of items) {
    if (isFactoryFixture(item)) yield* made(item);
    else yield item as object;
  }
}

function summary(result: CopyPersistResult): LoadFixturesResult {
  return { rows: result.rows, byEntity: result.byEntity };
}

function metaOf(em: SqlEntityManager, entity: EntityName<object>): EntityMetadata {
  const meta = em.getMetadata().find(entity);
  if (!meta) throw notRegistered(String((entity as { name?: string }).name ?? entity));
  return meta as EntityMetadata;
}

function findEntity(em: SqlEntityManager, name: string): EntityMetadata | undefined {
  const metas = mikroOrm.allMetadata(em.getMetadata());
  const meta = metas.find(m => m.className === name) ?? metas.find(m => m.name === name);
  return meta && !meta.embeddable ? meta : undefined;
}

/** Resolves a class name (or MikroORM's entity `name`) among the ORM's entities. Internal: also used by loadFile. */
export function entityByName(em: SqlEntityManager, name: string): EntityMetadata {
  const meta = findEntity(em, name);
  if (!meta) {
    const metas = mikroOrm.allMetadata(em.getMetadata());
    throw noEntityNamed(name, metas.filter(m => !m.embeddable && !m.pivotTable).map(m => m.className).sort());
  }
  return meta;
}

/**
 * The entities in the one table order (`orderTables`): the targets of owning to-one relations
 * first, and the targets of owning many-to-many relations (whose pivot rows are written with the
 * owner's rows) where that closes no cycle; entities sharing a table (single-table inheritance)
 * keep their input order. Self-references are the rows' own order to get right.
 */
function referencedFirst(metas: readonly EntityMetadata[]): EntityMetadata[] {
  const edges: TableEdge[] = [];
  for (const meta of metas) {
    for (const prop of meta.relations) {
      if (!prop.targetMeta) continue;
      // a many-to-many target is wanted first, never needed first: like a nullable key
      if (isOwningToOne(prop)) edges.push({ from: meta.root, to: prop.targetMeta.root, nullable: !!prop.nullable, via: prop.name });
      else if (prop.kind === ReferenceKind.MANY_TO_MANY && prop.owner) edges.push({ from: meta.root, to: prop.targetMeta.root, nullable: true, via: prop.name });
    }
  }
  const order = orderTables(new Set(metas.map(meta => meta.root)), edges);
  return [...metas].sort((a, b) => order.get(a.root)! - order.get(b.root)!);
}
