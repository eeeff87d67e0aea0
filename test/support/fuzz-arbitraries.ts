// fast-check arbitraries for values that COPY's CSV format, PostgreSQL's input functions and
// MikroORM's own quoting each treat specially.
import fc from 'fast-check';

/** Pieces of text that mean something to CSV, COPY, SQL quoting, array literals or JSON. */
const TRICKY_PIECES = [
  '"', "'", ',', '\r', '\n', '\r\n', '\t', '\\', '\\\\', '\\N', 'NULL', 'null', '\\.', '\n\\.\n', '\r\n\\.\r\n',
  ' ', '  ', '{', '}', '{}', '()', '[', ']', "E'", '$$', '""', "''", '\\"', '\\u0000', '\\x00', '%', '?', ':1',
  '\u00a0', '\u2028', '\u2029', '\ufeff', '\u0001', '\u001f', '\u007f', 'é', 'e\u0301', '日本', '🦊', '🏳️‍🌈', '\u{10ffff}', '\u{1f600}',
];

/** One lone surrogate code unit (U+D800..U+DFFF), which UTF-8 cannot encode. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map(c => String.fromCharCode(c));

export interface TextOptions {
  /** Allow lone surrogates (default true). */
  surrogates?: boolean;
  maxPieces?: number;
}

/** A string made of tricky pieces, arbitrary code points and (optionally) lone surrogates; never a NUL. */
export function trickyString(options: TextOptions = {}): fc.Arbitrary<string> {
  const pieces: fc.Arbitrary<string>[] = [
    fc.constantFrom(...TRICKY_PIECES),
    fc.string({ unit: 'grapheme-ascii', maxLength: 4 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
  ];
  if (options.surrogates !== false) pieces.push(loneSurrogate);
  return fc
    .array(fc.oneof(...pieces), { maxLength: options.maxPieces ?? 8 })
    .map(parts => parts.join('').replaceAll('\0', ''));
}

/** A string, the empty string or null, the three side by side. */
export function nullableText(options: TextOptions = {}): fc.Arbitrary<string | null> {
  return fc.oneof({ weight: 6, arbitrary: trickyString(options) }, { weight: 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant(null) });
}

// ------------------------------------------------------------------------------ numbers

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

export const int32 = fc.oneof(fc.integer({ min: INT_MIN, max: INT_MAX }), fc.constantFrom(INT_MIN, INT_MAX, 0, -0, 1, -1));
export const double = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON, 0.1, 1e21, 1e-7, 2 ** 53 + 2),
);
/** Values a `real` column can hold (32-bit floats, subnormals included). */
export const float32 = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 3.4028234663852886e38, 1.401298464324817e-45, 0.1));
export const bigint64 = fc.oneof(fc.bigInt({ min: BIGINT_MIN, max: BIGINT_MAX }), fc.constantFrom(BIGINT_MIN, BIGINT_MAX, 0n, -1n, 2n ** 53n + 1n));

/** Decimal text for numeric(20,6): at most 13 integer digits, any number of fraction digits (PostgreSQL rounds), or NaN. */
export const decimal20_6 = fc.oneof(
  { weight: 8, arbitrary: decimalText(13, 10) },
  { weight: 1, arbitrary: fc.constantFrom('NaN', '0', '-0', '0.0000005', '-0.0000005', '9999999999999.9999994', '-9999999999999.999999', '1e5', '1.5E-3') },
);
/** JavaScript numbers for numeric(20,6), in its range. */
export const decimalNumber20_6 = fc.oneof(
  fc.double({ min: -9e12, max: 9e12, noNaN: true }),
  fc.constantFrom(-0, 0.1 + 0.2, 1e-7, 5e-324, 1234567.1234565, 2 ** 40),
);
/** Decimal text for an unconstrained numeric: long digit strings, exponents, NaN and infinities. */
export const numericUnbounded = fc.oneof(
  { weight: 8, arbitrary: decimalText(60, 60) },
  { weight: 2, arbitrary: fc.tuple(decimalText(5, 5), fc.integer({ min: -300, max: 300 })).map(([m, e]) => `${m}e${e}`) },
  { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity', '0.000000000000000000000000000000000000001', '-0.0') },
);

function decimalText(maxIntDigits: number, maxFractionDigits: number): fc.Arbitrary<string> {
  const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: max });
  return fc
    .tuple(fc.boolean(), digits(maxIntDigits), fc.option(digits(maxFractionDigits), { nil: undefined }))
    .map(([negative, int, fraction]) => `${negative ? '-' : ''}${int}${fraction === undefined ? '' : `.${fraction}`}`);
}

// ------------------------------------------------------------------------------ dates

const FIRST = new Date('0001-01-01T00:00:00.000Z').getTime();
const LAST = new Date('9999-12-31T23:59:59.999Z').getTime();

/** Valid dates from year 1 to 9999 with millisecond precision, and the edges. */
export const validDate = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: FIRST, max: LAST }).map(ms => new Date(ms)) },
  { weight: 2, arbitrary: fc.integer({ min: -5_000_000_000_000, max: 0 }).map(ms => new Date(ms)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(FIRST, LAST, FIRST + 1, LAST - 1, 0, -1, 1, Date.UTC(1969, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 1, 29, 12)).map(ms => new Date(ms)),
  },
);

// ------------------------------------------------------------------------------ json

/** JSON values whose strings (and keys) are tricky; no NUL, no lone surrogates (jsonb rejects `\udc00`). */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    trickyString({ surrogates: false }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString({ surrogates: false, maxPieces: 3 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

// ------------------------------------------------------------------------------ arrays

/**
 * Elements of a string[] property: tricky texts, empty strings and nulls. Not whitespace-only
 * elements: MikroORM's `marshallArray` leaves them unquoted, PostgreSQL trims them to nothing and
 * rejects the literal, so flush fails on them (tested on their own).
 */
export const stringArray = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant([] as (string | null)[]) },
  { weight: 6, arbitrary: fc.array(nullableText({ maxPieces: 4 }).filter(e => e === null || e === '' || e.trim() !== ''), { maxLength: 6 }) },
);
export const numberArray = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant([] as (number | null)[]) },
  { weight: 6, arbitrary: fc.array(fc.oneof(double, int32, fc.constant(null)), { maxLength: 6 }) },
);
