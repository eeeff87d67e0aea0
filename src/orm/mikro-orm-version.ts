// Everything the rest of src/ needs from MikroORM that differs between its majors, as one
// interface. Each supported major implements it in a file of its own (mikro-orm-6.ts,
// mikro-orm-7.ts); index.ts picks the installed one once. Supporting another major means one more
// implementation, not a new branch at every call site.
import type { Configuration, Connection, EntityManager, EntityMetadata, EntityProperty, MetadataStorage } from '@mikro-orm/core';
import type { WatchedPool } from './pool-repair.js';

/** A query object that `pg`'s Client runs as is: pg-copy-streams' COPY stream is one. */
export interface Submittable {
  submit(connection: unknown): void;
}

/** A MikroORM `Configuration` as both majors shape it, for the CLI's config loading. */
export interface LoadedConfiguration {
  getAll(): object;
}

/** MikroORM's own config loading: what `npx mikro-orm` runs to find the project's config. */
export type ConfigurationLoader = (contextName: string, paths?: string[], options?: object) => Promise<LoadedConfiguration>;

/** What a schema generator call needs of an ORM: its `schema` (the generator). */
export interface OrmWithSchema {
  readonly schema: unknown;
}

/** One MikroORM major, as this package uses it. Members never use `this`: they may be taken off. */
export interface MikroOrmVersion {
  /** The major version this implementation speaks for. */
  readonly major: number;

  /**
   * Whether the installed MikroORM is this major, decided by the features this implementation
   * relies on (what runs underneath: knex or Kysely), not by a version string.
   */
  isInstalled(): boolean;

  // --- the transaction's connection ---

  /**
   * Runs `work` holding the `pg` connection of the transaction context `trx`; `submit` hands a
   * query object to that connection's queue, and no other query of the transaction can interleave
   * until `work` settles. Throws `INTERNAL` for a context this major does not make.
   */
  withTransactionConnection<T>(trx: unknown, work: (submit: (query: Submittable) => void) => Promise<T>): Promise<T>;

  /**
   * Runs `work` on one connection of `connection`'s pool, outside any transaction; `work` gets a
   * context that `withTransactionConnection` takes like a transaction's. The connection goes back
   * to the pool afterwards (discarded by the pool if it died meanwhile).
   */
  withPooledConnection<T>(connection: Connection, work: (context: unknown) => Promise<T>): Promise<T>;

  /** Starts tracking the clients checked out of `connection`'s pool, where a stranded one can occur. */
  watchPool(connection: Connection): Promise<WatchedPool | undefined>;

  /**
   * After a failed own transaction `trx`: if it could neither commit nor roll back (the backend
   * died), hand the `pg` client its COPY ran on back to the pool as broken, so the slot is freed.
   */
  discardIfStranded(pool: WatchedPool | undefined, trx: unknown, cause: Error): void;

  // --- values ---

  /** Whether `value` is MikroORM's raw SQL (`raw()`, `sql`...), which COPY cannot evaluate. */
  isRawSql(value: unknown): boolean;

  // --- what flush does to a new entity ---

  /** Whether flush assigns a property's scalar `default` to an undefined value at runtime. */
  readonly appliesRuntimeDefaults: boolean;

  /**
   * Whether flush runs initializers on every item of an array of embeddables (rather than on the
   * array itself, which gives its items none).
   */
  readonly initializesEmbeddedArrayItems: boolean;

  /** The properties whose runtime type flush checks before every insert (`validateEntity`). */
  propsValidatedOnInsert<T>(meta: EntityMetadata<T>): EntityProperty<T>[];

  /** The runtime types those checks compare values against (`SCALAR_TYPES`). */
  readonly scalarRuntimeTypes: ReadonlySet<string>;

  /** Whether `em.create` sets every nullable property to null (`initNullableProperties`). */
  initializesNullableProperties(config: Configuration): boolean;

  // --- metadata ---

  /** Every entity's metadata the ORM discovered (embeddables and pivot entities included). */
  allMetadata(storage: MetadataStorage): EntityMetadata[];

  /** Table-per-type inheritance: an entity whose rows span several tables. */
  isTablePerType(meta: EntityMetadata): boolean;

  /** A relation whose target class is chosen per row by a discriminator. */
  isPolymorphic(prop: EntityProperty): boolean;

  /** The non-primary key a relation references (`targetKey`), if any. */
  targetKeyOf(prop: EntityProperty): string | undefined;

  /** Whether an UPDATE of this entity's table bumps the version column. */
  ownsVersionProperty(meta: EntityMetadata): boolean;

  /** Whether flush's INSERT returns this property whatever the payload holds (`returning: true`). */
  returnedOnInsert(prop: EntityProperty): boolean;

  /** The columns flush's batch UPDATE returns, as SQL for its `returning` clause. */
  updateReturning(driver: object, meta: EntityMetadata, data: Record<string, unknown>[], quote: (id: string) => string): string[];

  /**
   * A result row keyed by column → values by property, converted as hydration converts them
   * (the version or defaults the database filled in).
   */
  mapResultRow(em: EntityManager, meta: EntityMetadata, row: Record<string, unknown>): Record<string, unknown>;

  // --- the ORM around the EntityManager ---

  /** Creates the tables of the ORM's entities with MikroORM's schema generator. */
  createSchema(orm: OrmWithSchema): Promise<void>;

  /**
   * MikroORM's config loading, as its CLI does it. Rejects with the import's error when the
   * package that does it is not installed (MikroORM 7: the optional peer `@mikro-orm/cli`).
   */
  configurationLoader(): Promise<ConfigurationLoader>;
}
