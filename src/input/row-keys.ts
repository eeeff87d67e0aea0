// A plain row's keys → each one a property of its entity, or UNKNOWN_PROPERTY naming the first that is not.
import type { EntityMetadata } from '@mikro-orm/core';
import { unknownRowKey } from '../errors.js';

/**
 * The keys of the last row checked, per entity, in the row's order: every entry is a key already
 * found among the entity's properties. Rows of one source nearly always share their keys and their
 * order, so a row costs one string comparison per key instead of a lookup in the metadata (the
 * lookup was 7% of copying 33-column rows from a generator). Calls may share an entry, since
 * whatever one call stores in it has been checked.
 */
const lastKeys = new WeakMap<EntityMetadata, string[]>();

/** Throws UNKNOWN_PROPERTY (with the row's input position) for a key of `row` that is not a property of `meta`. */
export function checkRowKeys(meta: EntityMetadata, row: object, position: number): void {
  let known = lastKeys.get(meta);
  if (!known) lastKeys.set(meta, (known = []));
  let i = 0;
  for (const key in row) {
    if (known[i] !== key) {
      // own properties only: `toString` or `constructor` are found in any object, not in the entity
      if (!Object.hasOwn(meta.properties, key)) throw unknownRowKey(meta.className, key, position);
      known[i] = key;
    }
    i++;
  }
}
