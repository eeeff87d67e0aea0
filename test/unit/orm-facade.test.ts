// The MikroORM facade (src/orm/), with no database: the implementation chosen is the installed
// MikroORM's, its answers are those the probes it replaced gave (kept below, as they were), and
// each implementation routes a COPY to its own kind of transaction only. Runs once per MikroORM
// version, like every suite.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import * as core from '@mikro-orm/core';
import { ChangeSetComputer, ChangeSetType, ReferenceKind, Utils, raw, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyPersistError } from '../../src/errors.js';
import { mikroOrm, supportedVersions, type Submittable } from '../../src/orm/index.js';
import { mikroOrm6 } from '../../src/orm/mikro-orm-6.js';
import { mikroOrm7 } from '../../src/orm/mikro-orm-7.js';
import { MIKRO_ORM_VERSION } from '../support/orm.js';

class Author {
  id!: number;
  name!: string;
  version!: number;
}

class Tag {
  id!: number;
  label?: string;
}

const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: { id: { type: 'integer', primary: true }, name: { type: 'string' }, version: { type: 'integer', version: true } },
});
const TagSchema = new EntitySchema<Tag>({
  class: Tag,
  properties: { id: { type: 'integer', primary: true }, label: { type: 'string', nullable: true, default: 'none' } },
});

// --- the probes src/ used before the facade, verbatim but for names -----------------------------

/** insert-payload.ts asked MikroORM's own `processPropertyInitializers` with a probe property. */
function oldAppliesRuntimeDefaults(): boolean {
  const computer = ChangeSetComputer.prototype as unknown as {
    processPropertyInitializers?(entity: object, prop: Partial<EntityProperty>, type: ChangeSetType, map: Map<object, unknown>): void;
  };
  const probe: { value?: unknown } = {};
  try {
    computer.processPropertyInitializers?.call(Object.create(ChangeSetComputer.prototype), probe, { name: 'value', kind: ReferenceKind.SCALAR, default: 1 }, ChangeSetType.CREATE, new Map());
  } catch {
    probe.value = 1;
  }
  return probe.value === 1 || !computer.processPropertyInitializers;
}

function oldIsRawSql(value: unknown): boolean {
  const c = core as unknown as { isRaw?: (v: unknown) => boolean; RawQueryFragment?: new (...args: never[]) => unknown };
  if (c.isRaw) return c.isRaw(value);
  return !!c.RawQueryFragment && value instanceof c.RawQueryFragment;
}

function oldAllMetadata(orm: MikroORM): EntityMetadata[] {
  const all: unknown = orm.em.getMetadata().getAll();
  return all instanceof Map ? [...(all as Map<unknown, EntityMetadata>).values()] : Object.values(all as Record<string, EntityMetadata>);
}

function oldMapResultRow(orm: MikroORM, meta: EntityMetadata, row: Record<string, unknown>): Record<string, unknown> {
  const comparator = orm.em.getComparator() as unknown as { mapResult(entity: EntityMetadata | string, row: Record<string, unknown>): Record<string, unknown> };
  return comparator.mapResult(Utils.getORMVersion().startsWith('6.') ? meta.className : meta, row);
}

interface OldMeta {
  ownsVersionProperty?: () => boolean;
  inheritanceType?: string;
  validateProps?: EntityProperty[];
}

function oldOwnsVersion(meta: EntityMetadata): boolean {
  const m = meta as EntityMetadata & OldMeta;
  return typeof m.ownsVersionProperty === 'function' ? m.ownsVersionProperty() : !!meta.versionProperty;
}

function oldUpdateReturning(driver: object, meta: EntityMetadata, data: Record<string, unknown>[], quote: (id: string) => string): string[] {
  const d = driver as {
    getUpdateReturningProperties?(meta: EntityMetadata, data: Record<string, unknown>[]): EntityProperty[];
    getReturningFieldSQL?(prop: EntityProperty, field: string, index: number): string;
  };
  if (d.getUpdateReturningProperties && d.getReturningFieldSQL) {
    return d.getUpdateReturningProperties(meta, data).flatMap(prop => prop.fieldNames.map((field, i) => d.getReturningFieldSQL!(prop, field, i)));
  }
  return meta.props.filter(prop => prop.generated || prop.version || prop.primary).flatMap(prop => prop.fieldNames.map(quote));
}

// ------------------------------------------------------------------------------------------------

