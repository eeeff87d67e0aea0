// The config both the smoke script and `npx mikro-orm-pg-copy load --config` use.
const { CopyEntityManager } = require('mikro-orm-pg-copy');
const { entities } = require('./model.cjs');

module.exports = {
  clientUrl: process.env.DATABASE_URL,
  entities,
  entityManager: CopyEntityManager,
  allowGlobalContext: true,
};
