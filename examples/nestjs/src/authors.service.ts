import { Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/core';
import { CopyEntityManager } from 'mikro-orm-pg-copy';
import { CreateRequestContext } from './decorators.js';
import { Author, Book } from './entities.js';

/** Writes through COPY: injected as CopyEntityManager. */
@Injectable()
export class AuthorsService {
  // `orm` is what @CreateRequestContext() looks for to fork a context per call
  constructor(
    private readonly em: CopyEntityManager,
    readonly orm: MikroORM,
  ) {}

  /** Authors with `booksEach` books each, in one COPY per table, in a request context of its own. */
  @CreateRequestContext()
  async importAuthors(names: string[], booksEach: number): Promise<number> {
    const authors = names.map(name => new Author(name));
    const books = authors.flatMap(a => Array.from({ length: booksEach }, (_, i) => new Book(`${a.name} #${i + 1}`, a)));
    const { rows } = await this.em.copyPersist([...authors, ...books]);
    return rows;
  }

  /** Copies inside `em.transactional`, and rolls it all back when `fail` says so. */
  @CreateRequestContext()
  async importInTransaction(name: string, fail: boolean): Promise<number> {
    return this.em.transactional(async em => {
      const { rows } = await em.copyPersist([new Author(name)]);
      if (fail) throw new Error('rolled back on purpose');
      return rows;
    });
  }
}
