// The per-row hot path, compiled once per entity plan with `new Function`, the way MikroORM's
// `EntityComparator` compiles its snapshot generators: each plain scalar property is read straight
// from the entity into a local, converted as that snapshot would convert it, and written into the
// segment's buffer by the branch its column family expects (see column-types.ts). Rows never
// become a payload object. A to-one to a target with one plain scalar key is read as its target's
// key (`hasToOneFastPath`). What has no fast path (other relations, embeddables, composite keys, the
// STI discriminator, lazy or getter-only properties) is read per property from MikroORM's own
// snapshot, taken only for entities that have such a property (or a to-one value the compiled read
// does not expect); and any value a fast branch does not expect
// goes to the generic per-value path (`RowEncoder.writeValue`), so the text never differs.
// The same compiler writes binary COPY tuples for a table whose columns all have a binary form
// (pg-binary.ts): the same reads and conversions, typed writes per column, and any value without
// an exact binary form sends the whole row down the CSV writer instead (`fallBackToCsv`).
import { BigIntType, ReferenceKind, Type, type AnyEntity, type Dictionary, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { EntityPlan } from '../plan/entity-plan.js';
import { isRawSql, mikroOrm, scalarRuntimeTypes } from '../orm/index.js';
import { isOwningToOne } from '../plan/relations.js';
import { checkInsert, snapshotPayload } from '../plan/insert-payload.js';
import { ROW_VIEW, isRowView } from '../plan/row-view.js';
import { ISO_MAX_TIME, ISO_MIN_TIME, arrayElementConverter, columnFamilyOf, columnTraits, formatsDatesAsIso, writesArraysInPlace, writesJsonInPlace, type ExpectedValue } from './column-types.js';
import { isPlainJson } from './chunk-writer.js';
import type { ChunkWriter } from './chunk-writer.js';
import { dateFromText, float4Of, int8FromBigInt, int8FromText, isExactFloat8, numericFromNumber, numericFromText, pgDays, uuidFromText, writeTextAs, type BinaryColumn } from './pg-binary.js';
import { NUMERIC_SHAPE_GROUPS, type RowShape } from './row-shape.js';

/**
 * What a compiled writer needs of its encoder — row-encoder.ts's `RowEncoder`, which compiles it —
 * named here so the two files do not import each other.
 */
export interface RowEncoding {
  readonly plan: EntityPlan;
  shapeOf(data: Dictionary): RowShape;
  encode(data: Dictionary, shape: RowShape, position: number, out: ChunkWriter, ordinal?: number): void;
  writeGroup(index: number, data: Dictionary, position: number, out: ChunkWriter, first: boolean): boolean;
  writeValue(index: number, value: unknown, position: number, out: ChunkWriter): void;
  /** The binary columns of each group, when the table is written in binary. */
  readonly binaryColumns: readonly (readonly BinaryColumn[])[] | undefined;
  /** Binary counterparts of `writeGroup` and `writeValue`: false when a value has no exact binary form. */
  writeGroupBinary(index: number, data: Dictionary, position: number, out: ChunkWriter): boolean;
  writeValueBinary(index: number, value: unknown, position: number, out: ChunkWriter): boolean;
  /** Drops the binary row begun at `mark` of `out` and writes the entity's row as CSV. */
  fallBackToCsv(entity: AnyEntity, position: number, deferred: readonly EntityProperty[] | undefined, sink: RowSink, ordinal: number | undefined, out: ChunkWriter, mark: number): void;
}

/** Where a row's writer comes from: the segment of its encoder, shape and format (`SegmentBuilder`). */
export interface RowSink {
  writerFor(encoder: RowEncoding, shape: RowShape, position: number, binary?: boolean): ChunkWriter;
  /** Takes back the row placed last (a binary row that goes as CSV after all); sinks of binary rows have it. */
  unplace?(): void;
}

/** Writes one entity's row; see `RowEncoder.writeEntity`. */
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

/** Kinds whose text has a writer of its own, which the compiled code calls without `writeTextAs`'s dispatch. */
const DIRECT_TEXT: Partial<Record<BinaryColumn['kind'], string>> = { int8: 'int8FromText', uuid: 'uuidFromText', numeric: 'numericFromText', date: 'dateFromText' };

/** A binary write that may find no exact form: the row then goes as CSV. */
const orCsv = (write: string) => `{ if (!(${write})) return fallback(entity, position, deferred, sink, ordinal, out, mark); }`;
const slowBinary = (c: string, i: number) => orCsv(`slowB(${i}, ${c}, position, out)`);

/**
 * Binary branches: the value the CSV branch of the same JavaScript type would write as text, in
 * the column's binary form; whatever the CSV branch sends to the generic path goes to its binary
 * counterpart (`writeValueBinary`).
 */
const BINARY_BRANCHES: Record<ExpectedValue, (c: string, i: number, g: FastGroup, column: BinaryColumn) => string> = {
  string: (c, i, g, column) => {
    const kind = column.kind;
    const direct = DIRECT_TEXT[kind];
    const write = kind === 'text' || kind === 'json' ? `out.textField(${c});` : kind === 'jsonb' ? `out.textField(${c}, 1);` : orCsv(direct ? `${direct}(${c}, out)` : `asText('${kind}', ${c}, out)`);
    return `if (typeof ${c} === 'string') { if (${c}.indexOf('\\0') === -1${g.escapedNul ? ` && ${c}.indexOf('\\\\u0000') === -1` : ''}) { ${write} } else ${slowBinary(c, i)} }`;
  },
  number: (c, i, g, column) => {
    // what the CSV branch writes fast: a safe integer for an integer property, else any finite number
    const plain = g.integer ? `Number.isSafeInteger(${c})` : `Number.isFinite(${c})`;
    const write: Record<string, string> = {
      int2: `if (${plain} && Number.isInteger(${c}) && ${c} >= -32768 && ${c} <= 32767) out.int2Field(${c});`,
      int4: `if (${plain} && Number.isInteger(${c}) && ${c} >= -2147483648 && ${c} <= 2147483647) out.int4Field(${c});`,
      int8: `if (Number.isSafeInteger(${c})) out.int8Field(${c});`,
      // String(-0) is '0'
      float8: `if (${plain} && isExactFloat8(${c})) out.float8Field(${c} === 0 ? 0 : ${c});`,
      float4: `if (${plain} && float4Of(${c}) !== undefined) out.float4Field(${c} === 0 ? 0 : float4Of(${c}));`,
      numeric: `if (${plain}) ${orCsv(`numericFromNumber(${c}, out)`)}`,
      text: `if (${plain}) out.textField(String(${c}));`,
    };
    const fast = write[column.kind];
    return fast ? `if (typeof ${c} === 'number') { ${fast} else ${slowBinary(c, i)} }` : `if (typeof ${c} === 'number') ${slowBinary(c, i)}`;
  },
  boolean: (c, i, _g, column) =>
    column.kind === 'bool' ? `if (typeof ${c} === 'boolean') out.boolField(${c});`
    : column.kind === 'text' ? `if (typeof ${c} === 'boolean') out.textField(${c} ? 'true' : 'false');`
    : `if (typeof ${c} === 'boolean') ${slowBinary(c, i)}`,
  Date: (c, i, g, column) => {
    const write = column.kind === 'timestamptz' || column.kind === 'timestamp' ? 'out.timestampField(t, 0);' : column.kind === 'date' ? 'out.int4Field(pgDays(t));' : column.kind === 'text' ? `out.textField(${c}.toISOString());` : undefined;
    return g.isoDates && write
      ? `if (${c} instanceof Date) { const t = ${c}.getTime(); if (t >= ${ISO_MIN_TIME} && t <= ${ISO_MAX_TIME}) ${write} else ${slowBinary(c, i)} }`
      : `if (${c} instanceof Date) ${slowBinary(c, i)}`;
  },
};

interface FastGroup {
  integer: boolean;
  /** json and array text can hide a NUL as an escape; the generic path knows how each is reported. */
  escapedNul: boolean;
  isoDates: boolean;
}

/**
 * Compiles the row writer of `encoder`'s plan for this EntityManager's platform and MikroORM
 * version: CSV lines, or binary tuples when `binary` (the encoder's `binaryColumns` are set).
 */
export function compileRowWriter(em: SqlEntityManager, encoder: RowEncoding, binary = false): RowWriter {
  const plan = encoder.plan;
  const meta = plan.meta;
  const platform = em.getPlatform();
  const groups = plan.groups;
  if (groups.length > NUMERIC_SHAPE_GROUPS) return viaSnapshot(em, encoder, binary);
  const columns = binary ? encoder.binaryColumns! : undefined;

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
    ['slowB', encoder.writeValueBinary.bind(encoder)],
    ['fallback', encoder.fallBackToCsv.bind(encoder)],
    ['asText', writeTextAs],
    ['int8FromText', int8FromText],
    ['int8FromBigInt', int8FromBigInt],
    ['uuidFromText', uuidFromText],
    ['numericFromText', numericFromText],
    ['numericFromNumber', numericFromNumber],
    ['dateFromText', dateFromText],
    ['float4Of', float4Of],
    ['isExactFloat8', isExactFloat8],
    ['pgDays', pgDays],
    ['writeArray', writeArray],
    ['isPlainJson', isPlainJson],
  ]);
  const reads: string[] = [];
  const converts: string[] = [];
  /** Raw value of each fast property, by name: the checks read these. */
  const raws = new Map<string, string>();
  /** Of each to-one read as its target's key: its raw value, and whether the row takes the snapshot for it. */
  const toOnes = new Map<string, ToOneRead>();
  const shapes: string[] = [];
  const writes: string[] = [];
  let needsSnapshot = false;
  let hasToOne = false;

  groups.forEach((group, i) => {
    const prop = group.prop;
    const bit = 2 ** i;
    const separator = binary ? '' : `if (first) first = false; else out.comma();`;
    if (group.kind === 'single' && hasToOneFastPath(prop, comparable)) {
      // the key the snapshot takes of a to-one (`EntityComparator.getPropertySnapshot`): null, unset,
      // else `target.__helper.getPrimaryKey(true)`, and NULL when deferred (`snapshotPayload`); a
      // row view, a bare key, a target known only by its flush identifier or a key that is not a
      // plain number or string takes the snapshot (`t${i}` set), so its text (or error) is the snapshot's own
      const c = `c${i}`;
      context.set(`prop${i}`, prop);
      hasToOne = true;
      // the key is read before the checks, which it lets pass without `checkInsert` (`checkGuard`)
      reads.push(
        [
          `const r${i} = (data !== undefined && data[${JSON.stringify(prop.name)}] !== undefined ? data[${JSON.stringify(prop.name)}] : entity[${JSON.stringify(prop.name)}]);`,
          `let ${c}; let t${i} = false;`,
          `if (view) t${i} = true;`,
          `else if (r${i} === null || r${i} === undefined) ${c} = r${i};`,
          `else { const h = r${i}.__helper; if (h != null && !(h.__identifier && !h.hasPrimaryKey())) { ${c} = h.getPrimaryKey(true); if (typeof ${c} !== 'number' && typeof ${c} !== 'string') t${i} = true; } else t${i} = true; }`,
          `if (!t${i} && deferred !== undefined && deferred.includes(prop${i})) ${c} = null;`,
        ].join(' '),
      );
      toOnes.set(prop.name, { raw: `r${i}`, taken: `t${i}` });
      // after the checks and the payload's declaration: a row that takes the snapshot takes it once
      converts.push(`if (t${i}) { if (payload === undefined) payload = view ? entity : snapshotPayload(em, entity, deferred); ${c} = payload[${JSON.stringify(prop.name)}]; }`);
      shapes.push(`if (${c} !== undefined) { shape += ${bit}; fields++; }`);
      writes.push(
        binary
          ? `if (t${i}) { if (${c} !== undefined) ${orCsv(`encoder.writeGroupBinary(${i}, payload, position, out)`)} } else if (${c} !== undefined) { ${toOneKeyBranches(c, i, prop, isoDates, columns?.[i][0])} }`
          : `if (t${i}) { if (${c} !== undefined) first = encoder.writeGroup(${i}, payload, position, out, first); } else if (${c} !== undefined) { ${separator} ${toOneKeyBranches(c, i, prop, isoDates, undefined)} }`,
      );
      return;
    }
    if (group.kind !== 'single' || !hasFastPath(prop, meta.root.discriminatorColumn, comparable)) {
      needsSnapshot = true;
      shapes.push(`if (payload[${JSON.stringify(prop.name)}] !== undefined) { shape += ${bit}; fields += ${group.fields.length}; }`);
      writes.push(
        binary
          ? `if (payload[${JSON.stringify(prop.name)}] !== undefined) ${orCsv(`encoder.writeGroupBinary(${i}, payload, position, out)`)}`
          : `if (payload[${JSON.stringify(prop.name)}] !== undefined) first = encoder.writeGroup(${i}, payload, position, out, first);`,
      );
      return;
    }
    const c = `c${i}`;
    // MikroORM keeps a scalar assigned through its accessor in the helper's data object; reading it
    // there skips the per-instance accessor, which every entity has its own of (so every read of
    // `entity.prop` is megamorphic); anything else (never assigned, a class field) reads as usual
    const read = `(data !== undefined && data[${JSON.stringify(prop.name)}] !== undefined ? data[${JSON.stringify(prop.name)}] : entity[${JSON.stringify(prop.name)}])`;
    const convert = converterOf(prop, platform);
    const array = writesArraysInPlace(prop);
    // a plain object's or array's JSON text goes into the buffer as it is made, not as a string first
    const jsonKind = columns?.[i][0].kind;
    const json = convert !== undefined && writesJsonInPlace(prop, platform) && (!columns || jsonKind === 'jsonb' || jsonKind === 'json' || jsonKind === 'text');
    reads.push(`const v${i} = ${read};`);
    raws.set(prop.name, `v${i}`);
    if (array) {
      // an array is written element by element into the buffer, not marshalled into a string first
      context.set(`convert${i}`, convert);
      context.set(`toDb${i}`, arrayElementConverter(prop.customType));
      converts.push(`const ${c} = v${i} === undefined || Array.isArray(v${i}) ? v${i} : convert${i}(v${i});`);
    } else if (convert && columns?.[i][0].kind === 'int8' && writesBigIntAsDecimal(prop)) {
      // a bigint goes to int8 as is, not through the decimal string the conversion makes of it
      context.set(`convert${i}`, convert);
      converts.push(`const ${c} = v${i} === undefined || typeof v${i} === 'bigint' ? v${i} : convert${i}(v${i});`);
    } else if (json) {
      // JSON.stringify of a plain object or array is never undefined: the shape is the same
      context.set(`convert${i}`, convert);
      converts.push(`const p${i} = v${i} !== undefined && isPlainJson(v${i}); const ${c} = v${i} === undefined || p${i} ? v${i} : convert${i}(v${i});`);
    } else if (convert) {
      context.set(`convert${i}`, convert);
      converts.push(`const ${c} = v${i} === undefined ? undefined : convert${i}(v${i});`);
    } else {
      converts.push(`const ${c} = v${i};`);
    }
    shapes.push(`if (${c} !== undefined) { shape += ${bit}; fields++; }`);
    const traits = columnTraits(prop.columnTypes?.[0]);
    const fast: FastGroup = { integer: traits.integer, escapedNul: traits.jsonb || traits.array, isoDates };
    const expected = columnFamilyOf(prop).expects;
    const order = [expected, ...BRANCH_ORDER.filter(e => e !== expected)];
    // flush binds a non-nullable property's `default` in place of null (`singleValue`)
    const substitutesDefault = !prop.nullable && prop.default != null;
    let branches: string[];
    if (columns) {
      const column = columns[i][0];
      if (array) context.set(`column${i}`, column);
      const nullBranch = substitutesDefault ? `if (${c} === null) ${slowBinary(c, i)}` : `if (${c} === null) out.nullField();`;
      const arrayBranch = array ? [`if (Array.isArray(${c})) ${orCsv(`writeArray(${c}, toDb${i}, column${i}, out)`)}`] : [];
      const bytesBranch = column.kind === 'bytea' ? [`if (ArrayBuffer.isView(${c})) out.bytesField(${c});`] : [];
      const bigintBranch = column.kind === 'int8' ? [`if (typeof ${c} === 'bigint') ${orCsv(`int8FromBigInt(${c}, out)`)}`] : [];
      const typed = (e: ExpectedValue) => BINARY_BRANCHES[e](c, i, fast, column);
      // where the text is not written in place, the string JSON.stringify makes takes the string branch
      const jsonBranch = json ? [`if (p${i}) { if (!out.jsonField(${c}${column.kind === 'jsonb' ? ', 1' : ''})) { const s${i} = convert${i}(${c}); ${BINARY_BRANCHES.string(`s${i}`, i, fast, column)} else ${slowBinary(`s${i}`, i)} } }`] : [];
      branches = [...jsonBranch, ...arrayBranch, typed(order[0]), ...bigintBranch, nullBranch, ...order.slice(1).map(typed), ...bytesBranch, slowBinary(c, i)];
    } else {
      const nullBranch = substitutesDefault ? `if (${c} === null) slow(${i}, ${c}, position, out);` : `if (${c} === null) {}`;
      const arrayBranch = array ? [`if (Array.isArray(${c})) { if (!out.quotedArray(${c}, toDb${i})) slow(${i}, convert${i}(${c}), position, out); }`] : [];
      const jsonBranch = json ? [`if (p${i}) { if (!out.quotedJson(${c})) { const s${i} = convert${i}(${c}); ${BRANCHES.string(`s${i}`, i, fast)} else slow(${i}, s${i}, position, out); } }`] : [];
      branches = [...jsonBranch, ...arrayBranch, BRANCHES[order[0]](c, i, fast), nullBranch, ...order.slice(1).map(e => BRANCHES[e](c, i, fast)), `slow(${i}, ${c}, position, out);`];
    }
    writes.push(`if (${c} !== undefined) { ${separator} ${branches.join(' else ')} }`);
  });

  // flush's checks come first: before the reads where initializers may change values, else as a
  // guard over the values read that, when it fails, lets `checkInsert` find and report the error
  const guard = checkGuard(plan, raws, toOnes);
  context.set('objectType', Object.prototype.toString);
  const code = [
    'return function writeRow(entity, position, deferred, sink, ordinal) {',
    guard === undefined ? '  checkInsert(em, plan, entity, position, deferred);' : '',
    '  const data = entity.__helper?.__data;',
    // a plain row's view (plan/row-view.ts) is its own payload: the snapshot needs an entity
    needsSnapshot || hasToOne ? '  const view = entity[ROW_VIEW] === true;' : '',
    ...reads.map(line => `  ${line}`),
    guard === undefined ? '' : `  if (!(${guard})) checkInsert(em, plan, entity, position, deferred);`,
    needsSnapshot ? '  let payload = view ? entity : snapshotPayload(em, entity, deferred);' : hasToOne ? '  let payload;' : '',
    ...converts.map(line => `  ${line}`),
    '  let shape = 0;',
    '  let fields = 0;',
    ...shapes.map(line => `  ${line}`),
    ...(binary
      ? [
          '  const out = sink.writerFor(encoder, shape, position, true);',
          '  const mark = out.length;',
          '  out.tuple(ordinal === undefined ? fields : fields + 1);',
          ...writes.map(line => `  ${line}`),
          '  if (ordinal !== undefined) out.int8Field(ordinal);',
        ]
      : [
          '  const out = sink.writerFor(encoder, shape, position);',
          '  let first = true;',
          ...writes.map(line => `  ${line}`),
          '  if (ordinal !== undefined) { out.comma(); out.integer(ordinal); }',
          '  out.newline();',
        ]),
    '};',
  ].join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled once per entity plan, from metadata only
  return new Function(...context.keys(), code)(...context.values()) as RowWriter;
}

