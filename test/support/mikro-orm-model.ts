// MikroORM's own SQL test model (`tests/entities-sql` of mikro-orm/mikro-orm, read at commit
// a6b9730585e467720b90390a1de706e0f4b8726c), transcribed into `EntitySchema` definitions so one
// file runs on MikroORM 7 and 6 without decorators. `mikroOrmModel()` returns fresh classes on
// every call, so two ORMs in one process never share metadata.
//
// Kept as in the source: cascade options (`Book2.author` and `Book2.tags` with `cascade: []`,
// `Book2.publisher` persist + remove, `Author2.address` ALL, `Test2.book` and `Book2.test` none),
// nullability, inverse sides, the uuid key of Book2 (column `uuid_pk`), the bigint key of
// BookTag2, the fixed-order pivots (`Book2.tags` with column `order`, `Label2.tests`), the named
// pivot tables (`author_to_friend`, `book_to_tag_unordered`), self-references (Author2.friends,
// following/followers, favouriteAuthor; FooBar2.fooBar; Test2.parent as mapToPk), the cycle
// Author2.favouriteBook ↔ Book2.author, the single-table hierarchy BaseUser2 → Employee2,
// Manager2 → CompanyOwner2 with its references to Employee2 and Manager2, composite keys (Car2,
// User2, Configuration2, FooParam2, Address2 keyed by its author), the object embeddable
// Identity, the formulas (never written), enums, JSON, arrays, blobs, date and time columns,
// version columns, the lifecycle hooks.
//
// Changed or dropped, and why:
// - Publisher2.tests uses a custom pivot entity `PublisherTest` (composite key publisher + test)
//   instead of the fixed-order table `publisher2_tests`: the model must also hold an M:N with a
//   pivot entity, and the source model has none left. Fixed-order pivots are still covered by
//   Book2.tags and Label2.tests. Test2 gains the inverse side `publishers` of that relation.
// - Book2.perex is lazy but not a scalar reference (`ref: true`): the graphs assign plain strings.
// - Label2's table and pivot name schemas of their own (`public.label2`,
//   `label_schema.label2_tests`): dropped, both ORMs of a test would write the same tables.
// - Author2.updatedAt's `onUpdate` returns a fixed date instead of `new Date()`, and timestamps
//   set by initializers are overwritten by the graphs: the two sides must be comparable. The
//   fixed date still shows whether the UPDATE that closes a cycle fires `onUpdate` on both.
// - `default: sql.now(3)` becomes `defaultRaw: 'current_timestamp(3)'` (`sql` is MikroORM 7 only).
// - Filters of Book2: read-side only; dropped.
// - Dummy2 (a readonly entity, never written) and BaseEntity22 (an empty abstract class): dropped.
// - FooBar2 extends MikroORM's `BaseEntity` helper class in the source: dropped (it adds methods,
//   no columns).
// - Author2.getCode (a method mapped as a property) and Identity.fooBar (a non-persistent
//   getter): dropped, nothing of them is written.
// - Plain fields of the source classes (hookParams, onLoadCalled, baseState, state) are mapped as
//   `persist: false`: EntitySchema wants every field listed.
// - Indexes and unique constraints are kept where they constrain writes (Author2 email, name +
//   email; Book2 isbn; Employee2 employeeProp; Address2 author), other indexes dropped.
import { Cascade, Collection, EntitySchema, QueryOrder, type EventArgs, type Ref } from '@mikro-orm/postgresql';

/** The date Author2's `onUpdate` writes, fixed so that both sides of a comparison agree. */
export const AUTHOR_UPDATED_AT = new Date('2030-01-02T03:04:05.678Z');

export enum UserType {
  Employee = 'employee',
  Manager = 'manager',
  Owner = 'owner',
}
export enum PublisherType {
  LOCAL = 'local',
  GLOBAL = 'global',
}
export enum PublisherType2 {
  LOCAL = 'LOCAL',
  GLOBAL = 'GLOBAL',
}
export enum Enum2 {
  PROP1 = 1,
  PROP2 = 2,
}

