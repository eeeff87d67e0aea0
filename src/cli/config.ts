// The project's MikroORM config, loaded by MikroORM's own code, the code its CLI uses: `.ts`
// configs through its TypeScript support, `MIKRO_ORM_*` environment variables, package.json
// `mikro-orm.configPaths`, arrays of configs picked by `contextName`. Where that code lives
// differs between majors (`@mikro-orm/core` in 6, `@mikro-orm/cli` in 7): src/orm/ finds it.
import type { Options } from '@mikro-orm/postgresql';
import { mikroOrm, type ConfigurationLoader } from '../orm/index.js';

/** Thrown when no way of loading the config is installed. */
export class ConfigLoaderMissing extends Error {}

/**
 * Loads the config as `npx mikro-orm` would, with `overrides` on top. `path` replaces the search
 * (like `MIKRO_ORM_CLI_CONFIG`); `contextName` picks one of several configs.
 */
export async function loadMikroOrmConfig(path: string | undefined, contextName: string | undefined, overrides: Partial<Options>): Promise<Options> {
  const getConfiguration = await configurationLoader();
  const context = contextName ?? process.env.MIKRO_ORM_CONTEXT_NAME ?? 'default';
  const config = await getConfiguration(context, path ? [path] : undefined, overrides);
  return config.getAll() as Options;
}

async function configurationLoader(): Promise<ConfigurationLoader> {
  try {
    return await mikroOrm.configurationLoader();
  } catch (e) {
    throw new ConfigLoaderMissing(
      `MikroORM ${mikroOrm.major} finds its config through @mikro-orm/cli, which is not installed: npm install -D @mikro-orm/cli (the same version as @mikro-orm/core)`,
      { cause: e },
    );
  }
}