/** The locals of a to-one read as its target's key: its raw value, and whether the row takes the snapshot for it. */
interface ToOneRead {
  raw: string;
  taken: string;
}

/**
 * An expression over the raw values that holds only when `checkInsert` would pass, or undefined
 * when `checkInsert` must run first (initializers, to-ones read from the snapshot, checks of
 * other properties).
 */
function checkGuard(plan: EntityPlan, raws: ReadonlyMap<string, string>, toOnes: ReadonlyMap<string, ToOneRead>): string | undefined {
  if (plan.initializerProps.length) return undefined;
  const terms: string[] = [];
  for (const prop of plan.requiredProps) {
    const v = raws.get(prop.name) ?? toOnes.get(prop.name)?.raw;
    if (!v) return undefined;
    terms.push(`${v} != null`);
  }
  // a to-one read as its target's key without the snapshot holds null (none, or deferred), or a
  // key read by `getPrimaryKey(true)` from a target with no custom key type: the `getPrimaryKey()`
  // that `hasPrimaryKey` tests is the same value; every other value takes the snapshot, and the check
  for (const prop of plan.toOneProps) {
    const read = toOnes.get(prop.name);
    if (!read) return undefined;
    terms.push(`!${read.taken}`);
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
 * take the snapshot path whole (as CSV: the encoder writes no binary for them).
 */
function viaSnapshot(em: SqlEntityManager, encoder: RowEncoding, binary: boolean): RowWriter {
  if (binary) throw new Error('binary rows of a table past NUMERIC_SHAPE_GROUPS columns');
  return (entity, position, deferred, sink, ordinal) => {
    checkInsert(em, encoder.plan, entity, position, deferred);
    const data = isRowView(entity) ? entity : snapshotPayload(em, entity, deferred);
    const shape = encoder.shapeOf(data);
    encoder.encode(data, shape, position, sink.writerFor(encoder, shape, position), ordinal);
  };
}

/**
 * A one-dimensional array of an `ArrayType` property, element by element as the CSV path's
 * `ChunkWriter.quotedArray` writes them: a null element is NULL, any other is the text
 * `'' + toDb(element)`, read as the element type reads it. False where an element has no exact
 * binary form (or holds a NUL, which the CSV path reports).
 */
function writeArray(values: readonly unknown[], toDb: (value: unknown) => unknown, column: BinaryColumn, out: ChunkWriter): boolean {
  const start = out.beginArray(values.length, column.elementOid!);
  let hasNull = false;
  for (let i = 0; i < values.length; i++) {
    const converted = toDb(values[i]);
    if (converted == null) {
      out.nullField();
      hasNull = true;
      continue;
    }
    const element = '' + (converted as string);
    if (element.indexOf('\0') !== -1 || !writeTextAs(column.kind, element, out)) return false;
  }
  out.endArray(start, hasNull);
  return true;
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

/**
 * A to-one whose snapshot value is its target's key read by `getPrimaryKey(true)` with nothing
 * converted: one column, a target with one scalar primary key of no custom type, no `mapToPk`,
 * `targetKey` or polymorphism (whose snapshots differ), and no `default` that flush would bind for null.
 */
function hasToOneFastPath(prop: EntityProperty, comparable: ReadonlySet<EntityProperty>): boolean {
  if (!isOwningToOne(prop) || !comparable.has(prop) || prop.fieldNames.length !== 1) return false;
  if (prop.mapToPk || prop.customType || prop.lazy || prop.default != null || mikroOrm.isPolymorphic(prop) || mikroOrm.targetKeyOf(prop)) return false;
  const pks = prop.targetMeta?.getPrimaryProps() ?? [];
  return pks.length === 1 && pks[0].kind === ReferenceKind.SCALAR && !pks[0].customType && ['number', 'string'].includes(pks[0].runtimeType);
}

/** Writes a to-one's key `c` (a number, a string or null) with the scalar branches of its column. */
function toOneKeyBranches(c: string, i: number, prop: EntityProperty, isoDates: boolean, column: BinaryColumn | undefined): string {
  const traits = columnTraits(prop.columnTypes?.[0]);
  const fast: FastGroup = { integer: traits.integer, escapedNul: traits.jsonb || traits.array, isoDates };
  if (column) {
    return [BINARY_BRANCHES.number(c, i, fast, column), BINARY_BRANCHES.string(c, i, fast, column), `if (${c} === null) out.nullField();`, slowBinary(c, i)].join(' else ');
  }
  return [BRANCHES.number(c, i, fast), BRANCHES.string(c, i, fast), `if (${c} === null) {}`, `slow(${i}, ${c}, position, out);`].join(' else ');
}

/**
 * Is the property MikroORM's own `BigIntType`, whose conversion of a bigint is `'' + value` (asked
 * of the type with a probe), so that the bigint itself can be written as the int8 that text reads as?
 */
function writesBigIntAsDecimal(prop: EntityProperty): boolean {
  const type = prop.customType;
  if (!(type instanceof BigIntType) || type.convertToDatabaseValue !== BigIntType.prototype.convertToDatabaseValue) return false;
  const probe = -9007199254740993n;
  return type.convertToDatabaseValue(probe as never) === '-9007199254740993';
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
