// The smoke test itself, handed the package as the entry loaded it (`import` or `require`), so each
// entry exercises its own copy of the package.
const { execFileSync } = require('node:child_process');
const { strict: assert } = require('node:assert');
const { join } = require('node:path');
const { Author, Book } = require('./model.cjs');
const config = require('./mikro-orm.config.cjs');

module.exports = async function run(pgCopy, postgresql, label) {
  for (const name of ['CopyEntityManager', 'copyPersist', 'CopyPersistError', 'loadFile', 'loadFixtures']) {
    assert.equal(typeof pgCopy[name], 'function', `export ${name}`);
  }
  const orm = await postgresql.MikroORM.init({ ...config, entityManager: pgCopy.CopyEntityManager });
  try {
    // drops and creates this app's two tables: `refresh()` in MikroORM 7, `refreshDatabase()` in 6
    await (orm.schema.refresh ? orm.schema.refresh() : orm.schema.refreshDatabase());
    const em = orm.em.fork();
    assert.ok(em instanceof pgCopy.CopyEntityManager, 'em is a CopyEntityManager');

    const authors = [new Author('Ada'), new Author('Grace')];
    const books = [new Book('Notes', authors[0]), new Book('Compilers', authors[1]), new Book('Q"uote,\nd', authors[1])];
    const written = await em.copyPersist([...authors, ...books]);
    assert.equal(written.rows, 5, 'copyPersist rows');
    const read = await orm.em.fork().find(Book, {}, { populate: ['author'], orderBy: { id: 'asc' } });
    assert.deepEqual(read.map(b => [b.title, b.author.name]), [['Notes', 'Ada'], ['Compilers', 'Grace'], ['Q"uote,\nd', 'Grace']]);

    const loaded = await pgCopy.loadFile(orm.em.fork(), { path: join(__dirname, 'authors.csv'), entity: 'Author' });
    assert.equal(loaded.rows, 3, 'loadFile rows');

    execFileSync('npx', ['--no-install', 'mikro-orm-pg-copy', 'load', join(__dirname, 'authors.csv'), '--entity', 'Author', '--config', join(__dirname, 'mikro-orm.config.cjs')], {
      cwd: __dirname,
      stdio: ['ignore', 'inherit', 'inherit'],
    });

    const fixtures = await pgCopy.loadFixtures(orm.em.fork(), {
      Book: [{ id: 1000, title: 'Fixture', author: 1000 }],
      Author: [{ id: 1000, name: 'Fixture author' }],
    });
    assert.equal(fixtures.rows, 2, 'loadFixtures rows');

    const names = (await orm.em.fork().find(Author, {}, { orderBy: { id: 'asc' } })).map(a => a.name);
    const csvNames = ['Le Guin, Ursula K.', 'Ted "Chiang"', 'Octavia E. Butler'];
    assert.deepEqual(names, ['Ada', 'Grace', ...csvNames, ...csvNames, 'Fixture author']);

    // the error class users catch is the one this entry loaded
    await assert.rejects(em.copyPersist([new Book(undefined, authors[0])]), e => e instanceof pgCopy.CopyPersistError && e.code === 'REQUIRED_VALUE');
  } finally {
    await orm.close(true);
  }
  console.log(`${label}: copyPersist, loadFile, CLI load, loadFixtures passed (Node ${process.version})`);
};
