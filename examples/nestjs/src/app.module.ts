import { Module } from '@nestjs/common';
import { AuthorsService } from './authors.service.js';
import { LibraryService } from './library.service.js';
import { OrmModule } from './orm.module.js';

@Module({
  imports: [OrmModule],
  providers: [AuthorsService, LibraryService],
})
export class AppModule {}