export interface Book2Meta {
  category?: string;
  items?: number;
  valid?: boolean;
  nested?: { foo: string; bar?: number; deep?: { baz: number; qux: boolean; str?: string } };
}

/** Fresh classes and schemas of MikroORM's SQL test model, for one ORM. */
export function mikroOrmModel() {
  abstract class BaseEntity2 {
    id!: number;
    hookTest = false;
  }

  class Identity {
    foo: string;
    bar: number;
    constructor(foo: string, bar: number) {
      this.foo = foo;
      this.bar = bar;
    }
  }

  class Author2 extends BaseEntity2 {
    static beforeDestroyCalled = 0;
    static afterDestroyCalled = 0;
    createdAt: Date = new Date();
    updatedAt: Date = new Date();
    name: string;
    email: string;
    age?: number | null;
    termsAccepted = false;
    optional?: boolean | null;
    identities?: string[] | null;
    born?: string | null;
    bornTime?: string | null;
    books = new Collection<Book2>(this);
    books2 = new Collection<Book2>(this);
    address?: Address2 | null;
    friends = new Collection<Author2>(this);
    following = new Collection<Author2>(this);
    followers = new Collection<Author2>(this);
    favouriteBook?: Book2 | null;
    favouriteAuthor?: Author2 | null;
    identity?: Identity | null;
    version!: number;
    versionAsString!: string;
    code!: string;
    booksTotal!: number;
    hookParams: unknown[] = [];
    onLoadCalled?: number;

    constructor(name: string, email: string) {
      super();
      this.name = name;
      this.email = email;
    }
  }

  class Book2 {
    uuid: string = crypto.randomUUID();
    createdAt: Date = new Date();
    isbn?: string | null;
    title?: string | null;
    perex?: string | null;
    price?: number | string | null;
    priceTaxed?: string;
    double?: number | null;
    meta?: Book2Meta | null;
    author: Author2;
    publisher?: Publisher2 | Ref<Publisher2> | null;
    test?: Test2 | null;
    tags = new Collection<BookTag2>(this);
    tagsUnordered = new Collection<BookTag2>(this);

    constructor(title: string, author: Author2) {
      this.title = title;
      this.author = author;
    }
  }

  class BookTag2 {
    id!: bigint | string | number;
    name: string;
    books = new Collection<Book2>(this);
    booksUnordered = new Collection<Book2>(this);
    constructor(name: string) {
      this.name = name;
    }
  }

  class Publisher2 extends BaseEntity2 {
    name: string;
    books = new Collection<Book2>(this);
    tests = new Collection<Test2>(this);
    type = PublisherType.LOCAL;
    type2 = PublisherType2.LOCAL;
    enum1?: number | null;
    enum2?: Enum2 | null;
    enum3?: number | null;
    enum4?: string | null;
    enum5?: string | null;
    constructor(name = 'asd', type = PublisherType.LOCAL) {
      super();
      this.name = name;
      this.type = type;
    }
  }

  /** The custom pivot entity of Publisher2.tests. */
  class PublisherTest {
    publisher!: Publisher2;
    test!: Test2;
  }

  class Test2 {
    id!: number;
    name?: string | null;
    book?: Book2 | null;
    parent?: number | null;
    config = new Collection<Configuration2>(this);
    version!: number;
    bars = new Collection<FooBar2>(this);
    publishers = new Collection<Publisher2>(this);
    constructor(name?: string) {
      if (name !== undefined) this.name = name;
    }
  }

  class Configuration2 {
    property: string;
    test: Test2;
    value: string;
    constructor(test: Test2, property: string, value: string) {
      this.test = test;
      this.property = property;
      this.value = value;
    }
  }

  class FooBar2 {
    id!: number;
    name!: string;
    nameWithSpace?: string | null;
    baz?: FooBaz2 | null;
    fooBar?: FooBar2 | null;
    version!: Date;
    blob?: Buffer | null;
    blob2?: Uint8Array | null;
    array?: number[] | null;
    objectProperty?: unknown;
    random?: number;
    lazyRandom?: number;
    tests = new Collection<Test2>(this);
    static create(name: string): FooBar2 {
      const bar = new FooBar2();
      bar.name = name;
      return bar;
    }
  }

  class FooBaz2 {
    id!: number;
    name: string;
    code: string;
    bar?: FooBar2 | null;
    version!: Date;
    constructor(name: string) {
      this.name = name;
      this.code = name;
    }
  }

  class FooParam2 {
    bar: FooBar2;
    baz: FooBaz2;
    value: string;
    version!: Date;
    constructor(bar: FooBar2, baz: FooBaz2, value: string) {
      this.bar = bar;
      this.baz = baz;
      this.value = value;
    }
  }

  class Label2 {
    uuid: string = crypto.randomUUID();
    name: string;
    tests = new Collection<Test2>(this);
    constructor(name: string) {
      this.name = name;
    }
  }

  class Address2 {
    author: Author2;
    value: string;
    constructor(author: Author2, value: string) {
      this.author = author;
      this.value = value;
    }
  }

  class Car2 {
    name: string;
    year: number;
    price: number;
    users = new Collection<User2>(this);
    constructor(name: string, year: number, price: number) {
      this.name = name;
      this.year = year;
      this.price = price;
    }
  }

  class CarOwner2 {
    id!: number;
    name: string;
    car!: Car2;
    constructor(name: string) {
      this.name = name;
    }
  }

  class User2 {
    firstName: string;
    lastName: string;
    foo?: number | null;
    cars = new Collection<Car2>(this);
    sandwiches = new Collection<Sandwich>(this);
    favouriteCar?: Car2 | null;
    constructor(firstName: string, lastName: string) {
      this.firstName = firstName;
      this.lastName = lastName;
    }
  }

  class Sandwich {
    id!: number;
    name: string;
    price: number;
    users = new Collection<User2>(this);
    constructor(name: string, price: number) {
      this.name = name;
      this.price = price;
    }
  }

  abstract class BaseUser2 {
    id!: number;
    firstName: string;
    lastName: string;
    type!: UserType;
    baseState?: string;
    constructor(firstName: string, lastName: string) {
      this.firstName = firstName;
      this.lastName = lastName;
    }
  }
  class Employee2 extends BaseUser2 {
    employeeProp!: number;
  }
  class Manager2 extends BaseUser2 {
    managerProp!: string;
  }
  class CompanyOwner2 extends Manager2 {
    ownerProp!: string;
    favouriteEmployee?: Employee2 | null;
    favouriteManager?: Manager2 | null;
    state?: string;
  }

  const now3 = { length: 3, defaultRaw: 'current_timestamp(3)' } as const;

  const schemas = [
    new EntitySchema<BaseEntity2>({
      class: BaseEntity2,
      abstract: true,
      hooks: { beforeCreate: [(args: EventArgs<BaseEntity2>) => void (args.entity.hookTest = true)] },
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        hookTest: { type: 'boolean', persist: false },
      },
    }),
    new EntitySchema<Identity>({
      class: Identity,
      embeddable: true,
      properties: {
        foo: { type: 'string', hidden: true },
        bar: { type: 'integer', hidden: true },
      },
    }),
    new EntitySchema<Author2, BaseEntity2>({
      class: Author2,
      indexes: [{ properties: ['name', 'age'] }, { name: 'custom_idx_name_123', properties: ['name'] }],
      uniques: [{ properties: ['name', 'email'] }],
      hooks: {
        onInit: [(args: EventArgs<Author2>) => {
          args.entity.code = `${args.entity.email} - ${args.entity.name}`;
          args.entity.hookParams = [];
        }],
        onLoad: [(args: EventArgs<Author2>) => void (args.entity.onLoadCalled = (args.entity.onLoadCalled ?? 0) + 1)],
        beforeCreate: [(args: EventArgs<Author2>) => {
          args.entity.version = 1;
          args.entity.hookParams.push(args);
        }],
        afterCreate: [(args: EventArgs<Author2>) => {
          args.entity.versionAsString = 'v' + args.entity.version;
          args.entity.hookParams.push(args);
        }],
        beforeUpdate: [(args: EventArgs<Author2>) => {
          args.entity.version += 1;
          args.entity.hookParams.push(args);
        }],
        afterUpdate: [(args: EventArgs<Author2>) => {
          args.entity.versionAsString = 'v' + args.entity.version;
          args.entity.hookParams.push(args);
        }],
        beforeDelete: [() => void (Author2.beforeDestroyCalled += 1)],
        afterDelete: [() => void (Author2.afterDestroyCalled += 1)],
      },
      properties: {
        createdAt: { type: 'datetime', ...now3 },
        updatedAt: { type: 'datetime', ...now3, onUpdate: () => new Date(AUTHOR_UPDATED_AT) },
        name: { type: 'string' },
        email: { type: 'string', unique: 'custom_email_unique_name' },
        age: { type: 'integer', nullable: true, default: null },
        termsAccepted: { type: 'boolean', index: true },
        optional: { type: 'boolean', nullable: true },
        identities: { type: 'string[]', nullable: true },
        born: { type: 'date', nullable: true, index: true },
        bornTime: { type: 'time', nullable: true, index: 'born_time_idx' },
        books: { kind: '1:m', entity: () => Book2, mappedBy: 'author', orderBy: { title: QueryOrder.ASC } },
        books2: { kind: '1:m', entity: () => Book2, mappedBy: 'author', orderBy: { title: QueryOrder.ASC } },
        address: { kind: '1:1', entity: () => Address2, mappedBy: 'author', cascade: [Cascade.ALL], nullable: true },
        friends: { kind: 'm:n', entity: () => Author2, owner: true, pivotTable: 'author_to_friend' },
        following: { kind: 'm:n', entity: () => Author2, owner: true, inversedBy: 'followers' },
        followers: { kind: 'm:n', entity: () => Author2, mappedBy: 'following' },
        favouriteBook: { kind: 'm:1', entity: () => Book2, nullable: true, updateRule: 'no action', deleteRule: 'cascade' },
        favouriteAuthor: { kind: 'm:1', entity: () => Author2, nullable: true },
        identity: { kind: 'embedded', entity: () => Identity, object: true, nullable: true },
        version: { type: 'integer', persist: false },
        versionAsString: { type: 'string', persist: false },
        code: { type: 'string', persist: false },
        booksTotal: { type: 'integer', persist: false },
        // plain fields of the source class, mapped here only because EntitySchema lists every field
        hookParams: { type: 'json', persist: false },
        onLoadCalled: { type: 'integer', persist: false },
      },
    }),
    new EntitySchema<Book2>({
      class: Book2,
      properties: {
        uuid: { type: 'uuid', primary: true, fieldName: 'uuid_pk' },
        createdAt: { type: 'datetime', ...now3 },
        isbn: { type: 'character', length: 13, nullable: true, unique: true },
        title: { type: 'string', nullable: true, default: '' },
        perex: { type: 'text', nullable: true, lazy: true },
        price: { type: 'decimal', precision: 8, scale: 2, nullable: true },
        priceTaxed: { type: 'string', formula: (table: unknown) => `${String(table)}.price * 1.19` },
        double: { type: 'double', nullable: true },
        meta: { type: 'json', nullable: true },
        author: { kind: 'm:1', entity: () => Author2, cascade: [] },
        publisher: { kind: 'm:1', entity: () => Publisher2, cascade: [Cascade.PERSIST, Cascade.REMOVE], nullable: true, ref: true },
        test: { kind: '1:1', entity: () => Test2, mappedBy: 'book', cascade: [], nullable: true },
        tags: { kind: 'm:n', entity: () => BookTag2, owner: true, inversedBy: 'books', cascade: [], fixedOrder: true, fixedOrderColumn: 'order' },
        tagsUnordered: { kind: 'm:n', entity: () => BookTag2, owner: true, inversedBy: 'booksUnordered', pivotTable: 'book_to_tag_unordered', orderBy: { name: QueryOrder.ASC } },
      },
    }),
    new EntitySchema<BookTag2>({
      class: BookTag2,
      properties: {
        id: { type: 'bigint', primary: true, autoincrement: true },
        name: { type: 'string', length: 50 },
        books: { kind: 'm:n', entity: () => Book2, mappedBy: 'tags' },
        booksUnordered: { kind: 'm:n', entity: () => Book2, mappedBy: 'tagsUnordered' },
      },
    }),
    new EntitySchema<Publisher2, BaseEntity2>({
      class: Publisher2,
      properties: {
        name: { type: 'string', fieldName: 'name' },
        books: { kind: '1:m', entity: () => Book2, mappedBy: 'publisher' },
        tests: { kind: 'm:n', entity: () => Test2, owner: true, inversedBy: 'publishers', pivotEntity: () => PublisherTest },
        type: { enum: true, items: () => PublisherType },
        type2: { enum: true, items: () => PublisherType2 },
        enum1: { enum: true, items: [0, 1], nullable: true },
        enum2: { enum: true, items: () => Enum2, nullable: true },
        enum3: { enum: true, items: [1, 2, 3], nullable: true },
        enum4: { enum: true, items: ['a', 'b', 'c'], nullable: true },
        enum5: { enum: true, items: ['a'], nullable: true },
      },
    }),
    new EntitySchema<PublisherTest>({
      class: PublisherTest,
      properties: {
        publisher: { kind: 'm:1', entity: () => Publisher2, primary: true },
        test: { kind: 'm:1', entity: () => Test2, primary: true },
      },
    }),
    new EntitySchema<Test2>({
      class: Test2,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string', nullable: true },
        book: { kind: '1:1', entity: () => Book2, owner: true, inversedBy: 'test', cascade: [], nullable: true },
        // the property's type is the key (mapToPk), which EntitySchema's typing cannot relate to Test2
        parent: { kind: 'm:1', entity: () => Test2 as never, mapToPk: true, nullable: true },
        config: { kind: '1:m', entity: () => Configuration2, mappedBy: 'test' },
        version: { type: 'integer', version: true },
        bars: { kind: 'm:n', entity: () => FooBar2, owner: true, inversedBy: 'tests' },
        publishers: { kind: 'm:n', entity: () => Publisher2, mappedBy: 'tests' },
      },
    }),
    new EntitySchema<Configuration2>({
      class: Configuration2,
      properties: {
        property: { type: 'string', primary: true },
        test: { kind: 'm:1', entity: () => Test2, primary: true },
        value: { type: 'string' },
      },
    }),
    new EntitySchema<FooBar2>({
      class: FooBar2,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        nameWithSpace: { type: 'string', fieldName: 'name with space', nullable: true },
        baz: { kind: '1:1', entity: () => FooBaz2, owner: true, inversedBy: 'bar', orphanRemoval: true, nullable: true },
        fooBar: { kind: '1:1', entity: () => FooBar2, owner: true, nullable: true },
        version: { type: 'Date', version: true, length: 0 },
        blob: { type: 'blob', nullable: true },
        blob2: { type: 'uint8array', nullable: true },
        array: { type: 'number[]', nullable: true },
        objectProperty: { type: 'json', nullable: true },
        random: { type: 'integer', formula: '(select 123)' },
        lazyRandom: { type: 'integer', formula: '(select 456)', lazy: true },
        tests: { kind: 'm:n', entity: () => Test2, mappedBy: 'bars' },
      },
    }),
    new EntitySchema<FooBaz2>({
      class: FooBaz2,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        code: { type: 'string', columnType: 'varchar' },
        bar: { kind: '1:1', entity: () => FooBar2, mappedBy: 'baz', nullable: true },
        version: { type: 'Date', version: true },
      },
    }),
    new EntitySchema<FooParam2>({
      class: FooParam2,
      properties: {
        bar: { kind: 'm:1', entity: () => FooBar2, primary: true },
        baz: { kind: 'm:1', entity: () => FooBaz2, primary: true },
        value: { type: 'string' },
        version: { type: 'Date', version: true },
      },
    }),
    new EntitySchema<Label2>({
      class: Label2,
      properties: {
        uuid: { type: 'uuid', primary: true },
        name: { type: 'string' },
        tests: { kind: 'm:n', entity: () => Test2, owner: true, pivotTable: 'label2_tests', fixedOrder: true },
      },
    }),
    new EntitySchema<Address2>({
      class: Address2,
      comment: 'This is address table',
      properties: {
        author: { kind: '1:1', entity: () => Author2, owner: true, inversedBy: 'address', primary: true, joinColumn: 'author_id', unique: 'address2_author_id_unique', eager: true },
        value: { type: 'string', comment: 'This is address property' },
      },
    }),
    new EntitySchema<Car2>({
      class: Car2,
      properties: {
        name: { type: 'string', primary: true, length: 100 },
        year: { type: 'integer', primary: true },
        price: { type: 'integer' },
        users: { kind: 'm:n', entity: () => User2, mappedBy: 'cars' },
      },
    }),
    new EntitySchema<CarOwner2>({
      class: CarOwner2,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        car: { kind: 'm:1', entity: () => Car2 },
      },
    }),
    new EntitySchema<User2>({
      class: User2,
      properties: {
        firstName: { type: 'string', primary: true, length: 100 },
        lastName: { type: 'string', primary: true, length: 100 },
        foo: { type: 'integer', nullable: true },
        cars: { kind: 'm:n', entity: () => Car2, owner: true, inversedBy: 'users' },
        sandwiches: { kind: 'm:n', entity: () => Sandwich, owner: true, inversedBy: 'users' },
        favouriteCar: { kind: '1:1', entity: () => Car2, owner: true, nullable: true },
      },
    }),
    new EntitySchema<Sandwich>({
      class: Sandwich,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string', length: 255 },
        price: { type: 'integer' },
        users: { kind: 'm:n', entity: () => User2, mappedBy: 'sandwiches' },
      },
    }),
    new EntitySchema<BaseUser2>({
      class: BaseUser2,
      abstract: true,
      discriminatorColumn: 'type',
      discriminatorMap: { employee: 'Employee2', manager: 'Manager2', owner: 'CompanyOwner2' } as never,
      hooks: { afterCreate: [(args: EventArgs<BaseUser2>) => void (args.entity.baseState = 'created')] },
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        firstName: { type: 'string', length: 100 },
        lastName: { type: 'string', length: 100 },
        type: { enum: true, items: () => UserType },
        baseState: { type: 'string', persist: false },
      },
    }),
    new EntitySchema<Employee2, BaseUser2>({
      class: Employee2,
      discriminatorValue: 'employee',
      uniques: [{ properties: ['employeeProp'] }],
      properties: { employeeProp: { type: 'integer' } },
    }),
    new EntitySchema<Manager2, BaseUser2>({
      class: Manager2,
      discriminatorValue: 'manager',
      properties: { managerProp: { type: 'string' } },
    }),
    new EntitySchema<CompanyOwner2, Manager2>({
      class: CompanyOwner2,
      discriminatorValue: 'owner',
      hooks: { afterCreate: [(args: EventArgs<CompanyOwner2>) => void (args.entity.state = 'created')] },
      properties: {
        ownerProp: { type: 'string' },
        favouriteEmployee: { kind: 'm:1', entity: () => Employee2, nullable: true },
        favouriteManager: { kind: '1:1', entity: () => Manager2, owner: true, nullable: true },
        state: { type: 'string', persist: false },
      },
    }),
  ];

  return {
    Author2, Book2, BookTag2, Publisher2, PublisherTest, Test2, Configuration2, FooBar2, FooBaz2, FooParam2, Label2,
    Address2, Car2, CarOwner2, User2, Sandwich, Employee2, Manager2, CompanyOwner2, Identity, schemas,
  };
}

export type MikroOrmModel = ReturnType<typeof mikroOrmModel>;
