// The MikroORM major this package talks to, chosen once when the package loads, by the features of
// the installed MikroORM (see each implementation's `isInstalled`). Everything outside src/orm/
// asks `mikroOrm` instead of probing MikroORM itself.
import { Utils } from '@mikro-orm/core';
import { unsupportedMikroOrm } from '../errors.js';
import { mikroOrm6 } from './mikro-orm-6.js';
import { mikroOrm7 } from './mikro-orm-7.js';
import type { MikroOrmVersion } from './mikro-orm-version.js';

export type { ConfigurationLoader, LoadedConfiguration, MikroOrmVersion, OrmWithSchema, Submittable } from './mikro-orm-version.js';
export type { WatchedPool } from './pool-repair.js';

/** Every supported major, newest first: a newer one may still have what an older one is known by. */
export const supportedVersions: readonly MikroOrmVersion[] = [mikroOrm7, mikroOrm6];

function installedVersion(): MikroOrmVersion {
  const version = supportedVersions.find(v => v.isInstalled());
  if (!version) throw unsupportedMikroOrm(Utils.getORMVersion());
  return version;
}

/** The installed MikroORM, as this package uses it. */
export const mikroOrm: MikroOrmVersion = installedVersion();

/**
 * The members the copy loop and the per-value code (encoding, payload checks) use, as plain
 * bindings: no property lookup per value, and those files need only their import line.
 */
export const { isRawSql, scalarRuntimeTypes, withTransactionConnection } = mikroOrm;
