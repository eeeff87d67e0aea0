import { Global, Module, type Provider } from '@nestjs/common';
import { EntityManager as CoreEntityManager } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { EntityManager, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { CopyEntityManager } from 'mikro-orm-pg-copy';
import { Author, Book } from './entities.js';

// @mikro-orm/nestjs provides the core EntityManager plus one more class, and which one differs:
// 7.x the configured `entityManager` (CopyEntityManager), 6.x the driver's (PostgreSQL's
// EntityManager). These aliases make both injectable on both versions; all three tokens resolve
// to the same object.
const entityManagerAliases: Provider[] = [CopyEntityManager, EntityManager].map(token => ({
  provide: token,
  useFactory: (em: CoreEntityManager) => em,
  inject: [CoreEntityManager],
}));

@Global()
@Module({
  imports: [
    MikroOrmModule.forRoot({
      driver: PostgreSqlDriver,
      clientUrl: process.env.DATABASE_URL,
      entities: [Author, Book],
      entityManager: CopyEntityManager,
      // this example has no HTTP server; in a web app leave it on (a request context per request)
      registerRequestContext: false,
    }),
  ],
  providers: entityManagerAliases,
  exports: entityManagerAliases,
})
export class OrmModule {}
