// Boots the app without an HTTP server, runs both services against DATABASE_URL and checks the rows.
import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { NestFactory } from '@nestjs/core';
import { EntityManager as CoreEntityManager, MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { CopyEntityManager } from 'mikro-orm-pg-copy';
import { AppModule } from './app.module.js';
import { AuthorsService } from './authors.service.js';
import { LibraryService } from './library.service.js';

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    const em = app.get(CopyEntityManager);
    assert.ok(em instanceof CopyEntityManager, 'CopyEntityManager injects a CopyEntityManager');
    assert.equal(app.get(EntityManager), em, 'PostgreSQL EntityManager is the same object');
    assert.equal(app.get(CoreEntityManager), em, 'core EntityManager is the same object');

    const schema = app.get(MikroORM).schema as { refresh?: () => Promise<void>; refreshDatabase?: () => Promise<void> };
    await (schema.refresh ? schema.refresh() : schema.refreshDatabase!());

    const authors = app.get(AuthorsService);
    const library = app.get(LibraryService);
    assert.equal(await authors.importAuthors(['Ada', 'Grace', 'Barbara'], 4), 3 + 12);
    assert.deepEqual(await library.counts(), { authors: 3, books: 12 });

    assert.equal(await authors.importInTransaction('Committed', false), 1);
    await assert.rejects(authors.importInTransaction('Rolled back', true), /rolled back on purpose/);
    assert.ok(await library.authorNamed('Committed'), 'the committed transaction wrote its author');
    assert.equal(await library.authorNamed('Rolled back'), null, 'the failed transaction wrote nothing');
    assert.deepEqual(await library.counts(), { authors: 4, books: 12 });
  } finally {
    await app.close();
  }
  console.log(`NestJS: injection as CopyEntityManager and EntityManager, @CreateRequestContext(), em.transactional passed (Node ${process.version})`);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
