// A JavaScript value of MikroORM's insert payload → the text PostgreSQL reads for it. Mirrors how
// MikroORM inlines parameters into its INSERT (`Platform.quoteValue` / `escape`), minus the SQL
// quoting, so COPY and flush hand PostgreSQL's input functions the same text.
import { JsonProperty, Utils, type Platform } from '@mikro-orm/core';
import { isRawSql } from '../orm/index.js';
import { valueErrors } from '../errors.js';
import type { ColumnTraits } from './column-types.js';

/** `\u0000` after an even number of backslashes: JSON's escape of NUL, not escaped text. */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

export { columnTraits, type ColumnTraits } from './column-types.js';

/**
 * Returns the text form of `value`, or `null` for SQL NULL.
 * Strings keep their content; the CSV layer quotes them.
 */
export function toPgText(value: unknown, platform: Platform, traits: ColumnTraits): string | null {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'string':
      if (value.indexOf('\0') !== -1) throw valueErrors.nulInText();
      // A NUL can also hide as an escape. JSON text (MikroORM's JsonType serialises before the
      // payload; the encoder serialises object embeddables): jsonb rejects `\u0000` mid-COPY.
      // An array literal from `marshallArray`, which quotes elements with JSON.stringify: the
      // array parser reads `\u0000` as `u0000`, so flush silently stores the text `u0000`.
      // (Every backslash of an element is doubled there, so an odd one can only come from NUL.)
      if ((traits.jsonb || traits.array) && value.indexOf('\\u0000') !== -1 && NUL_ESCAPE.test(value)) {
        throw traits.jsonb ? valueErrors.nulInJson() : valueErrors.nulInArray();
      }
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        // flush inlines them as literals PostgreSQL refuses; a float or numeric column stores them,
        // so write what the entity holds (numeric with a declared precision refuses ±Infinity itself)
        if (traits.nonFinite) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
        throw valueErrors.notFinite(value, traits.integer);
      }
      // flush sends `1.5` as a numeric literal that PostgreSQL rounds into an integer column; COPY
      // would reject the text, so refuse rather than differ
      if (traits.integer && !Number.isInteger(value)) throw valueErrors.notAnInteger(value);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return objectToText(value, platform, traits);
    default:
      throw valueErrors.noPgForm(typeof value);
  }
}

function objectToText(value: object | null, platform: Platform, traits: ColumnTraits): string | null {
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw valueErrors.invalidDate();
    return (platform as Platform & { formatDate(date: Date): string }).formatDate(value);
  }
  if (ArrayBuffer.isView(value)) {
    return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  }
  if (isRawSql(value)) {
    throw valueErrors.rawSql();
  }
  if (Array.isArray(value) && !isJsonTagged(value)) {
    // flush would inline the elements as a comma-separated list, which only an `IN (...)` accepts
    throw valueErrors.bareArray();
  }
  if (Utils.isPlainObject(value) || isJsonTagged(value)) {
    const json = JSON.stringify(value);
    if (traits.jsonb && NUL_ESCAPE.test(json)) throw valueErrors.nulInJson();
    return json;
  }
  return String(value);
}

/** MikroORM tags embeddable copies that must be stored as JSON, arrays included. */
function isJsonTagged(value: object): boolean {
  return (value as Record<symbol, unknown>)[JsonProperty] === true;
}