describe('the MikroORM facade', () => {
  let orm: MikroORM;
  let author: EntityMetadata;
  let tag: EntityMetadata;

  before(async () => {
    // never connects: metadata, the comparator and the driver's SQL helpers are all it needs
    orm = await MikroORM.init({
      clientUrl: 'postgres://nobody@127.0.0.1:1/none',
      entities: [AuthorSchema, TagSchema],
      connect: false,
      allowGlobalContext: true,
    } as Options);
    author = orm.getMetadata().find(Author)! as EntityMetadata;
    tag = orm.getMetadata().find(Tag)! as EntityMetadata;
  });

  after(async () => {
    await orm.close(true);
  });

  test('the implementation chosen is the installed MikroORM, and only it says it is installed', () => {
    const installed = supportedVersions.filter(v => v.isInstalled());
    assert.deepEqual(installed.map(v => v.major), [MIKRO_ORM_VERSION]);
    assert.equal(mikroOrm, installed[0]);
    assert.equal(mikroOrm.major, Number(Utils.getORMVersion().split('.')[0]));
  });

  test('runtime defaults and embedded-array initializers: on 7, not on 6, as the ChangeSetComputer probe said', () => {
    assert.equal(mikroOrm.appliesRuntimeDefaults, oldAppliesRuntimeDefaults());
    assert.equal(mikroOrm.appliesRuntimeDefaults, MIKRO_ORM_VERSION === 7);
    // the recursion into array items changed in the same release
    assert.equal(mikroOrm.initializesEmbeddedArrayItems, mikroOrm.appliesRuntimeDefaults);
  });

  test('raw SQL is recognised as before: raw() fragments, not strings, objects or null', () => {
    for (const [i, value] of [raw('now()'), 'now()', { sql: 'now()' }, null, undefined, 1].entries()) {
      assert.equal(mikroOrm.isRawSql(value), oldIsRawSql(value), `value ${i}`);
    }
    assert.equal(mikroOrm.isRawSql(raw('now()')), true);
    assert.equal(mikroOrm.isRawSql('now()'), false);
  });

  test('every entity is listed, as from a Map (7) or a dictionary (6)', () => {
    const names = (metas: EntityMetadata[]) => metas.map(m => m.className).sort();
    assert.deepEqual(names(mikroOrm.allMetadata(orm.getMetadata())), names(oldAllMetadata(orm)));
    assert.ok(names(mikroOrm.allMetadata(orm.getMetadata())).includes('Author'));
  });

  test('validation facts: the props validated on insert and the runtime types, as before', () => {
    for (const meta of [author, tag]) {
      const old = (meta as EntityMetadata & OldMeta).validateProps ?? [];
      assert.deepEqual(mikroOrm.propsValidatedOnInsert(meta), old);
    }
    // MikroORM 7 checks the scalars' runtime types; 6 checks none
    assert.equal(mikroOrm.propsValidatedOnInsert(author).length > 0, MIKRO_ORM_VERSION === 7);
    assert.deepEqual([...mikroOrm.scalarRuntimeTypes].sort(), [...new Set(core.SCALAR_TYPES)].sort());
    assert.ok(mikroOrm.scalarRuntimeTypes.has('string') && mikroOrm.scalarRuntimeTypes.has('Date'));
  });

  test('version ownership, table-per-type and relation facts, as the casts read them', () => {
    assert.equal(mikroOrm.ownsVersionProperty(author), oldOwnsVersion(author));
    assert.equal(mikroOrm.ownsVersionProperty(author), true);
    assert.equal(mikroOrm.ownsVersionProperty(tag), false);
    for (const meta of [author, tag]) {
      assert.equal(mikroOrm.isTablePerType(meta), (meta as EntityMetadata & OldMeta).inheritanceType === 'tpt');
      for (const prop of meta.props) {
        const extended = prop as EntityProperty & { polymorphic?: boolean; targetKey?: string; returning?: boolean };
        assert.equal(mikroOrm.isPolymorphic(prop), !!extended.polymorphic);
        assert.equal(mikroOrm.targetKeyOf(prop), extended.targetKey);
        assert.equal(mikroOrm.returnedOnInsert(prop), MIKRO_ORM_VERSION === 7 && !!extended.returning);
      }
    }
  });

  test("flush's UPDATE returns the columns it returned before", () => {
    const quote = (id: string) => orm.em.getPlatform().quoteIdentifier(id);
    const data = [{ name: 'x' }];
    const returned = mikroOrm.updateReturning(orm.em.getDriver(), author, data, quote);
    assert.deepEqual(returned, oldUpdateReturning(orm.em.getDriver(), author, data, quote));
    assert.ok(returned.some(sql => sql.includes('"version"')), returned.join(', '));
  });

  test('a result row is mapped to property values as hydration maps it', () => {
    const row = { id: 1, name: 'Ann', version: 3 };
    const mapped = mikroOrm.mapResultRow(orm.em, author, row);
    assert.deepEqual(mapped, oldMapResultRow(orm, author, row));
    assert.deepEqual({ ...mapped }, { id: 1, name: 'Ann', version: 3 });
  });

  test('initNullableProperties is off by default on both, and read on 7', async () => {
    assert.equal(mikroOrm.initializesNullableProperties(orm.config), false);
    const other = await MikroORM.init({
      clientUrl: 'postgres://nobody@127.0.0.1:1/none',
      entities: [AuthorSchema, TagSchema],
      connect: false,
      initNullableProperties: true,
    } as Options);
    try {
      assert.equal(mikroOrm.initializesNullableProperties(other.config), MIKRO_ORM_VERSION === 7);
    } finally {
      await other.close(true);
    }
  });

  test('the schema is created through the method the installed generator has', async () => {
    const called: string[] = [];
    const generator = { create: async () => void called.push('create'), createSchema: async () => void called.push('createSchema') };
    await mikroOrm.createSchema({ schema: generator });
    assert.equal(called.length, 1);
    assert.equal(typeof (orm.schema as unknown as Record<string, unknown>)[called[0]], 'function', `the real generator has ${called[0]}()`);
  });

  test("MikroORM's config loader is found", async () => {
    assert.equal(typeof (await mikroOrm.configurationLoader()), 'function');
  });
});

