// Which column groups a row fills: its shape picks the COPY statement (a column left undefined is
// left out, so the database default applies, as in flush). Shared by the encoders.

/**
 * Bit i set when group i is present, as a number up to {@link NUMERIC_SHAPE_GROUPS} groups (bits
 * past 30 added as powers of two: exact in a double), else a string of `0`/`1`.
 */
export type RowShape = number | string;

export const NUMERIC_SHAPE_GROUPS = 52;
