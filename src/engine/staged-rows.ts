// The shared loop of copyUpdate and copyDelete: their input (entities, or plain rows / keys of one
// class) goes through the insert path's own plan and compiled row encoder, narrowed to the columns
// the operation stages, into a temporary table on the transaction's connection; a destination
// then moves the staged rows on (UPDATE ... FROM, DELETE ... USING). One encoder for every
// operation, so a key, custom type or embeddable is staged exactly as copyPersist inserts it.
import { Utils, helper, type AnyEntity, type EntityClass, type EntityMetadata, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { withTransactionConnection } from '../orm/index.js';
import { inTransaction } from '../orm/transaction.js';
import { CopySession, type CopyDestination, type RunQuery } from '../copy/copy-session.js';
import { SegmentBuilder } from '../copy/segment.js';
import { RowEncoder } from '../encoding/row-encoder.js';
import { CopyFormats } from '../copy/copy-format.js';
import { duplicatePrimaryKey, missingKey, notAnEntity, notAnItem } from '../errors.js';
import { readChunks, type CopySource } from '../input/read-chunks.js';
import { checkRowKeys } from '../input/row-keys.js';
import { planFor, type ColumnGroup, type EntityPlan, type PlanCache } from '../plan/entity-plan.js';
import { rowViewFactory } from '../plan/row-view.js';

const CHUNK_SIZE = 2000;

/** One input item, ready to be encoded (its encoder may be replaced by its binary twin). */
interface StagedEntry {
  entity: AnyEntity;
  encoder: RowEncoder;
  position: number;
}

/** What an operation stages of each entity class, and what it does to an entity before encoding. */
export interface StagedOperation {
  /** Name used in messages (`copyUpdate`). */
  name: string;
  /** Does this column group go into the staging table? (The primary key always does.) */
  stages(plan: EntityPlan, group: ColumnGroup): boolean;
  /** Runs on each entity before it is encoded (e.g. `onUpdate`). */
  prepare?(plan: EntityPlan, entity: AnyEntity): void;
  /** Where the staged rows go; called once per COPY (table and column set). */
  destination: CopyDestination;
  /** An error the destination keeps to throw itself (it must not be converted as a database error). */
  failure?(): Error | undefined;
  /** After a successful commit of the work (or its savepoint): entities that were written. */
  settle?(entities: readonly AnyEntity[]): void;
}

/** A plan narrowed to the staged groups: no initializers or required checks, which belong to inserts. */
function narrowPlan(plan: EntityPlan, keep: (group: ColumnGroup) => boolean): EntityPlan {
  const groups = plan.groups.filter(g => g.prop.primary || keep(g));
  const props = new Set(groups.map(g => g.prop));
  const version = groups.find(g => g.prop.version)?.prop;
  // MikroORM's snapshot leaves the version out (on insert the database fills it); an update stages
  // it to check it, so the encoder is told to read it like any plain scalar
  const meta = version ? (Object.create(plan.meta, { comparableProps: { value: [...plan.meta.comparableProps, version] } }) as EntityMetadata) : plan.meta;
  return {
    ...plan,
    meta,
    groups,
    initializerProps: [],
    requiredProps: [],
    validatedProps: plan.validatedProps.filter(p => props.has(p)),
    toOneProps: plan.toOneProps.filter(p => props.has(p)),
  };
}

/**
 * Encodes `source` (entities, or plain rows of `rowClass`) with the staged columns of each class
 * and hands them to the operation's destination, in the caller's transaction or one of its own.
 * `toRow` checks a plain item and gives the row of property values it stands for.
 */
export async function runStaged(
  em: SqlEntityManager,
  rowClass: EntityClass<object> | undefined,
  source: CopySource<unknown>,
  operation: StagedOperation,
  toRow: (meta: EntityMetadata, item: unknown, position: number) => Record<string, unknown>,
): Promise<void> {
  const plans: PlanCache = new Map();
  const narrowed = new Map<EntityPlan, RowEncoder>();
  const encoderFor = (plan: EntityPlan) => {
    let encoder = narrowed.get(plan);
    if (!encoder) narrowed.set(plan, (encoder = new RowEncoder(em, narrowPlan(plan, g => operation.stages(plan, g)))));
    return encoder;
  };
  const rowMeta = rowClass ? metaOf(em, rowClass, 0) : undefined;
  const rowEncoder = rowMeta && encoderFor(planFor(em, rowMeta, em.schema, plans));
  // plain rows of plain scalars skip em.create (plan/row-view.ts), unless an `onUpdate` function
  // is to be handed the entity
  const viewOf = rowEncoder && !rowMeta!.hydrateProps.some(p => p.onUpdate) ? rowViewFactory(em, rowEncoder.plan, { keysOnly: false, allowed: () => true, planOf: () => rowEncoder.plan }) : undefined;
  const encoderOf = (entity: AnyEntity, position: number) => {
    const meta = rowMeta && entity.constructor === rowMeta.class ? rowMeta : metaOf(em, entity.constructor, position);
    return encoderFor(planFor(em, meta, helper(entity).__schema ?? em.schema, plans));
  };
  const keyProps = (meta: EntityMetadata) => meta.root.primaryKeys;
  const written: AnyEntity[] = [];
  /** An input item as the entity and encoder to stage it with; checks it and runs the operation's `prepare`. */
  const readItem = (item: unknown, position: number): StagedEntry => {
    let entity: AnyEntity;
    let encoder: RowEncoder;
    let isView = false;
    if (rowMeta && !isEntity(item)) {
      const row = toRow(rowMeta, item, position);
      // many-to-many links a row may name are not this operation's business: collected and left
      const view = viewOf?.(row, []);
      if (view) {
        entity = view;
        encoder = rowEncoder!;
        isView = true;
        if (keyProps(rowMeta).some(k => view[k] == null)) throw missingKey(operation.name, encoder.plan.entityName, position);
      } else {
        entity = em.create(rowMeta.class, row as never, { persist: false }) as AnyEntity;
        encoder = encoderOf(entity, position);
      }
    } else {
      entity = asEntity(item, position);
      encoder = encoderOf(entity, position);
    }
    // a view is no entity: nothing to prepare, and nothing to settle afterwards
    if (!isView) {
      if (!helper(entity).hasPrimaryKey()) throw missingKey(operation.name, encoder.plan.entityName, position);
      operation.prepare?.(encoder.plan, entity);
      written.push(entity);
    }
    return { entity, encoder, position };
  };
  await inTransaction(em, trx =>
    withTransactionConnection(trx, async submit => {
      const session = new CopySession(em, submit, operation.destination, operation.name);
      const check = () => {
        const failure = operation.failure?.();
        if (failure) throw failure;
      };
      // staged as the insert path stages its rows: binary for a table whose columns all take it
      const formats = new CopyFormats(undefined);
      try {
        const builder = new SegmentBuilder();
        let position = 0;
        for await (const chunk of readChunks(source, CHUNK_SIZE)) {
          const entries: StagedEntry[] = [];
          // an item found wanting fails the call after the rows before it were encoded, whose own errors come first
          let failure: unknown;
          try {
            for (const item of chunk) entries.push(readItem(item, position++));
          } catch (e) {
            failure = e;
          }
          const encoders = entries.map(e => e.encoder);
          await formats.prepare(encoders, sql => session.query(sql));
          for (let i = 0; i < entries.length; i++) {
            const { entity, position } = entries[i];
            builder.row = entity;
            encoders[i].writeEntity(entity, position, undefined, builder, position);
          }
          if (failure) throw failure;
          for (const segment of builder.take()) {
            await session.send(segment);
            check();
          }
        }
        await session.finish();
        check();
      } catch (e) {
        await session.abort(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
    }),
  );
  operation.settle?.(written);
}


/** Quoted primary key columns of a plan's table. */
export function keyColumnsOf(platform: Platform, plan: EntityPlan): string[] {
  const root = plan.meta.root;
  return root.primaryKeys.flatMap(name => root.properties[name].fieldNames).map(f => platform.quoteIdentifier(f));
}

/** Checks a plain row of `meta`: an object whose keys are all properties of the entity. */
export function checkRow(meta: EntityMetadata, item: unknown, position: number): Record<string, unknown> {
  if (item == null || typeof item !== 'object') {
    throw notAnItem(item, position);
  }
  checkRowKeys(meta, item, position);
  return item as Record<string, unknown>;
}

/** Two input items with one key: which would win is up to the database, so the call fails instead. */
export async function rejectDuplicateKeys(plan: EntityPlan, keys: string[], stage: string, run: RunQuery, name: string): Promise<void> {
  const { rows } = await run(
    `select array_agg("_ord" order by "_ord")::text[] as positions from ${stage} group by ${keys.join(', ')} having count(*) > 1 order by min("_ord") limit 1`,
  );
  if (!rows.length) return;
  const positions = (rows[0].positions as string[]).map(Number);
  throw duplicatePrimaryKey(name, plan.entityName, positions);
}

function isEntity(item: unknown): boolean {
  return item != null && typeof item === 'object' && Utils.isEntity(item);
}

function asEntity(item: unknown, position: number): AnyEntity {
  if (item == null || typeof item !== 'object') {
    throw notAnItem(item, position);
  }
  return item as AnyEntity;
}

function metaOf(em: SqlEntityManager, cls: unknown, position: number): EntityMetadata {
  const meta = typeof cls === 'function' && cls !== Object ? em.getMetadata().find(cls as EntityClass<object>) : undefined;
  if (!meta || meta.embeddable) {
    const name = typeof cls === 'function' ? cls.name : String(cls);
    throw notAnEntity(name, position, cls === Object);
  }
  return meta;
}
