// The per-row hot path, compiled once per entity plan with `new Function`, the way MikroORM's
// `EntityComparator` compiles its snapshot generators: each plain scalar property is read straight
// from the entity into a local, converted as that snapshot would convert it, and written into the
// segment's buffer by the branch its column family expects (see column-types.ts). Rows never
// become a payload object. What has no fast path (relations, embeddables, composite keys, the STI
// discriminator, lazy or getter-only properties) is read per property from MikroORM's own snapshot,
// taken only for entities that have such a property; and any value a fast branch does not expect
// goes to the generic per-value path (`CsvRowEncoder.writeValue`), so the text never differs.
import { ReferenceKind, Type, type AnyEntity, type Dictionary, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { EntityPlan } from '../plan/entity-plan.js';
import { isRawSql, scalarRuntimeTypes } from '../orm/index.js';
import { checkInsert, snapshotPayload } from '../plan/insert-payload.js';
import { ROW_VIEW, isRowView } from '../plan/row-view.js';
import { ISO_MAX_TIME, ISO_MIN_TIME, arrayElementConverter, columnFamilyOf, columnTraits, formatsDatesAsIso, writesArraysInPlace, type ExpectedValue } from './column-types.js';
import type { ChunkWriter } from './chunk-writer.js';
import { NUMERIC_SHAPE_GROUPS, type RowShape } from './row-shape.js';

/**
 * What a compiled writer needs of its encoder — csv-row.ts's `CsvRowEncoder`, which compiles it —
 * named here so the two files do not import each other.
 */
export interface RowEncoding {
  readonly plan: EntityPlan;
  shapeOf(data: Dictionary): RowShape;
  encode(data: Dictionary, shape: RowShape, position: number, out: ChunkWriter, ordinal?: number): void;
  writeGroup(index: number, data: Dictionary, position: number, out: ChunkWriter, first: boolean): boolean;
  writeValue(index: number, value: unknown, position: number, out: ChunkWriter): void;
}

/** Where a row's writer comes from: the segment of its encoder and shape (`SegmentBuilder`). */
export interface RowSink {
  writerFor(encoder: RowEncoding, shape: RowShape, position: number): ChunkWriter;
}

/** Writes one entity's row; see `CsvRowEncoder.writeEntity`. */
export type RowWriter = (entity: AnyEntity, position: number, deferred: readonly EntityProperty[] | undefined, sink: RowSink, ordinal?: number) => void;

/** `typeof` tests and fast writes of each expected value; `c` is the converted value, `i` the group. */
const BRANCHES: Record<ExpectedValue, (c: string, i: number, g: FastGroup) => string> = {
  string: (c, i, g) =>
    `if (typeof ${c} === 'string') { if (${c}.indexOf('\\0') === -1${g.escapedNul ? ` && ${c}.indexOf('\\\\u0000') === -1` : ''}) out.quoted(${c}); else slow(${i}, ${c}, position, out); }`,
  number: (c, i, g) =>
    g.integer
      ? `if (typeof ${c} === 'number') { if (Number.isSafeInteger(${c})) out.integer(${c}); else slow(${i}, ${c}, position, out); }`
      : `if (typeof ${c} === 'number') { if (Number.isFinite(${c})) out.ascii(String(${c})); else slow(${i}, ${c}, position, out); }`,
  boolean: c => `if (typeof ${c} === 'boolean') out.ascii(${c} ? 'true' : 'false');`,
  Date: (c, i, g) =>
    g.isoDates
      ? `if (${c} instanceof Date) { const t = ${c}.getTime(); if (t >= ${ISO_MIN_TIME} && t <= ${ISO_MAX_TIME}) out.isoDate(${c}); else slow(${i}, ${c}, position, out); }`
      : `if (${c} instanceof Date) slow(${i}, ${c}, position, out);`,
};

const BRANCH_ORDER: readonly ExpectedValue[] = ['string', 'number', 'boolean', 'Date'];

interface FastGroup {
  integer: boolean;
  /** json and array text can hide a NUL as an escape; the generic path knows how each is reported. */
  escapedNul: boolean;
  isoDates: boolean;
}

/** Compiles the row writer of `encoder`'s plan for this EntityManager's platform and MikroORM version. */
export function compileRowWriter(em: SqlEntityManager, encoder: RowEncoding): RowWriter {
  const plan = encoder.plan;
  const meta = plan.meta;
  const platform = em.getPlatform();
  const groups = plan.groups;
  if (groups.length > NUMERIC_SHAPE_GROUPS) return viaSnapshot(em, encoder);

  const isoDates = formatsDatesAsIso(platform);
  const comparable = new Set(meta.comparableProps);
  const context = new Map<string, unknown>([
    ['checkInsert', checkInsert],
    ['snapshotPayload', snapshotPayload],
    ['ROW_VIEW', ROW_VIEW],
    ['em', em],
    ['plan', plan],
    ['encoder', encoder],
    ['slow', encoder.writeValue.bind(encoder)],
  ]);
  const reads: string[] = [];
  const converts: string[] = [];
  /** Raw value of each fast property, by name: the checks read these. */
  const raws = new Map<string, string>();
  const shapes: string[] = [];
  const writes: string[] = [];
  let needsSnapshot = false;

  groups.forEach((group, i) => {
    const prop = group.prop;
    const bit = 2 ** i;
    const separator = `if (first) first = false; else out.comma();`;
    if (group.kind !== 'single' || !hasFastPath(prop, meta.root.discriminatorColumn, comparable)) {
      needsSnapshot = true;
      shapes.push(`if (payload[${JSON.stringify(prop.name)}] !== undefined) shape += ${bit};`);
      writes.push(`if (payload[${JSON.stringify(prop.name)}] !== undefined) first = encoder.writeGroup(${i}, payload, position, out, first);`);
      return;
    }
    const c = `c${i}`;
    // MikroORM keeps a scalar assigned through its accessor in the helper's data object; reading it
    // there skips the per-instance accessor, which every entity has its own of (so every read of
    // `entity.prop` is megamorphic); anything else (never assigned, a class field) reads as usual
    const read = `(data !== undefined && data[${JSON.stringify(prop.name)}] !== undefined ? data[${JSON.stringify(prop.name)}] : entity[${JSON.stringify(prop.name)}])`;
    const convert = converterOf(prop, platform);
    const array = writesArraysInPlace(prop);
    reads.push(`const v${i} = ${read};`);
    raws.set(prop.name, `v${i}`);
    if (array) {
      // an array is written element by element into the buffer, not marshalled into a string first
      context.set(`convert${i}`, convert);
      context.set(`toDb${i}`, arrayElementConverter(prop.customType));
      converts.push(`const ${c} = v${i} === undefined || Array.isArray(v${i}) ? v${i} : convert${i}(v${i});`);
    } else if (convert) {
      context.set(`convert${i}`, convert);
      converts.push(`const ${c} = v${i} === undefined ? undefined : convert${i}(v${i});`);
    } else {
      converts.push(`const ${c} = v${i};`);
    }
    shapes.push(`if (${c} !== undefined) shape += ${bit};`);
    const traits = columnTraits(prop.columnTypes?.[0]);
    const fast: FastGroup = { integer: traits.integer, escapedNul: traits.jsonb || traits.array, isoDates };
    const expected = columnFamilyOf(prop).expects;
    const order = [expected, ...BRANCH_ORDER.filter(e => e !== expected)];
    // flush binds a non-nullable property's `default` in place of null (`singleValue`)
    const nullBranch = !prop.nullable && prop.default != null ? `if (${c} === null) slow(${i}, ${c}, position, out);` : `if (${c} === null) {}`;
    const arrayBranch = array ? [`if (Array.isArray(${c})) { if (!out.quotedArray(${c}, toDb${i})) slow(${i}, convert${i}(${c}), position, out); }`] : [];
    const branches = [...arrayBranch, BRANCHES[order[0]](c, i, fast), nullBranch, ...order.slice(1).map(e => BRANCHES[e](c, i, fast)), `slow(${i}, ${c}, position, out);`];
    writes.push(`if (${c} !== undefined) { ${separator} ${branches.join(' else ')} }`);
  });

  // flush's checks come first: before the reads where initializers may change values, else as a
  // guard over the values read that, when it fails, lets `checkInsert` find and report the error
  const guard = checkGuard(plan, raws);
  context.set('objectType', Object.prototype.toString);
  const code = [
    'return function writeRow(entity, position, deferred, sink, ordinal) {',
    guard === undefined ? '  checkInsert(em, plan, entity, position, deferred);' : '',
    '  const data = entity.__helper?.__data;',
    ...reads.map(line => `  ${line}`),
    guard === undefined ? '' : `  if (!(${guard})) checkInsert(em, plan, entity, position, deferred);`,
    // a plain row's view (plan/row-view.ts) is its own payload: the snapshot needs an entity
    needsSnapshot ? '  const payload = entity[ROW_VIEW] === true ? entity : snapshotPayload(em, entity, deferred);' : '',
    ...converts.map(line => `  ${line}`),
    '  let shape = 0;',
    ...shapes.map(line => `  ${line}`),
    '  const out = sink.writerFor(encoder, shape, position);',
    '  let first = true;',
    ...writes.map(line => `  ${line}`),
    '  if (ordinal !== undefined) { out.comma(); out.integer(ordinal); }',
    '  out.newline();',
    '};',
  ].join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled once per entity plan, from metadata only
  return new Function(...context.keys(), code)(...context.values()) as RowWriter;
}

/**
 * An expression over the raw values that holds only when `checkInsert` would pass, or undefined
 * when `checkInsert` must run first (initializers, to-one relations, checks of other properties).
 */
function checkGuard(plan: EntityPlan, raws: ReadonlyMap<string, string>): string | undefined {
  if (plan.initializerProps.length || plan.toOneProps.length) return undefined;
  const terms: string[] = [];
  for (const prop of plan.requiredProps) {
    const v = raws.get(prop.name);
    if (!v) return undefined;
    terms.push(`${v} != null`);
  }
  for (const prop of plan.validatedProps) {
    const v = raws.get(prop.name);
    if (!v || prop.embedded) return undefined;
    // MikroORM's `Utils.getObjectType`: typeof for primitives, else the object's toString tag
    const type = prop.runtimeType;
    if (prop.enum && prop.items) terms.push(`${v} == null`);
    else if (['string', 'number', 'boolean', 'bigint'].includes(type)) terms.push(`(${v} == null || typeof ${v} === '${type}')`);
    else if (type === 'Date') terms.push(`(${v} == null || (typeof ${v} === 'object' && objectType.call(${v}) === '[object Date]'))`);
    else if (scalarRuntimeTypes.has(type)) terms.push(`${v} == null`);
  }
  return terms.length ? terms.join(' && ') : 'true';
}

/**
 * Past {@link NUMERIC_SHAPE_GROUPS} column groups a shape is a string; such tables are rare, and
 * take the snapshot path whole.
 */
function viaSnapshot(em: SqlEntityManager, encoder: RowEncoding): RowWriter {
  return (entity, position, deferred, sink, ordinal) => {
    checkInsert(em, encoder.plan, entity, position, deferred);
    const data = isRowView(entity) ? entity : snapshotPayload(em, entity, deferred);
    const shape = encoder.shapeOf(data);
    encoder.encode(data, shape, position, sink.writerFor(encoder, shape, position), ordinal);
  };
}

/**
 * Does MikroORM's snapshot (`EntityComparator.getPropertySnapshot`) take this property as
 * `convert(entity[name])` — a plain scalar read once — so it can be read here the same way?
 */
function hasFastPath(prop: EntityProperty, discriminator: string | undefined, comparable: ReadonlySet<EntityProperty>): boolean {
  return (
    prop.kind === ReferenceKind.SCALAR &&
    comparable.has(prop) &&
    !prop.embedded &&
    !prop.ref &&
    !prop.lazy &&
    !(prop.getter && !prop.setter) &&
    prop.name !== discriminator
  );
}

/** How the snapshot converts the property's value, or undefined where it copies it as is. */
function converterOf(prop: EntityProperty, platform: Platform): ((value: unknown) => unknown) | undefined {
  // the snapshot copies these without their type's conversion
  if (!prop.array && ['number', 'string', 'boolean'].includes(String(prop.type).toLowerCase())) return undefined;
  const type = prop.customType;
  if (type) {
    if (type.convertToDatabaseValue === Type.prototype.convertToDatabaseValue) return undefined;
    const options = { mode: 'serialization' } as const;
    return value => (value !== null && typeof value === 'object' && isRawSql(value) ? value : type.convertToDatabaseValue(value, platform, options));
  }
  if (prop.runtimeType === 'Date') return value => platform.processDateProperty(value);
  return undefined;
}
