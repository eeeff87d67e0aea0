// The assertion every error test makes of a CopyPersistError: its code and context fields, and a
// message that names them, as the README promises.
import assert from 'node:assert/strict';
import { CopyPersistError, type CopyErrorCode } from '../../src/index.js';

/** For `assert.rejects`: checks code, context fields and that the message names entity, property and position. */
export function copyError(code: CopyErrorCode, entity?: string, property?: string, position?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof CopyPersistError, `expected a CopyPersistError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.entity, entity);
    assert.equal(e.property, property);
    assert.equal(e.position, position);
    if (entity) assert.match(e.message, new RegExp(entity));
    if (property) assert.match(e.message, new RegExp(property));
    if (position !== undefined) assert.match(e.message, new RegExp(`input position ${position}\\b`));
    return true;
  };
}
