// MikroORM 7: Kysely underneath, a `pg` Pool it manages itself, metadata in a Map, and a flush
// that applies runtime defaults and type-checks scalars before inserting.
//
// This file is compiled against MikroORM 6's declarations too (`npm run typecheck`), so what only
// 7 has is read through the small structural types below rather than through 7's own.
import * as core from '@mikro-orm/core';
import type { Configuration, Connection, EntityManager, EntityMetadata, EntityProperty, MetadataStorage } from '@mikro-orm/core';
import { PostgreSqlConnection } from '@mikro-orm/postgresql';
import { unknownTransactionContext } from '../errors.js';
import type { ConfigurationLoader, MikroOrmVersion, OrmWithSchema, Submittable } from './mikro-orm-version.js';
import { discardIfStranded, rememberWireConnection, watchPool } from './pool-repair.js';

/** The Kysely transaction MikroORM 7 keeps as the transaction context. */
interface KyselyTransaction {
  getExecutor(): {
    provideConnection<T>(consumer: (connection: KyselyConnection) => Promise<T>): Promise<T>;
  };
}

interface KyselyConnection {
  executeQuery(query: { sql: unknown; parameters: readonly unknown[]; query: unknown; queryId: unknown }): Promise<unknown>;
}

/** What MikroORM 7 adds to `EntityMetadata`. */
interface Metadata7 {
  inheritanceType?: 'sti' | 'tpt';
  validateProps?: EntityProperty[];
  ownsVersionProperty(): boolean;
}

/** What MikroORM 7 adds to `EntityProperty`. */
interface Property7 {
  polymorphic?: boolean;
  targetKey?: string;
  returning?: boolean;
}

/** MikroORM 7's SQL driver methods that say what flush's batch UPDATE returns (protected there). */
interface Driver7 {
  getUpdateReturningProperties(meta: EntityMetadata, data: Record<string, unknown>[]): EntityProperty[];
  getReturningFieldSQL(prop: EntityProperty, field: string, index: number): string;
}

/** `@mikro-orm/core` exports of 7 only: read from the namespace, as 6's has no such binding. */
const core7 = core as typeof core & { isRaw?: (value: unknown) => boolean };

function isKyselyTransaction(trx: unknown): trx is KyselyTransaction {
  return typeof (trx as KyselyTransaction | null)?.getExecutor === 'function';
}

function meta7(meta: EntityMetadata): EntityMetadata & Partial<Metadata7> {
  return meta as EntityMetadata & Partial<Metadata7>;
}

function prop7(prop: EntityProperty): EntityProperty & Property7 {
  return prop as EntityProperty & Property7;
}

export const mikroOrm7: MikroOrmVersion = {
  major: 7,

  isInstalled() {
    const connection = PostgreSqlConnection.prototype as PostgreSqlConnection & { createKyselyDialect?: unknown };
    return typeof connection.createKyselyDialect === 'function' && typeof core7.isRaw === 'function';
  },

  /**
   * Kysely's transaction does not expose its `pg` client, but its executor lends the
   * transaction's connection exclusively to one consumer at a time, and `pg` runs any object with
   * a `submit()` method as a query. So the COPY stream goes through Kysely's own connection.
   */
  withTransactionConnection<T>(trx: unknown, work: (submit: (query: Submittable) => void) => Promise<T>): Promise<T> {
    if (!isKyselyTransaction(trx)) throw unknownTransactionContext();
    return trx.getExecutor().provideConnection(connection =>
      work(query => {
        rememberWireConnection(trx, query);
        // Kysely awaits `client.query(sql)`, which for a submittable returns the object itself at
        // once; failures of the COPY arrive on the stream, so this promise carries nothing.
        connection
          .executeQuery({ sql: query, parameters: [], query: { kind: 'RawNode', sqlFragments: [], parameters: [] }, queryId: { queryId: 'mikro-orm-pg-copy' } })
          .catch(() => undefined);
      }),
    );
  },

  // a Kysely bound to one pool connection (`db.connection()`): its executor lends that connection
  // as a transaction's does
  withPooledConnection<T>(connection: Connection, work: (context: unknown) => Promise<T>): Promise<T> {
    const kysely = (connection as Connection & { getClient?(): { connection?(): { execute<R>(work: (db: unknown) => Promise<R>): Promise<R> } } }).getClient?.();
    if (typeof kysely?.connection !== 'function') throw unknownTransactionContext();
    return kysely.connection().execute(work);
  },

  watchPool(connection: Connection) {
    // the `pg` Pool is `getNativeClient()` of 7's SQL connection, not of core's `Connection`
    return watchPool(connection as Connection & { getNativeClient?: () => Promise<unknown> });
  },

  discardIfStranded,

  isRawSql(value: unknown) {
    return core7.isRaw!(value);
  },

  appliesRuntimeDefaults: true,
  initializesEmbeddedArrayItems: true,

  propsValidatedOnInsert<T>(meta: EntityMetadata<T>) {
    return (meta7(meta as EntityMetadata).validateProps ?? []) as EntityProperty<T>[];
  },

  scalarRuntimeTypes: new Set(core.SCALAR_TYPES),

  initializesNullableProperties(config: Configuration) {
    // `initNullableProperties` is an option 6's `Configuration` does not know
    return !!(config as { get(key: string): unknown }).get('initNullableProperties');
  },

  allMetadata(storage: MetadataStorage) {
    // a Map in 7 (6's declarations say a dictionary)
    return [...(storage.getAll() as unknown as Map<unknown, EntityMetadata>).values()];
  },

  isTablePerType(meta: EntityMetadata) {
    return meta7(meta).inheritanceType === 'tpt';
  },

  isPolymorphic(prop: EntityProperty) {
    return !!prop7(prop).polymorphic;
  },

  targetKeyOf(prop: EntityProperty) {
    return prop7(prop).targetKey;
  },

  ownsVersionProperty(meta: EntityMetadata) {
    return meta7(meta).ownsVersionProperty!();
  },

  returnedOnInsert(prop: EntityProperty) {
    return !!prop7(prop).returning;
  },

  updateReturning(driver: object, meta: EntityMetadata, data: Record<string, unknown>[]) {
    const d = driver as Driver7;
    return d.getUpdateReturningProperties(meta, data).flatMap(prop => prop.fieldNames.map((field, i) => d.getReturningFieldSQL(prop, field, i)));
  },

  mapResultRow(em: EntityManager, meta: EntityMetadata, row: Record<string, unknown>) {
    // 7's comparator names the entity by its metadata
    const comparator = em.getComparator() as unknown as { mapResult(meta: EntityMetadata, row: Record<string, unknown>): Record<string, unknown> };
    return comparator.mapResult(meta, row);
  },

  createSchema(orm: OrmWithSchema) {
    return (orm.schema as { create(): Promise<void> }).create();
  },

  async configurationLoader(): Promise<ConfigurationLoader> {
    // a specifier in a variable: @mikro-orm/cli is an optional peer dependency
    const name = '@mikro-orm/cli';
    const cli = (await import(name)) as { CLIHelper: { getConfiguration: ConfigurationLoader } };
    return (contextName, paths, options) => cli.CLIHelper.getConfiguration(contextName, paths, options);
  },
};
