// MikroORM 6: knex underneath (which hands out the transaction's own `pg` Client and releases it
// itself), metadata in a dictionary, raw SQL as `RawQueryFragment` instances, and a flush that
// leaves `default` values to the database and checks no runtime types.
//
// This file is compiled against MikroORM 7's declarations too (`npm test`, `npm run typecheck`),
// so what only 6 has is read through the small structural types below rather than through 6's own.
import * as core from '@mikro-orm/core';
import { RawQueryFragment, type Connection, type EntityManager, type EntityMetadata, type MetadataStorage } from '@mikro-orm/core';
import { PostgreSqlConnection } from '@mikro-orm/postgresql';
import { unknownTransactionContext } from '../errors.js';
import type { ConfigurationLoader, MikroOrmVersion, OrmWithSchema, Submittable } from './mikro-orm-version.js';

/** The knex transaction of MikroORM 6: its client hands out the transaction's own `pg` Client. */
/** knex as MikroORM 6's connection holds it: its pool hands out `pg` Clients. */
interface PooledKnex {
  client: { acquireConnection(): Promise<{ query(query: Submittable): unknown }>; releaseConnection(connection: unknown): Promise<unknown> };
}

interface KnexTransaction {
  client: { acquireConnection(): Promise<{ query(query: Submittable): unknown }> };
}

/** 6's config loading, in `@mikro-orm/core` (7 moved it to `@mikro-orm/cli`). */
interface ConfigurationLoader6 {
  getConfiguration: ConfigurationLoader;
  getConfigPaths(): string[];
}

/** `@mikro-orm/core` exports of 6 only: read from the namespace, as 7's has no such binding. */
const core6 = core as typeof core & { ConfigurationLoader?: Partial<ConfigurationLoader6> };

function isKnexTransaction(trx: unknown): trx is KnexTransaction {
  return typeof (trx as KnexTransaction | null)?.client?.acquireConnection === 'function';
}

export const mikroOrm6: MikroOrmVersion = {
  major: 6,

  isInstalled() {
    const connection = PostgreSqlConnection.prototype as PostgreSqlConnection & { getKnex?: unknown };
    return typeof connection.getKnex === 'function' && typeof core6.ConfigurationLoader?.getConfiguration === 'function';
  },

  async withTransactionConnection<T>(trx: unknown, work: (submit: (query: Submittable) => void) => Promise<T>): Promise<T> {
    if (!isKnexTransaction(trx)) throw unknownTransactionContext();
    const client = await trx.client.acquireConnection();
    return work(query => void client.query(query));
  },

  // knex's pooled `pg` Client, handed out as a knex transaction hands out its own
  async withPooledConnection<T>(connection: Connection, work: (context: unknown) => Promise<T>): Promise<T> {
    const knex = (connection as Connection & { getKnex?(): PooledKnex }).getKnex?.();
    if (!knex) throw unknownTransactionContext();
    const client = await knex.client.acquireConnection();
    try {
      return await work({ client: { acquireConnection: () => Promise.resolve(client) } } satisfies KnexTransaction);
    } finally {
      await knex.client.releaseConnection(client);
    }
  },

  // knex gives a transaction's connection back to its pool even when the ROLLBACK fails
  async watchPool() {
    return undefined;
  },
  discardIfStranded() {},

  isRawSql(value: unknown) {
    return value instanceof RawQueryFragment;
  },

  // 6 runs only `onCreate` (an undefined property with a `default` is left out of the INSERT, so a
  // JSON embeddable lacks the key), and recurses into `entity[prop.name]` itself, which for an
  // array of embeddables is the array, so its items get no initializers
  appliesRuntimeDefaults: false,
  initializesEmbeddedArrayItems: false,

  propsValidatedOnInsert() {
    return [];
  },

  // an array in 6; never consulted, as no property is validated on insert
  scalarRuntimeTypes: new Set(core.SCALAR_TYPES),

  initializesNullableProperties() {
    return false;
  },

  allMetadata(storage: MetadataStorage) {
    // a dictionary in 6 (7's declarations say a Map)
    return Object.values(storage.getAll() as unknown as Record<string, EntityMetadata>);
  },

  isTablePerType() {
    return false;
  },

  isPolymorphic() {
    return false;
  },

  targetKeyOf() {
    return undefined;
  },

  ownsVersionProperty(meta: EntityMetadata) {
    return !!meta.versionProperty;
  },

  returnedOnInsert() {
    return false;
  },

  updateReturning(_driver: object, meta: EntityMetadata, _data: Record<string, unknown>[], quote: (id: string) => string) {
    // what 6's `nativeUpdateMany` returns: primary keys, generated and version columns
    return meta.props.filter(prop => prop.generated || prop.version || prop.primary).flatMap(prop => prop.fieldNames.map(quote));
  },

  mapResultRow(em: EntityManager, meta: EntityMetadata, row: Record<string, unknown>) {
    // 6's comparator names the entity by its class name
    const comparator = em.getComparator() as unknown as { mapResult(entityName: string, row: Record<string, unknown>): Record<string, unknown> };
    return comparator.mapResult(meta.className, row);
  },

  createSchema(orm: OrmWithSchema) {
    return (orm.schema as { createSchema(): Promise<void> }).createSchema();
  },

  async configurationLoader(): Promise<ConfigurationLoader> {
    const loader = core6.ConfigurationLoader as ConfigurationLoader6;
    // 6 takes the search paths as a required argument to select its current signature
    return (contextName, paths, options) => loader.getConfiguration.call(loader, contextName, paths ?? loader.getConfigPaths(), options);
  },
};
