// Values the database fills in — the version property, `defaultRaw` defaults, generated columns.
// Flush reads them back with INSERT ... RETURNING and sets them on the entity, so a versioned
// entity changed later can be checked; COPY returns nothing. What they are is learnt as cheaply as
// it can be known exactly: a numeric literal is known without asking; an expression that has one
// value for the whole transaction (`now()`, `current_timestamp(3)` of a Date version) is evaluated
// once, in the copy's transaction; anything else (`gen_random_uuid()`, generated columns) is
// selected by primary key after the copy (staged-keys.ts). Only entities the caller holds get them.
import { ReferenceKind, helper, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { withStagedKeys } from './staged-keys.js';
import { mikroOrm } from '../orm/index.js';

/** Per plan: the properties flush would read back after an INSERT, by how their value is learnt. */
interface FilledProps {
  /** A numeric literal default (an integer version's `1`). */
  constant: { prop: EntityProperty; value: number }[];
  /** One value per transaction: evaluated once. */
  perTransaction: EntityProperty[];
  /** A value per row: selected back. */
  perRow: EntityProperty[];
}

const NUMERIC_LITERAL = /^-?\d+(\.\d+)?$/;
/** Defaults PostgreSQL evaluates to the same value throughout a transaction (or constants). */
const PER_TRANSACTION = /^(now\(\)|transaction_timestamp\(\)|current_date|(current_timestamp|localtimestamp|current_time|localtime)(\(\d\))?|true|false|'[^']*')$/i;

export class DatabaseFilledValues {
  readonly #em: SqlEntityManager;
  readonly #props = new Map<EntityPlan, FilledProps>();
  readonly #pending = new Map<EntityPlan, AnyEntity[]>();

  constructor(em: SqlEntityManager) {
    this.#em = em;
  }

  /** Per written entity: sets known defaults; remembers it when another filled property is still empty. */
  note(entity: AnyEntity, plan: EntityPlan): void {
    let props = this.#props.get(plan);
    if (!props) this.#props.set(plan, (props = filledProps(plan.meta)));
    for (const { prop, value } of props.constant) {
      // left out of the row, so the database wrote its default — what RETURNING would give back
      if (entity[prop.name] == null) entity[prop.name] = value;
    }
    if (!isEmptyIn(entity, props.perTransaction) && !isEmptyIn(entity, props.perRow)) return;
    let pending = this.#pending.get(plan);
    if (!pending) this.#pending.set(plan, (pending = []));
    pending.push(entity);
  }

  /** Learns the filled values of the noted entities (in the copy's transaction) and sets them. */
  async readBack(session: CopySession): Promise<void> {
    const quote = (field: string) => this.#em.getPlatform().quoteIdentifier(field);
    for (const [plan, entities] of this.#pending) {
      const { perTransaction, perRow } = this.#props.get(plan)!;
      if (perTransaction.length) {
        // the defaults as the column stores them, evaluated once (SQL from the metadata, as in the DDL)
        const columns = perTransaction.map(prop => `(${prop.defaultRaw})::${prop.columnTypes[0]} as ${quote(prop.fieldNames[0])}`);
        const { rows } = await session.query(`select ${columns.join(', ')}`);
        const values = this.#valuesOf(plan, perTransaction, rows[0]);
        for (const entity of entities) {
          for (const prop of perTransaction) {
            const value = values[prop.name];
            // each entity its own Date, as hydration gives it
            if (entity[prop.name] == null) entity[prop.name] = value instanceof Date ? new Date(value.getTime()) : value;
          }
        }
      }
      // without a key (assignKeys: false and none given) a row cannot be found again; flush would know it from RETURNING
      const rowwise = perRow.length ? entities.filter(entity => isEmptyIn(entity, perRow) && helper(entity).getPrimaryKey() != null) : [];
      if (!rowwise.length) continue;
      const { rows } = await withStagedKeys(this.#em, session, plan, rowwise, [], ({ stage, join }) => {
        const fields = perRow.flatMap(prop => prop.fieldNames).map(f => `t.${quote(f)}`);
        return `select s."_ord", ${fields.join(', ')} from ${plan.table} as t join ${stage} as s on ${join}`;
      });
      for (const row of rows) {
        const entity = rowwise[row._ord as number];
        const values = this.#valuesOf(plan, perRow, row);
        for (const prop of perRow) entity[prop.name] ??= values[prop.name];
      }
    }
  }

  /** A result row keyed by column → values by property, converted as hydration converts them. */
  #valuesOf(plan: EntityPlan, props: readonly EntityProperty[], row: Record<string, unknown>): Record<string, unknown> {
    const values = mikroOrm.mapResultRow(this.#em, plan.meta, row);
    for (const prop of props) {
      const value = values[prop.name];
      if (prop.customType && value != null) values[prop.name] = prop.customType.convertToJSValue(value, this.#em.getPlatform());
    }
    return values;
  }
}

function isEmptyIn(entity: AnyEntity, props: readonly EntityProperty[]): boolean {
  // runs twice per written row: a loop, not `some` with a closure made per call
  for (let i = 0; i < props.length; i++) if (entity[props[i].name] == null) return true;
  return false;
}

/** Could a copy of this class's rows ask the database for filled values afterwards (not known without asking)? */
export function mayReadBack(meta: EntityMetadata): boolean {
  const { perTransaction, perRow } = filledProps(meta);
  return perTransaction.length > 0 || perRow.length > 0;
}

/** As flush's `reloadVersionValues` for a new entity: scalar columns the INSERT leaves to the database. */
function filledProps(meta: EntityMetadata): FilledProps {
  const props = meta.props.filter(prop =>
    prop.kind === ReferenceKind.SCALAR &&
    !prop.primary &&
    !prop.embedded &&
    prop.persist !== false &&
    prop.defaultRaw !== 'null' &&
    (prop.version || prop.generated || prop.defaultRaw !== undefined),
  );
  const isConstant = (prop: EntityProperty) =>
    !prop.generated && !prop.customType && prop.runtimeType === 'number' && NUMERIC_LITERAL.test(prop.defaultRaw ?? '');
  const isPerTransaction = (prop: EntityProperty) =>
    !prop.generated && !isConstant(prop) && PER_TRANSACTION.test(prop.defaultRaw ?? '') && prop.columnTypes?.length === 1;
  return {
    constant: props.filter(isConstant).map(prop => ({ prop, value: Number(prop.defaultRaw) })),
    perTransaction: props.filter(isPerTransaction),
    perRow: props.filter(prop => !isConstant(prop) && !isPerTransaction(prop)),
  };
}
