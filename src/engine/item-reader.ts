// Input items → entities of registered classes (or row views of plain rows), each with the row
// encoder of its class and schema: the first step of a copy, where unknown classes and keys fail.
import { ReferenceKind, Utils, type AnyEntity, type EntityClass, type EntityMetadata } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { RowEncoder } from '../encoding/row-encoder.js';
import { notAnEntity, notAnItem } from '../errors.js';
import { checkRowKeys } from '../input/row-keys.js';
import { planFor, type EntityPlan, type PlanCache } from '../plan/entity-plan.js';
import { rowViewFactory, type RowViewFactory, type RowViewOptions } from '../plan/row-view.js';

/**
 * Plans, and the encoders that need no particular EntityManager, kept across calls per ORM (by its
 * metadata, which its forks share): building a plan and compiling its encoder cost a 10-row call
 * about a tenth of its time, and a freshly compiled encoder runs unoptimised.
 */
const perOrm = new WeakMap<object, { plans: PlanCache; encoders: Map<EntityPlan, RowEncoder> }>();

/** An encoder hands its EntityManager only to `onCreate` (of the entity, or inside an embeddable): without those, any fork's will do. */
function needsItsEntityManager(plan: EntityPlan): boolean {
  return plan.initializerProps.some(p => p.onCreate || p.kind === ReferenceKind.EMBEDDED);
}

/** Turns input items into entity instances of registered classes, with their row encoders. */
export class ItemReader {
  readonly #em: SqlEntityManager;
  readonly rowMeta: EntityMetadata | undefined;
  readonly #plans: PlanCache;
  /** Encoders of this call; those of `#shared` serve every call. */
  readonly #encoders = new Map<EntityPlan, RowEncoder>();
  readonly #shared: Map<EntityPlan, RowEncoder>;
  /**
   * Encoders by the schema an entity carries (undefined: none, the EntityManager's) and its class:
   * the per-row lookup. Entities made by `em.create` on an ORM with a `schema` option carry it.
   */
  readonly #bySchema = new Map<string | undefined, Map<unknown, RowEncoder>>();
  /** Makes views of plain rows (false: never; undefined: not asked yet). */
  #views: RowViewFactory | false | undefined;
  readonly #viewOptions: RowViewOptions | undefined;
  /** Pivot rows of the views read since the last `takeLinks`, and their rows' positions. */
  #links: AnyEntity[] = [];
  #linkPositions = new Map<AnyEntity, number>();
  /** Input items read as entities (not as views) so far. */
  entityCount = 0;

  /** `views`: whether plain rows of a class may be read as views instead of entities, and which. */
  constructor(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, views?: { allowed(meta: EntityMetadata): boolean; keysOnly: boolean }) {
    this.#em = em;
    let shared = perOrm.get(em.getMetadata());
    if (!shared) perOrm.set(em.getMetadata(), (shared = { plans: new Map(), encoders: new Map() }));
    this.#plans = shared.plans;
    this.#shared = shared.encoders;
    this.rowMeta = rowClass ? this.#metaOf(rowClass, 0, rowClass.name) : undefined;
    // views have no schema of their own: they go where the EntityManager writes
    this.#viewOptions = views && { ...views, planOf: meta => planFor(em, meta, em.schema, this.#plans) };
  }

  /**
   * The entity an input item stands for: itself, or one built from a plain row (a row view
   * unless `views` is false; its pivot rows wait for `takeLinks`).
   */
  toEntity(item: unknown, position: number, views = true): AnyEntity {
    if (item == null || typeof item !== 'object') {
      throw notAnItem(item, position);
    }
    if (this.rowMeta) return this.#fromRow(this.rowMeta, item as Record<string, unknown>, position, views);
    // an instance of an unregistered class fails here, before anything reads its metadata
    this.encoderOf(item as AnyEntity, position);
    return item as AnyEntity;
  }

  /** The row encoder of an entity: its class's, for the schema flush would write it into. */
  encoderOf(entity: AnyEntity, position: number): RowEncoder {
    // read without `helper()`: an input item may not be an entity at all (checked below)
    const schema = (entity as { __helper?: { __schema?: string } }).__helper?.__schema;
    let byClass = this.#bySchema.get(schema);
    const known = byClass?.get(entity.constructor);
    if (known) return known;
    const meta = this.rowMeta && entity.constructor === this.rowMeta.class ? this.rowMeta : this.#metaOf(entity.constructor, position);
    const plan = planFor(this.#em, meta, schema ?? this.#em.schema, this.#plans);
    const encoders = needsItsEntityManager(plan) ? this.#encoders : this.#shared;
    let encoder = encoders.get(plan);
    if (!encoder) encoders.set(plan, (encoder = new RowEncoder(this.#em, plan)));
    if (!byClass) this.#bySchema.set(schema, (byClass = new Map()));
    byClass.set(entity.constructor, encoder);
    return encoder;
  }

  #metaOf(cls: unknown, position: number, label?: string): EntityMetadata {
    const name = typeof cls === 'function' ? cls.name : String(cls);
    const meta = typeof cls === 'function' && cls !== Object ? this.#em.getMetadata().find(cls as EntityClass<object>) : undefined;
    if (!meta || meta.embeddable) {
      throw notAnEntity(label ?? name, position, cls === Object);
    }
    return meta;
  }

  /** The pivot rows of the views read since the last call, with their rows' input positions. */
  takeLinks(): { rows: AnyEntity[]; positions: Map<AnyEntity, number> } {
    const taken = { rows: this.#links, positions: this.#linkPositions };
    if (this.#links.length) {
      this.#links = [];
      this.#linkPositions = new Map();
    }
    return taken;
  }

  /** A plain row keyed by property names → a new, unmanaged entity, as `em.create` builds it, or its view. */
  #fromRow(meta: EntityMetadata, row: Record<string, unknown>, position: number, views: boolean): AnyEntity {
    if (Utils.isEntity(row as object)) {
      this.entityCount++;
      return row as AnyEntity;
    }
    checkRowKeys(meta, row, position);
    const options = this.#viewOptions;
    this.#views ??= (options?.allowed(meta) && rowViewFactory(this.#em, options.planOf(meta), options)) || false;
    if (this.#views && views) {
      const linked = this.#links.length;
      const view = this.#views(row, this.#links);
      if (view) {
        for (let i = linked; i < this.#links.length; i++) this.#linkPositions.set(this.#links[i], position);
        return view;
      }
    }
    this.entityCount++;
    return this.#em.create(meta.class, row as never, { persist: false }) as AnyEntity;
  }
}
