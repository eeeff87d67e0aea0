// An entity zoo covering every property kind copyPersist promises to write exactly as flush does.
// `createZoo()` builds fresh classes and schemas on every call, so two ORMs (one flushing, one
// copying) never share metadata. Every kind gets its own entity or a clearly named column, so a
// failing differential comparison points at the kind that differs.
import { BigIntType, DecimalType, EnumArrayType, PrimaryKeyProp, EntitySchema, Reference, Type, type EntityManager, type Ref } from '@mikro-orm/core';

/** A user-defined type converted in JavaScript: `{ x, y }` ⇄ `'x;y'` in a text column. */
export class PointType extends Type<Point | null | undefined, string | null | undefined> {
  override convertToDatabaseValue(value: Point | null | undefined): string | null | undefined {
    return value == null ? value : `${value.x};${value.y}`;
  }
  override convertToJSValue(value: string | null | undefined): Point | null | undefined {
    if (value == null) return value;
    const [x, y] = value.split(';').map(Number);
    return { x, y };
  }
  override getColumnType(): string {
    return 'text';
  }
}
export interface Point {
  x: number;
  y: number;
}

/** A custom type converted inside SQL: COPY cannot evaluate that, so copyPersist must refuse it. */
export class SqlUpperType extends Type<string, string> {
  override convertToDatabaseValueSQL(key: string): string {
    return `upper(${key})`;
  }
  override getColumnType(): string {
    return 'text';
  }
}

export enum Color {
  Red = 'red',
  Green = 'green',
  Blue = 'blue',
}
export enum Level {
  Low = 1,
  High = 2,
  Max = 10,
}

/** Texts PostgreSQL's COPY CSV format and MikroORM's quoting each treat specially. */
export const TRICKY_TEXTS: Record<string, string | null> = {
  quotes: `she said "hi" and 'bye'`,
  commas: 'a,b,,c',
  cr: 'a\rb',
  lf: 'a\nb',
  crlf: 'a\r\nb',
  tabs: 'a\tb\t',
  backslashes: 'a\\b\\\\c\\',
  literalBackslashN: '\\N',
  literalNull: 'NULL',
  empty: '',
  null: null,
  nonAscii: 'Żółć — naïve façade, 日本語',
  emoji: '🦊🏳️‍🌈 ok',
  leadingSpace: '  padded  ',
  dot: '\\.',
};

export interface ZooOptions {
  /** Schema of the entity that lives outside the ORM's default schema. */
  otherSchema: string;
}

