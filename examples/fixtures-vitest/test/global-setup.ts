import { createTemplateDatabase, dropTestDatabases, loadFixtures } from 'mikro-orm-pg-copy';
import config from '../src/mikro-orm.config.js';
import { fixtures } from './fixtures.js';

// once per run: a template database with the tables and the fixtures
export async function setup() {
  await createTemplateDatabase({
    config,
    template: 'app_test_template',
    seed: async orm => {
      await loadFixtures(orm.em.fork(), fixtures, { cascade: true });
    },
  });
}

export async function teardown() {
  await dropTestDatabases(config, { prefix: 'app_test_' });
}
