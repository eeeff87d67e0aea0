// Primary keys back on the entities, as after flush: serial, bigserial and identity keys take
// values reserved from the column's own sequence, which then travel in the COPY like any other
// column. Sequences never hand out a value twice, so reserved keys cannot collide with concurrent
// inserts, and later ordinary INSERTs continue after them.
//
// Each reservation ends the COPY in flight (one connection runs one statement at a time), and the
// client and the server then wait for each other. So reservations grow: the first covers the
// chunk, each later one twice the previous, up to MAX_BLOCK, and never more than the input has
// rows left when that is known (arrays). An iterable input may leave unused values behind: a gap
// in the sequence, as a rolled-back INSERT leaves one.
import { BigIntType, Utils, helper, type AnyEntity, type EntityMetadata, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { isRowView } from '../plan/row-view.js';

const INT4_COLUMN = /^(int|integer|int4|serial|serial4|smallint|int2|smallserial|serial2)\b/i;

const MAX_BLOCK = 100_000;

interface KeyTarget {
  prop: EntityProperty;
  /** The table and column as string literals, to find the column's sequence. */
  table: string;
  column: string;
  /** `nextval(...)` of the column's sequence; null when it has none, undefined until the first reservation. */
  nextval: string | null | undefined;
  /**
   * Reserved values as the server sent them, comma-separated; those from `next` (a character
   * offset) on are not handed out yet, `left` of them. Kept as one text rather than split into up
   * to MAX_BLOCK strings that would live until used and so reach V8's old generation.
   */
  reserved: string;
  next: number;
  left: number;
  /** Size of the last reservation. */
  block: number;
  /** `pg` returns the column as a number (int2, int4), not as a string. */
  asNumber: boolean;
  /** The entity's value of a key read as an exact number, where it does not need the text (`keyFromNumber`). */
  keyOf: ((key: number) => unknown) | undefined;
}

/** Reserves and assigns generated primary keys for entities that have none. */
export class KeyAssigner {
  readonly #platform: Platform;
  readonly #session: CopySession;
  readonly #targets = new Map<string, KeyTarget>();
  readonly #viewsKeyless: boolean;

  /**
   * `viewsKeyless`: rows read as views (plan/row-view.ts) get no reserved keys but the column's
   * default, the same values in the same order: for a call whose rows nothing else references
   * (one-statement.ts), where nobody could see a view's key, this saves the reservation's round trip.
   */
  constructor(em: SqlEntityManager, session: CopySession, viewsKeyless = false) {
    this.#platform = em.getPlatform();
    this.#session = session;
    this.#viewsKeyless = viewsKeyless;
  }

  /**
   * Gives every entity of the chunk (`encoders`: each one's encoder) that lacks a database-generated
   * primary key one from its sequence. `remaining` is how many input rows are left including this
   * chunk, when known.
   */
  async assign(chunk: readonly AnyEntity[], encoders: readonly { plan: EntityPlan }[], remaining?: number): Promise<void> {
    // by table, not by class: the subclasses of single-table inheritance share one sequence and
    // take its values in input order, as flush's one INSERT per table does
    const pending = new Map<string, { plan: EntityPlan; entities: AnyEntity[] }>();
    // indexed loops, here and below: a for-of in this async function made an object per row
    for (let i = 0; i < chunk.length; i++) {
      const entity = chunk[i];
      const plan = encoders[i].plan;
      const prop = generatedKeyOf(plan.meta);
      if (!prop || entity[prop.name] != null || (this.#viewsKeyless && isRowView(entity))) continue;
      let group = pending.get(plan.table);
      if (!group) pending.set(plan.table, (group = { plan, entities: [] }));
      group.entities.push(entity);
    }
    for (const { plan, entities } of pending.values()) {
      const target = this.#targetOf(plan);
      if (target.nextval === null) continue;
      const available = target.left;
      if (available < entities.length) {
        const wanted = Math.min(Math.max(entities.length - available, target.block * 2), MAX_BLOCK, remaining ?? Infinity);
        await this.#reserve(target, Math.max(wanted, entities.length - available));
        // no sequence of its own (a default that names another table's): the database's default applies
        if (target.nextval === null) continue;
      }
      const reserved = target.reserved;
      for (let i = 0; i < entities.length; i++) {
        const comma = reserved.indexOf(',', target.next);
        const end = comma === -1 ? reserved.length : comma;
        // a key of up to 15 digits is read as a number, without a string per row
        const key = target.keyOf && end - target.next <= 15 ? target.keyOf(decimalAt(reserved, target.next, end)) : undefined;
        if (key !== undefined) putKey(entities[i], target.prop, key, false);
        else setGeneratedKey(this.#platform, target.prop, entities[i], reserved.slice(target.next, end), false, target.asNumber);
        target.next = end + 1;
        target.left--;
      }
    }
  }

  async #reserve(target: KeyTarget, count: number): Promise<void> {
    // one text value, so bigint keys keep every digit and 100k keys cost one row; the first
    // reservation also finds the column's sequence, in the same round trip (a 10-row call makes few)
    const sql = target.nextval === undefined
      ? `with q as (select pg_get_serial_sequence(${target.table}, ${target.column}) as sequence) ` +
        `select (select sequence from q), string_agg(nextval((select sequence from q)::regclass)::text, ',') as ids from generate_series(1, ${count})`
      : `select string_agg(${target.nextval}::text, ',') as ids from generate_series(1, ${count})`;
    const { rows } = await this.#session.query(sql);
    if (target.nextval === undefined) {
      const sequence = rows[0]?.sequence as string | null;
      target.nextval = sequence ? `nextval(${this.#platform.quoteValue(sequence) as string}::regclass)` : null;
      if (!sequence) return;
    }
    const ids = rows[0].ids as string;
    target.reserved = target.left ? `${target.reserved.slice(target.next)},${ids}` : ids;
    target.next = 0;
    target.left += count;
    target.block = count;
  }

  #targetOf(plan: EntityPlan): KeyTarget {
    let target = this.#targets.get(plan.table);
    if (!target) {
      const prop = generatedKeyOf(plan.meta)!;
      target = {
        prop,
        // the table name is the platform-quoted identifier, passed as a string literal to PostgreSQL
        table: this.#platform.quoteValue(plan.table) as string,
        column: this.#platform.quoteValue(prop.fieldNames[0]) as string,
        nextval: undefined,
        reserved: '',
        left: 0,
        next: 0,
        block: 0,
        asNumber: returnsNumber(prop),
        keyOf: keyFromNumber(prop),
      };
      this.#targets.set(plan.table, target);
    }
    return target;
  }
}

/** `pg` returns int2/int4 as numbers and int8 as strings. */
function returnsNumber(prop: EntityProperty): boolean {
  return INT4_COLUMN.test(prop.columnTypes?.[0] ?? '');
}

/** The single autoincrement primary key of an entity, if it has one. */
export function generatedKeyOf(entityMeta: EntityMetadata): EntityProperty | undefined {
  const meta = entityMeta.root;
  if (meta.primaryKeys.length !== 1) return undefined;
  const prop = meta.properties[meta.primaryKeys[0]];
  return prop?.autoincrement && prop.fieldNames.length === 1 ? prop : undefined;
}

/**
 * As flush's `mapPrimaryKey`: the value `pg` would return for the column, through the custom type.
 * `replace` overwrites a key already set (an upserted row that kept its existing key).
 */
export function setGeneratedKey(platform: Platform, prop: EntityProperty, entity: AnyEntity, text: string, replace = false, asNumber = returnsNumber(prop)): void {
  const raw: string | number = asNumber ? Number(text) : text;
  putKey(entity, prop, prop.customType ? prop.customType.convertToJSValue(raw, platform) : raw, replace);
}

function putKey(entity: AnyEntity, prop: EntityProperty, value: unknown, replace: boolean): void {
  // a plain row's view (plan/row-view) has no helper; it only needs the value
  if (replace || !Utils.isEntity(entity)) entity[prop.name] = value;
  else helper(entity).setPrimaryKey(value);
}

/**
 * What `setGeneratedKey` makes of a key's text, from the key as a number instead, for the types
 * where that is the same value: a plain int2/int4 key, and MikroORM's own `BigIntType` in `bigint`
 * or `number` mode (whose conversion is `BigInt(String(text))` or `Number(text)`). Undefined for
 * any other type, which gets the text. Saves a string per row of the reservation's text.
 */
function keyFromNumber(prop: EntityProperty): ((key: number) => unknown) | undefined {
  const type = prop.customType;
  if (!type) return returnsNumber(prop) ? key => key : undefined;
  if (!(type instanceof BigIntType) || type.convertToJSValue !== BigIntType.prototype.convertToJSValue) return undefined;
  if (type.mode === 'number') return key => key;
  return type.mode === 'string' ? undefined : key => BigInt(key);
}

/** The integer written in `text` from `from` to `to` (an optional minus, then digits, as `::text` of a key gives it). */
function decimalAt(text: string, from: number, to: number): number {
  const negative = text.charCodeAt(from) === 0x2d;
  let n = 0;
  for (let i = negative ? from + 1 : from; i < to; i++) n = n * 10 + (text.charCodeAt(i) - 0x30);
  return negative ? -n : n;
}
