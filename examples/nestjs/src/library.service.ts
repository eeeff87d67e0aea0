import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { CreateRequestContext } from './decorators.js';
import { Author, Book } from './entities.js';

/** Reads as any MikroORM service does: injected as PostgreSQL's EntityManager. */
@Injectable()
export class LibraryService {
  constructor(private readonly em: EntityManager) {}

  @CreateRequestContext()
  async counts(): Promise<{ authors: number; books: number }> {
    return { authors: await this.em.count(Author), books: await this.em.count(Book) };
  }

  @CreateRequestContext()
  async authorNamed(name: string): Promise<Author | null> {
    return this.em.findOne(Author, { name });
  }
}
