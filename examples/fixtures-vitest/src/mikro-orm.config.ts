import type { Options } from '@mikro-orm/postgresql';
import { entities } from './entities.js';

export default {
  clientUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  entities,
} satisfies Options;
