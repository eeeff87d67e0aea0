import { Entity, ManyToOne, PrimaryKey, Property } from './decorators.js';

@Entity({ tableName: 'pack_nest_author' })
export class Author {
  @PrimaryKey({ type: 'integer' })
  id!: number;

  @Property({ type: 'string' })
  name: string;

  constructor(name: string) {
    this.name = name;
  }
}

@Entity({ tableName: 'pack_nest_book' })
export class Book {
  @PrimaryKey({ type: 'integer' })
  id!: number;

  @Property({ type: 'string' })
  title: string;

  @ManyToOne(() => Author)
  author: Author;

  constructor(title: string, author: Author) {
    this.title = title;
    this.author = author;
  }
}
