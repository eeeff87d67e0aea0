// Primary keys back on the entities, as after flush: serial, bigserial and identity keys take
// values reserved from the column's own sequence (one round trip per chunk), which then travel in
// the COPY like any other column. Sequences never hand out a value twice, so reserved keys cannot
// collide with concurrent inserts, and later ordinary INSERTs continue after them.
import { helper, type AnyEntity, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';

const INT4_COLUMN = /^(int|integer|int4|serial|serial4|smallint|int2|smallserial|serial2)\b/i;

interface KeyTarget {
  prop: EntityProperty;
  /** `nextval(...)` of the column's sequence, or undefined when the column has none. */
  nextval: string | undefined;
}

/** Reserves and assigns generated primary keys for entities that have none. */
export class KeyAssigner {
  readonly #platform: Platform;
  readonly #session: CopySession;
  readonly #targets = new Map<EntityPlan, KeyTarget | null>();

  constructor(em: SqlEntityManager, session: CopySession) {
    this.#platform = em.getPlatform();
    this.#session = session;
  }

  /** Gives every entity of the chunk that lacks a database-generated primary key one from its sequence. */
  async assign(entries: readonly { plan: EntityPlan; entity: AnyEntity }[]): Promise<void> {
    const pending = new Map<EntityPlan, AnyEntity[]>();
    for (const { plan, entity } of entries) {
      const prop = keyProp(plan);
      if (!prop || entity[prop.name] != null) continue;
      let list = pending.get(plan);
      if (!list) pending.set(plan, (list = []));
      list.push(entity);
    }
    for (const [plan, entities] of pending) {
      const target = await this.#targetOf(plan);
      if (!target?.nextval) continue;
      // as text, so that bigint keys keep every digit
      const { rows } = await this.#session.query(`select ${target.nextval}::text as id from generate_series(1, ${entities.length})`);
      for (let i = 0; i < entities.length; i++) setGeneratedKey(this.#platform, target.prop, entities[i], rows[i].id as string);
    }
  }

  async #targetOf(plan: EntityPlan): Promise<KeyTarget | null> {
    if (this.#targets.has(plan)) return this.#targets.get(plan)!;
    const prop = keyProp(plan)!;
    // the table name is the platform-quoted identifier, passed as a string literal to PostgreSQL
    const table = this.#platform.quoteValue(plan.table) as string;
    const column = this.#platform.quoteValue(prop.fieldNames[0]) as string;
    const { rows } = await this.#session.query(`select pg_get_serial_sequence(${table}, ${column}) as sequence`);
    const sequence = rows[0]?.sequence as string | null;
    const target: KeyTarget = { prop, nextval: sequence ? `nextval(${this.#platform.quoteValue(sequence) as string}::regclass)` : undefined };
    this.#targets.set(plan, target);
    return target;
  }
}

/** The single autoincrement primary key of an entity, if it has one. */
function keyProp(plan: EntityPlan): EntityProperty | undefined {
  const meta = plan.meta.root;
  if (meta.primaryKeys.length !== 1) return undefined;
  const prop = meta.properties[meta.primaryKeys[0]];
  return prop?.autoincrement && prop.fieldNames.length === 1 ? prop : undefined;
}

/**
 * As flush's `mapPrimaryKey`: the value `pg` would return for the column, through the custom type.
 * `replace` overwrites a key already set (an upserted row that kept its existing key).
 */
export function setGeneratedKey(platform: Platform, prop: EntityProperty, entity: AnyEntity, text: string, replace = false): void {
  // `pg` returns int2/int4 as numbers and int8 as strings
  const raw: string | number = INT4_COLUMN.test(prop.columnTypes?.[0] ?? '') ? Number(text) : text;
  const value = prop.customType ? prop.customType.convertToJSValue(raw, platform) : raw;
  if (replace) entity[prop.name] = value;
  else helper(entity).setPrimaryKey(value);
}