describe('each implementation routes a COPY to its own kind of transaction', () => {
  const query = (): Submittable & { submitted: unknown[] } => {
    const q = { submitted: [] as unknown[], submit: (connection: unknown) => void q.submitted.push(connection) };
    return q;
  };

  /** A Kysely transaction whose executor lends `wire` (a pg connection) to one consumer. */
  const kyselyTransaction = (wire: object, executed: unknown[]) => ({
    isCommitted: false,
    isRolledBack: false,
    getExecutor: () => ({
      provideConnection: <T>(consumer: (connection: { executeQuery(q: { sql: unknown }): Promise<unknown> }) => Promise<T>) =>
        consumer({
          executeQuery: async (q: { sql: unknown }) => {
            executed.push(q.sql);
            (q.sql as Submittable).submit(wire);
          },
        }),
    }),
  });

  const knexTransaction = (queried: unknown[]) => ({
    client: { acquireConnection: async () => ({ query: (q: unknown) => void queried.push(q) }) },
  });

  test("MikroORM 7's goes through the Kysely executor's connection", async () => {
    const executed: unknown[] = [];
    const wire = {};
    const q = query();
    const result = await mikroOrm7.withTransactionConnection(kyselyTransaction(wire, executed), async submit => {
      submit(q);
      return 'done';
    });
    assert.equal(result, 'done');
    assert.deepEqual(executed, [q]);
    assert.deepEqual(q.submitted, [wire]);
  });

  test("MikroORM 6's goes through the knex transaction's client", async () => {
    const queried: unknown[] = [];
    const q = query();
    await mikroOrm6.withTransactionConnection(knexTransaction(queried), async submit => submit(q));
    assert.deepEqual(queried, [q]);
  });

  test("neither takes the other's transaction, nor none", async () => {
    const internal = (e: unknown) => e instanceof CopyPersistError && e.code === 'INTERNAL';
    for (const trx of [knexTransaction([]), undefined, {}]) {
      await assert.rejects(async () => mikroOrm7.withTransactionConnection(trx, async () => undefined), internal);
    }
    for (const trx of [kyselyTransaction({}, []), undefined, {}]) {
      await assert.rejects(async () => mikroOrm6.withTransactionConnection(trx, async () => undefined), internal);
    }
  });

  test("MikroORM 7: a stranded transaction's client goes back to the pool as broken, and only it", async () => {
    const pool = new EventEmitter();
    const watched = await mikroOrm7.watchPool({ getNativeClient: async () => pool } as never);
    assert.equal(watched, pool);
    const wire = {};
    const released: unknown[] = [];
    const ours = { connection: wire, release: (e?: unknown) => void released.push(['ours', e]) };
    const other = { connection: {}, release: (e?: unknown) => void released.push(['other', e]) };
    pool.emit('acquire', other);
    pool.emit('acquire', ours);
    const trx = kyselyTransaction(wire, []);
    await mikroOrm7.withTransactionConnection(trx, async submit => submit(query()));
    const cause = new Error('connection terminated');
    // a transaction that ended (committed or rolled back) is left to Kysely
    trx.isRolledBack = true;
    mikroOrm7.discardIfStranded(watched, trx, cause);
    assert.deepEqual(released, []);
    trx.isRolledBack = false;
    mikroOrm7.discardIfStranded(watched, trx, cause);
    assert.deepEqual(released, [['ours', cause]]);
  });

  test('MikroORM 6 watches no pool: knex releases its connections itself', async () => {
    assert.equal(await mikroOrm6.watchPool({ getNativeClient: async () => new EventEmitter() } as never), undefined);
    assert.doesNotThrow(() => mikroOrm6.discardIfStranded(undefined, {}, new Error('x')));
  });
});
