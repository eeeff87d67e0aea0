// Entities of the smoke apps, as EntitySchema so the apps need no compiler. CommonJS, so both the
// ES module entry and the CommonJS entry (and the CLI, through the config) share one definition.
const { EntitySchema } = require('@mikro-orm/core');

class Author {
  constructor(name) {
    this.name = name;
  }
}

class Book {
  constructor(title, author) {
    this.title = title;
    this.author = author;
  }
}

const AuthorSchema = new EntitySchema({
  class: Author,
  tableName: 'pack_smoke_author',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string' },
  },
});

const BookSchema = new EntitySchema({
  class: Book,
  tableName: 'pack_smoke_book',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'string' },
    author: { kind: 'm:1', entity: () => Author },
  },
});

module.exports = { Author, Book, entities: [AuthorSchema, BookSchema] };