export function createZoo(options: ZooOptions) {
  // ---------------------------------------------------------------- text
  class TextKinds {
    id!: number;
    kind!: string;
    textValue!: string | null;
    varcharValue!: string | null;
  }
  const TextKindsSchema = new EntitySchema<TextKinds>({
    class: TextKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      kind: { type: 'string' },
      textValue: { type: 'text', nullable: true },
      varcharValue: { type: 'string', length: 100, nullable: true },
    },
  });

  // ---------------------------------------------------------------- numbers, booleans, uuids, bytes
  class ScalarKinds {
    id!: number;
    boolValue?: boolean | null;
    intValue?: number | null;
    smallintValue?: number | null;
    doubleValue?: number | null;
    floatValue?: number | null;
    bigintAsBigint?: bigint | null;
    bigintAsString?: string | null;
    bigintAsNumber?: number | null;
    decimalAsString?: string | null;
    decimalAsNumber?: number | null;
    uuidValue?: string | null;
    blobValue?: Buffer | null;
  }
  const ScalarKindsSchema = new EntitySchema<ScalarKinds>({
    class: ScalarKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      boolValue: { type: 'boolean', nullable: true },
      intValue: { type: 'integer', nullable: true },
      smallintValue: { type: 'smallint', nullable: true },
      doubleValue: { type: 'double', nullable: true },
      floatValue: { type: 'float', nullable: true },
      bigintAsBigint: { type: new BigIntType('bigint'), nullable: true },
      bigintAsString: { type: new BigIntType('string'), nullable: true },
      bigintAsNumber: { type: new BigIntType('number'), nullable: true },
      decimalAsString: { type: new DecimalType('string'), precision: 20, scale: 6, nullable: true },
      decimalAsNumber: { type: new DecimalType('number'), precision: 20, scale: 6, nullable: true },
      uuidValue: { type: 'uuid', nullable: true },
      blobValue: { type: 'blob', nullable: true },
    },
  });

  // ---------------------------------------------------------------- dates and times
  class TimeKinds {
    id!: number;
    timestamptzValue?: Date | null;
    timestampValue?: Date | null;
    dateValue?: string | null;
    timeValue?: string | null;
  }
  const TimeKindsSchema = new EntitySchema<TimeKinds>({
    class: TimeKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      timestamptzValue: { type: 'datetime', nullable: true },
      timestampValue: { type: 'datetime', columnType: 'timestamp(3)', nullable: true },
      dateValue: { type: 'date', nullable: true },
      timeValue: { type: 'time', nullable: true },
    },
  });

  // ---------------------------------------------------------------- json
  class JsonKinds {
    id!: number;
    kind!: string;
    jsonbValue?: unknown;
    jsonValue?: unknown;
  }
  const JsonKindsSchema = new EntitySchema<JsonKinds>({
    class: JsonKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      kind: { type: 'string' },
      jsonbValue: { type: 'json', nullable: true },
      jsonValue: { type: 'json', columnType: 'json', nullable: true },
    },
  });

  // ---------------------------------------------------------------- arrays and enums
  class ArrayEnumKinds {
    id!: number;
    stringArray?: string[] | null;
    numberArray?: number[] | null;
    enumArray?: Color[] | null;
    stringEnum?: Color | null;
    numericEnum?: Level | null;
  }
  const ArrayEnumKindsSchema = new EntitySchema<ArrayEnumKinds>({
    class: ArrayEnumKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      stringArray: { type: 'string[]', nullable: true },
      numberArray: { type: 'number[]', nullable: true },
      // items as arrays: MikroORM 6's EntitySchema discovery needs a non-empty list without a `type`
      // an explicit EnumArrayType: MikroORM 6's EntitySchema loses the one it makes for `enum + array`
      enumArray: { type: new EnumArrayType('ArrayEnumKinds.enumArray', Object.values(Color)), enum: true, items: Object.values(Color), array: true, nullable: true },
      stringEnum: { enum: true, items: Object.values(Color), nullable: true },
      numericEnum: { enum: true, items: [Level.Low, Level.High, Level.Max], nullable: true },
    },
  });

  // ---------------------------------------------------------------- custom type, naming, persist:false, formula, generated
  class MappingKinds {
    id!: number;
    customPoint?: Point | null;
    camelCaseName!: string;
    explicitFieldName!: string;
    notPersisted?: string;
    formulaValue?: number;
    addendA!: number;
    addendB!: number;
    generatedSum?: number;
  }
  const MappingKindsSchema = new EntitySchema<MappingKinds>({
    class: MappingKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      customPoint: { type: PointType, nullable: true },
      camelCaseName: { type: 'string' },
      explicitFieldName: { type: 'string', fieldName: 'my_explicit_column' },
      notPersisted: { type: 'string', persist: false },
      formulaValue: { type: 'integer', formula: cols => `${cols}.id * 10` /* `${cols}` is the table alias in 6 and 7 */, lazy: false },
      addendA: { type: 'integer' },
      addendB: { type: 'integer' },
      // both MikroORM 6 and 7 support `generated`; flush leaves the column out, so must COPY
      generatedSum: { type: 'integer', generated: '(addend_a + addend_b) stored', nullable: true },
    },
  });

  // ---------------------------------------------------------------- initializers, onCreate, defaults, version, serial id
  class InitializerKinds {
    id?: number;
    label!: string;
    fromInitializer: string = 'initialized in the class';
    fromOnCreate?: string;
    onCreateDate?: Date;
    withDefault?: string;
    withNumberDefault?: number;
    withDefaultRaw?: Date;
    version?: number;
  }
  const InitializerKindsSchema = new EntitySchema<InitializerKinds>({
    class: InitializerKinds,
    properties: {
      // left undefined: the database assigns it
      id: { type: 'integer', primary: true, autoincrement: true },
      label: { type: 'string' },
      fromInitializer: { type: 'string' },
      fromOnCreate: { type: 'string', onCreate: (e: InitializerKinds) => `created:${e.label}` },
      onCreateDate: { type: 'datetime', onCreate: () => new Date('2024-05-06T07:08:09.123Z') },
      withDefault: { type: 'string', default: 'the default', nullable: true },
      withNumberDefault: { type: 'integer', default: 42 },
      withDefaultRaw: { type: 'datetime', defaultRaw: 'now()' },
      version: { type: 'integer', version: true },
    },
  });

  // ---------------------------------------------------------------- embeddables
  class Geo {
    lat!: number;
    lng!: number;
  }
  class Address {
    street!: string | null;
    city!: string;
    geo?: Geo | null;
    country?: string;
    stamp?: string;
  }
  const GeoSchema = new EntitySchema<Geo>({
    class: Geo,
    embeddable: true,
    properties: {
      lat: { type: 'double' },
      lng: { type: 'double' },
    },
  });
  const AddressSchema = new EntitySchema<Address>({
    class: Address,
    embeddable: true,
    properties: {
      street: { type: 'string', nullable: true },
      city: { type: 'string' },
      geo: { kind: 'embedded', entity: () => Geo, nullable: true },
      // initializers inside embeddables: inline columns, JSON objects and arrays of them
      country: { type: 'string', default: 'CH' },
      stamp: { type: 'string', onCreate: () => 'stamped', nullable: true },
    },
  });
  class EmbeddedKinds {
    id!: number;
    inlineAddress!: Address;
    inlineAddressNullable?: Address | null;
    objectAddress?: Address | null;
    objectAddressList?: Address[];
  }
  const EmbeddedKindsSchema = new EntitySchema<EmbeddedKinds>({
    class: EmbeddedKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      inlineAddress: { kind: 'embedded', entity: () => Address },
      inlineAddressNullable: { kind: 'embedded', entity: () => Address, nullable: true, prefix: 'other_' },
      objectAddress: { kind: 'embedded', entity: () => Address, object: true, nullable: true },
      objectAddressList: { kind: 'embedded', entity: () => Address, object: true, array: true, nullable: true },
    },
  });

  // ---------------------------------------------------------------- relations
  class Publisher {
    id!: number;
    name!: string;
  }
  const PublisherSchema = new EntitySchema<Publisher>({
    class: Publisher,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
    },
  });
  /** Composite primary key. */
  class Edition {
    declare [PrimaryKeyProp]?: ['code', 'year'];
    code!: string;
    year!: number;
    title!: string;
  }
  const EditionSchema = new EntitySchema<Edition>({
    class: Edition,
    properties: {
      code: { type: 'string', primary: true },
      year: { type: 'integer', primary: true },
      title: { type: 'string' },
    },
  });
  class RelationKinds {
    id!: number;
    how!: string;
    publisherEntity?: Publisher | null;
    publisherRef?: Ref<Publisher> | null;
    editionEntity?: Edition | null;
    editionRef?: Ref<Edition> | null;
  }
  const RelationKindsSchema = new EntitySchema<RelationKinds>({
    class: RelationKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      how: { type: 'string' },
      publisherEntity: { kind: 'm:1', entity: () => Publisher, nullable: true },
      publisherRef: { kind: 'm:1', entity: () => Publisher, ref: true, nullable: true },
      editionEntity: { kind: 'm:1', entity: () => Edition, nullable: true },
      editionRef: { kind: 'm:1', entity: () => Edition, ref: true, nullable: true },
    },
  });
  /** Owning one-to-one relations, single and composite. */
  class OneToOneKinds {
    id!: number;
    how!: string;
    publisher?: Ref<Publisher> | null;
    edition?: Edition | null;
  }
  const OneToOneKindsSchema = new EntitySchema<OneToOneKinds>({
    class: OneToOneKinds,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      how: { type: 'string' },
      publisher: { kind: '1:1', entity: () => Publisher, owner: true, ref: true, nullable: true },
      edition: { kind: '1:1', entity: () => Edition, owner: true, nullable: true },
    },
  });

  // ---------------------------------------------------------------- single-table inheritance
  class Animal {
    id!: number;
    name!: string;
    type?: string;
  }
  class Dog extends Animal {
    barks?: boolean;
  }
  class Cat extends Animal {
    lives?: number;
    favouriteToy?: string | null;
  }
  const AnimalSchema = new EntitySchema<Animal>({
    class: Animal,
    discriminatorColumn: 'type',
    discriminatorValue: 'animal',
    // by class name: MikroORM 6 only accepts names here (7 accepts names or classes)
    discriminatorMap: { animal: 'Animal', dog: 'Dog', cat: 'Cat' } as never,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
      type: { type: 'string' },
    },
  });
  const DogSchema = new EntitySchema<Dog, Animal>({
    class: Dog,
    discriminatorValue: 'dog',
    properties: {
      barks: { type: 'boolean', nullable: true },
    },
  });
  const CatSchema = new EntitySchema<Cat, Animal>({
    class: Cat,
    discriminatorValue: 'cat',
    properties: {
      lives: { type: 'integer', nullable: true },
      favouriteToy: { type: 'string', nullable: true },
    },
  });

  // ---------------------------------------------------------------- another schema
  class OtherSchemaKinds {
    id!: number;
    note!: string;
  }
  const OtherSchemaKindsSchema = new EntitySchema<OtherSchemaKinds>({
    class: OtherSchemaKinds,
    schema: options.otherSchema,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      note: { type: 'string' },
    },
  });

  const entities = [
    TextKindsSchema,
    ScalarKindsSchema,
    TimeKindsSchema,
    JsonKindsSchema,
    ArrayEnumKindsSchema,
    MappingKindsSchema,
    InitializerKindsSchema,
    GeoSchema,
    AddressSchema,
    EmbeddedKindsSchema,
    PublisherSchema,
    EditionSchema,
    RelationKindsSchema,
    OneToOneKindsSchema,
    AnimalSchema,
    DogSchema,
    CatSchema,
    OtherSchemaKindsSchema,
  ];

  /**
   * Phase 1: the rows others refer to (written first, so `em.getReference` in phase 2 points at
   * rows that exist). Phase 2: everything else, some of it referring to entities of phase 2 too.
   * Every value is deterministic, so both ORMs get identical input.
   */
  function phase1(em: EntityManager): object[] {
    const create = <T extends object>(cls: new () => T, data: object): T => em.create(cls, data as never, { persist: false });
    return [
      ...[1, 2, 3].map(id => create(Publisher, { id, name: `publisher ${id}` })),
      create(Edition, { code: 'A-1', year: 2001, title: 'first' }),
      create(Edition, { code: 'B,"2"', year: 2002, title: 'second' }),
    ];
  }

  function phase2(em: EntityManager): object[] {
    const create = <T extends object>(cls: new () => T, data: object): T => em.create(cls, data as never, { persist: false });
    const out: object[] = [];
    let id = 0;

    for (const [kind, value] of Object.entries(TRICKY_TEXTS)) {
      out.push(create(TextKinds, { id: ++id, kind, textValue: value, varcharValue: value }));
    }

    id = 0;
    out.push(
      create(ScalarKinds, {
        id: ++id,
        boolValue: true,
        intValue: 2147483647,
        smallintValue: -32768,
        doubleValue: 0.1 + 0.2,
        floatValue: -1.5e-7,
        bigintAsBigint: 9007199254740993n,
        bigintAsString: '-9223372036854775808',
        bigintAsNumber: 9007199254740991,
        decimalAsString: '12345678901234.123456',
        decimalAsNumber: 1234.5,
        uuidValue: '6f1b0a52-8d8c-4a5e-9f3a-0f5b2d8e9c11',
        blobValue: Buffer.from([0, 1, 2, 0x5c, 0x22, 0x2c, 0x0a, 0xff]),
      }),
      create(ScalarKinds, {
        id: ++id,
        boolValue: false,
        intValue: 0,
        smallintValue: 0,
        doubleValue: -0,
        floatValue: 1e21,
        bigintAsBigint: 0n,
        bigintAsString: '0',
        bigintAsNumber: -1,
        decimalAsString: '0.000001',
        decimalAsNumber: 0.1,
        uuidValue: '00000000-0000-0000-0000-000000000000',
        blobValue: Buffer.alloc(0),
      }),
      create(ScalarKinds, {
        id: ++id,
        boolValue: null,
        intValue: null,
        smallintValue: null,
        doubleValue: null,
        floatValue: null,
        bigintAsBigint: null,
        bigintAsString: null,
        bigintAsNumber: null,
        decimalAsString: null,
        decimalAsNumber: null,
        uuidValue: null,
        blobValue: null,
      }),
      // every nullable column left undefined
      create(ScalarKinds, { id: ++id }),
    );

    id = 0;
    out.push(
      create(TimeKinds, {
        id: ++id,
        timestamptzValue: new Date('2024-02-29T23:59:59.999Z'),
        timestampValue: new Date('2024-02-29T23:59:59.999Z'),
        dateValue: '2024-02-29',
        timeValue: '23:59:58',
      }),
      create(TimeKinds, {
        id: ++id,
        timestamptzValue: new Date('1969-07-20T20:17:40.000Z'),
        timestampValue: new Date('1999-12-31T00:00:00.001Z'),
        dateValue: '0001-01-01',
        timeValue: '00:00:00',
      }),
      create(TimeKinds, { id: ++id, timestamptzValue: null, timestampValue: null, dateValue: null, timeValue: null }),
    );

    id = 0;
    const jsonValues: Record<string, unknown> = {
      object: { a: 1, b: 'x "y", z', nested: { list: [1, 2, { c: null }] }, emoji: '🦊', backslash: '\\N' },
      array: [1, 'two', null, { three: 3 }, [4]],
      string: 'just a string, with "quotes"',
      jsonLookingString: '{"a":1}',
      numericString: '42',
      emptyString: '',
      number: 42.5,
      zero: 0,
      booleanTrue: true,
      booleanFalse: false,
      emptyObject: {},
      emptyArray: [],
      null: null,
    };
    for (const [kind, value] of Object.entries(jsonValues)) {
      out.push(create(JsonKinds, { id: ++id, kind, jsonbValue: value, jsonValue: value }));
    }
    out.push(create(JsonKinds, { id: ++id, kind: 'undefined' }));

    id = 0;
    out.push(
      create(ArrayEnumKinds, {
        id: ++id,
        // 'NULL' and ' spaced ' are left out: flush stores NULL and 'spaced' for them, copyPersist what
        // the entity holds (README: where the result differs; fuzz.test.ts reads them back)
        stringArray: ['plain', 'with "quotes"', 'with,comma', 'with\\backslash', '', 'line\nbreak', '{braces}', 'inner space'],
        numberArray: [1, -2, 3.5, 0],
        enumArray: [Color.Red, Color.Blue],
        stringEnum: Color.Green,
        numericEnum: Level.Max,
      }),
      create(ArrayEnumKinds, { id: ++id, stringArray: [], numberArray: [], enumArray: [], stringEnum: Color.Red, numericEnum: Level.Low }),
      create(ArrayEnumKinds, { id: ++id, stringArray: null, numberArray: null, enumArray: null, stringEnum: null, numericEnum: null }),
    );

    id = 0;
    out.push(
      create(MappingKinds, { id: ++id, customPoint: { x: 1, y: -2.5 }, camelCaseName: 'camel', explicitFieldName: 'explicit', notPersisted: 'never written', addendA: 1, addendB: 2 }),
      create(MappingKinds, { id: ++id, customPoint: null, camelCaseName: '', explicitFieldName: 'x', addendA: 10, addendB: -20 }),
    );

    // the database assigns ids; the comparison leaves the serial id and the now() column out
    out.push(
      create(InitializerKinds, { label: 'all undefined' }),
      create(InitializerKinds, { label: 'all given', fromInitializer: 'given', fromOnCreate: 'given', onCreateDate: new Date('2020-01-01T00:00:00Z'), withDefault: 'given', withNumberDefault: 7 }),
      create(InitializerKinds, { label: 'nullable default set to null', withDefault: null }),
      // not nullable, with a default, given null: flush's nativeInsertMany writes `value ?? prop.default`
      create(InitializerKinds, { label: 'non-nullable default set to null', withNumberDefault: null }),
      // built without em.create: MikroORM 7 runs onCreate in em.create, so here only flush (or copyPersist) can
      Object.assign(new InitializerKinds(), { label: 'built with new' }),
      Object.assign(new InitializerKinds(), { label: 'built with new, given', fromOnCreate: 'given', withDefault: 'given', withNumberDefault: 0 }),
    );

    id = 0;
    out.push(
      create(EmbeddedKinds, {
        id: ++id,
        inlineAddress: { street: 'Main "St", 1\n2', city: 'Zürich', geo: { lat: 47.37, lng: 8.54 } },
        inlineAddressNullable: { street: null, city: 'Bern' },
        objectAddress: { street: 'Obj St', city: 'Köln', geo: { lat: 50.9, lng: 6.9 } },
        objectAddressList: [
          { street: 'One', city: 'A', geo: { lat: 1, lng: 2 } },
          { street: null, city: 'B' },
        ],
      }),
      create(EmbeddedKinds, {
        id: ++id,
        inlineAddress: { street: null, city: '' },
        inlineAddressNullable: null,
        objectAddress: null,
        objectAddressList: [],
      }),
      create(EmbeddedKinds, { id: ++id, inlineAddress: { street: 's', city: 'c', geo: null } }),
    );

    // relations: to entities written in phase 1, to new entities of this phase, and through references
    const p4 = create(Publisher, { id: 4, name: 'new in phase 2' });
    const e3 = create(Edition, { code: 'C', year: 2003, title: 'new in phase 2' });
    out.push(p4, e3);
    id = 0;
    out.push(
      create(RelationKinds, { id: ++id, how: 'entity from phase 2', publisherEntity: p4, editionEntity: e3 }),
      create(RelationKinds, { id: ++id, how: 'Reference.create of an entity', publisherRef: Reference.create(p4), editionRef: Reference.create(e3) }),
      create(RelationKinds, {
        id: ++id,
        how: 'em.getReference',
        publisherEntity: em.getReference(Publisher, 1),
        publisherRef: em.getReference(Publisher, 2, { wrapped: true }),
        editionEntity: em.getReference(Edition, ['A-1', 2001]),
        editionRef: em.getReference(Edition, ['B,"2"', 2002], { wrapped: true }),
      }),
      create(RelationKinds, { id: ++id, how: 'primary keys in em.create data', publisherEntity: 3, publisherRef: 1, editionEntity: ['A-1', 2001], editionRef: ['C', 2003] }),
      create(RelationKinds, { id: ++id, how: 'null', publisherEntity: null, publisherRef: null, editionEntity: null, editionRef: null }),
      create(RelationKinds, { id: ++id, how: 'undefined' }),
    );
    id = 0;
    out.push(
      create(OneToOneKinds, { id: ++id, how: 'entity and Reference.create', publisher: Reference.create(p4), edition: e3 }),
      create(OneToOneKinds, { id: ++id, how: 'em.getReference', publisher: em.getReference(Publisher, 1, { wrapped: true }), edition: em.getReference(Edition, ['A-1', 2001]) }),
      create(OneToOneKinds, { id: ++id, how: 'null', publisher: null, edition: null }),
    );

    id = 0;
    out.push(
      create(Animal, { id: ++id, name: 'generic animal' }),
      create(Dog, { id: ++id, name: 'dog', barks: true }),
      create(Dog, { id: ++id, name: 'quiet dog', barks: false }),
      create(Cat, { id: ++id, name: 'cat', lives: 9, favouriteToy: 'mouse' }),
      create(Cat, { id: ++id, name: 'cat without toy', lives: 7 }),
    );

    out.push(create(OtherSchemaKinds, { id: 1, note: 'in another schema' }), create(OtherSchemaKinds, { id: 2, note: '' }));
    return out;
  }

  /** Phase 3: plain rows keyed by property name (`em.copyPersist(Class, rows)` on the copy side). */
  const plainRows = {
    entity: InitializerKinds,
    rows: [
      { label: 'plain row, all undefined' },
      { label: 'plain row, all given', fromInitializer: 'given', fromOnCreate: 'given', withDefault: 'given', withNumberDefault: -1 },
    ] as Array<Pick<InitializerKinds, 'label'> & Partial<InitializerKinds>>,
  };

  return { entities, phases: [phase1, phase2], plainRows };
}

/** The entity of the rejection test: a custom type whose conversion happens in SQL. */
export function createSqlConvertedZoo() {
  class SqlConverted {
    id!: number;
    shout!: string;
  }
  const SqlConvertedSchema = new EntitySchema<SqlConverted>({
    class: SqlConverted,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      shout: { type: SqlUpperType },
    },
  });
  return { entities: [SqlConvertedSchema], SqlConverted };
}
