// A small library domain shared by the transaction and error tests.
import { EntitySchema } from '@mikro-orm/postgresql';

export class Author {
  id!: number;
  name!: string;
  email?: string;
}

export class Book {
  id!: number;
  title!: string;
  author!: Author;
  pages?: number;
}

export const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 255 },
    email: { type: 'string', nullable: true, unique: true },
  },
});

export const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    author: { kind: 'm:1', entity: () => Author },
    pages: { type: 'integer', nullable: true },
  },
});

export const libraryEntities = [AuthorSchema, BookSchema];
