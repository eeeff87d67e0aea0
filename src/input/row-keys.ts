// Names the caller gives (a plain row's keys, a file's columns, `fields`, `onConflictFields`) → the
// entity's properties, or an error naming the first that is not one.
import type { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { unknownRowKey } from '../errors.js';

/**
 * The keys of the last row checked, per entity, in the row's order: every entry is a key already
 * found among the entity's properties. Rows of one source nearly always share their keys and their
 * order, so a row costs one string comparison per key instead of a lookup in the metadata (the
 * lookup was 7% of copying 33-column rows from a generator). Calls may share an entry, since
 * whatever one call stores in it has been checked.
 */
const lastKeys = new WeakMap<EntityMetadata, string[]>();

/**
 * The property of `meta` called `name`, or undefined. Own keys only: `meta.properties` is a plain
 * object, so `toString` or `constructor` would otherwise be found on its prototype.
 */
export function propertyNamed(meta: EntityMetadata, name: string): EntityProperty | undefined {
  return Object.hasOwn(meta.properties, name) ? (meta.properties as Record<string, EntityProperty>)[name] : undefined;
}

/** Throws UNKNOWN_PROPERTY (with the row's input position) for a key of `row` that is not a property of `meta`. */
export function checkRowKeys(meta: EntityMetadata, row: object, position: number): void {
  let known = lastKeys.get(meta);
  if (!known) lastKeys.set(meta, (known = []));
  let i = 0;
  for (const key in row) {
    if (known[i] !== key) {
      if (!propertyNamed(meta, key)) throw unknownRowKey(meta.className, key, position);
      known[i] = key;
    }
    i++;
  }
}
