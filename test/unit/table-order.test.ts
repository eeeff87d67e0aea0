// The one table ordering of the write order (plan/relations.ts orderTables), without a database:
// referenced tables first, a nullable key may wait (the table holding it goes first), a cycle of
// non-nullable keys is refused with the path named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntityMetadata } from '@mikro-orm/core';
import { CopyPersistError } from '../../src/index.js';
import { orderTables, type TableEdge } from '../../src/plan/relations.js';

const table = (className: string) => new EntityMetadata({ className });
const names = (order: Map<EntityMetadata, number>) => [...order].sort((a, b) => a[1] - b[1]).map(([meta]) => meta.className);

describe('orderTables', () => {
  const [author, book, review, tag] = ['Author', 'Book', 'Review', 'Tag'].map(table);

  it('writes every table after the tables it references, whatever the order they are given in', () => {
    const edges: TableEdge[] = [
      { from: review, to: book, nullable: false, via: 'book' },
      { from: book, to: author, nullable: false, via: 'author' },
      { from: review, to: author, nullable: true, via: 'reviewer' },
    ];
    for (const tables of [[review, book, author, tag], [tag, author, book, review], [book, review, tag, author]]) {
      const order = names(orderTables(tables, edges));
      assert.ok(order.indexOf('Author') < order.indexOf('Book'), order.join());
      assert.ok(order.indexOf('Book') < order.indexOf('Review'), order.join());
      assert.equal(order.length, 4);
    }
  });

  it('in a cycle with a nullable key, the table holding that key goes first (the key is set afterwards)', () => {
    const edges: TableEdge[] = [
      { from: book, to: author, nullable: false, via: 'author' },
      { from: author, to: book, nullable: true, via: 'favouriteBook' },
    ];
    assert.deepEqual(names(orderTables([book, author], edges)), ['Author', 'Book']);
  });

  it('ignores references to the table itself and to tables the call does not write', () => {
    const edges: TableEdge[] = [
      { from: book, to: book, nullable: false, via: 'sequel' },
      { from: book, to: tag, nullable: false, via: 'mainTag' },
    ];
    assert.deepEqual(names(orderTables([book], edges)), ['Book']);
  });

  it('refuses a cycle of non-nullable keys with REFERENCE_CYCLE, naming its path', () => {
    const edges: TableEdge[] = [
      { from: book, to: author, nullable: false, via: 'author' },
      { from: author, to: review, nullable: false, via: 'pinnedReview' },
      { from: review, to: book, nullable: false, via: 'book' },
    ];
    assert.throws(
      () => orderTables([tag, book, author, review], edges),
      (e: unknown) =>
        e instanceof CopyPersistError &&
        e.code === 'REFERENCE_CYCLE' &&
        /Book\.author → Author\.pinnedReview → Review\.book/.test(e.message),
    );
  });
});
