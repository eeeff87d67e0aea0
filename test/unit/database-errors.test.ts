// What a database error says once a COPY has failed (src/errors.ts, annotateDatabaseError), with no
// database: the entity and input position, PostgreSQL's detail, and a lost connection called one
// when Node reports it only as a socket error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DriverException } from '@mikro-orm/core';
import { annotateDatabaseError } from '../../src/errors.js';

/** A Node system error as a socket raises it (`write EPIPE`), with its code. */
function socketError(code: string, syscall = 'write'): Error {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

describe('database errors of a COPY', () => {
  it('name the call, the entity, the input position and the detail PostgreSQL gave', () => {
    const error = Object.assign(new Error('duplicate key value violates unique constraint "book_isbn_unique"'), { detail: 'Key (isbn)=(1) already exists.' });
    const annotated = annotateDatabaseError(error, { entity: 'Book', position: 7, line: 8 });
    assert.equal(annotated.message, 'copyPersist into Book failed, input position 7: duplicate key value violates unique constraint "book_isbn_unique" (Key (isbn)=(1) already exists.)');
    assert.deepEqual(annotated.copyPersist, { entity: 'Book', position: 7, line: 8 });
  });

  it('a socket that failed under the COPY is called a lost connection, as MikroORM converted it or raw', () => {
    for (const code of ['EPIPE', 'ECONNRESET', 'ETIMEDOUT']) {
      const converted = new DriverException(socketError(code));
      assert.equal(annotateDatabaseError(converted, { entity: 'Author' }).message, `copyPersist into Author failed: the connection to PostgreSQL was lost (write ${code})`);
      const wrapped = Object.assign(new Error(`read ${code}`), { cause: socketError(code, 'read') });
      assert.match(annotateDatabaseError(wrapped, { entity: 'Author' }, 'copyUpdate').message, new RegExp(`^copyUpdate into Author failed: the connection to PostgreSQL was lost \\(read ${code}\\)$`));
    }
  });

  it('other errors with a code keep their own message', () => {
    const error = Object.assign(new Error('value too long for type character varying(3)'), { code: '22001' });
    assert.equal(annotateDatabaseError(error, { entity: 'Book', position: 0 }).message, 'copyPersist into Book failed, input position 0: value too long for type character varying(3)');
  });
});
