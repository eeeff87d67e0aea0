// CommonJS entry: loads the package with `require`, as a CommonJS app (a default NestJS app) does.
const pgCopy = require('mikro-orm-pg-copy');
const postgresql = require('@mikro-orm/postgresql');
const run = require('./run.cjs');

run(pgCopy, postgresql, 'CommonJS').catch(e => {
  console.error(e);
  process.exit(1);
});
