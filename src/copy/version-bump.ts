// How flush bumps a version column in an UPDATE (MikroORM's `nativeUpdateMany`): an integer is
// incremented, a `Date` version takes the transaction's timestamp at the property's precision.
// Every UPDATE this package sends — copyUpdate, copyFlush, the deferred keys of a cycle — writes
// it this one way.
import type { EntityProperty, Platform } from '@mikro-orm/core';

/** The assignment `column = ...` for the table aliased `t`; `column` is quoted by the platform. */
export function versionBump(platform: Platform, prop: EntityProperty, column: string): string {
  return `${column} = ${prop.runtimeType === 'Date' ? platform.getCurrentTimestampSQL(prop.length) : `t.${column} + 1`}`;
}
