// Values the database fills in — the version property, `defaultRaw` defaults, generated columns.
// Flush reads them back with INSERT ... RETURNING and sets them on the entity, so a versioned
// entity changed later can be checked; COPY returns nothing, so after the copy they are selected
// by primary key (staged-keys.ts) and set on the entities the caller holds, as flush sets them.
import { ReferenceKind, helper, type AnyEntity, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { withStagedKeys } from './staged-keys.js';

export class DatabaseFilledValues {
  readonly #em: SqlEntityManager;
  /** Per plan: the properties flush would read back after an INSERT. */
  readonly #props = new Map<EntityPlan, EntityProperty[]>();
  readonly #pending = new Map<EntityPlan, AnyEntity[]>();

  constructor(em: SqlEntityManager) {
    this.#em = em;
  }

  /** Per written entity: remembered when a property the database fills is still empty in it. */
  note(entity: AnyEntity, plan: EntityPlan): void {
    let props = this.#props.get(plan);
    if (!props) this.#props.set(plan, (props = readBackProps(plan)));
    if (!props.length || !props.some(prop => entity[prop.name] == null)) return;
    let pending = this.#pending.get(plan);
    if (!pending) this.#pending.set(plan, (pending = []));
    pending.push(entity);
  }

  /** Selects the filled values of the noted entities (in the copy's transaction) and sets them. */
  async readBack(session: CopySession): Promise<void> {
    const comparator = this.#em.getComparator();
    const platform = this.#em.getPlatform();
    for (const [plan, all] of this.#pending) {
      // without a key (assignKeys: false and none given) a row cannot be found again; flush would know it from RETURNING
      const entities = all.filter(entity => helper(entity).getPrimaryKey() != null);
      if (!entities.length) continue;
      const props = this.#props.get(plan)!;
      const { rows } = await withStagedKeys(this.#em, session, plan, entities, [], ({ stage, join, quote }) => {
        const fields = props.flatMap(prop => prop.fieldNames).map(f => `t.${quote(f)}`);
        return `select s."_ord", ${fields.join(', ')} from ${plan.table} as t join ${stage} as s on ${join}`;
      });
      for (const row of rows) {
        const entity = entities[row._ord as number];
        const values = comparator.mapResult(plan.meta, row) as Record<string, unknown>;
        for (const prop of props) {
          if (entity[prop.name] != null) continue;
          const value = values[prop.name];
          entity[prop.name] = prop.customType && value != null ? prop.customType.convertToJSValue(value, platform) : value;
        }
      }
    }
  }
}

/** As flush's `reloadVersionValues` for a new entity: scalar columns the INSERT leaves to the database. */
function readBackProps(plan: EntityPlan): EntityProperty[] {
  return plan.meta.props.filter(prop =>
    prop.kind === ReferenceKind.SCALAR &&
    !prop.primary &&
    !prop.embedded &&
    prop.persist !== false &&
    prop.defaultRaw !== 'null' &&
    (prop.version || prop.generated || prop.defaultRaw !== undefined),
  );
}
