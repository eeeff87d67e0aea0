// The project's MikroORM config, loaded by MikroORM's own code, the code its CLI uses: `.ts`
// configs through its TypeScript support, `MIKRO_ORM_*` environment variables, package.json
// `mikro-orm.configPaths`, arrays of configs picked by `contextName`. MikroORM 6 keeps that in
// `@mikro-orm/core` (ConfigurationLoader), MikroORM 7 in `@mikro-orm/cli` (CLIHelper).
import type { Options } from '@mikro-orm/postgresql';

/** A MikroORM `Configuration` as both versions shape it. */
interface LoadedConfiguration {
  getAll(): Options;
}

type GetConfiguration = (contextName: string, paths?: string[], options?: Partial<Options>) => Promise<LoadedConfiguration>;

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
  return config.getAll();
}

async function configurationLoader(): Promise<GetConfiguration> {
  const core = (await import('@mikro-orm/core')) as { ConfigurationLoader?: { getConfiguration?: GetConfiguration; getConfigPaths?: () => string[] } };
  const v6 = core.ConfigurationLoader;
  if (typeof v6?.getConfiguration === 'function' && typeof v6.getConfigPaths === 'function') {
    // MikroORM 6 takes the search paths as a required argument to select its current signature
    return (contextName, paths, options) => v6.getConfiguration!.call(v6, contextName, paths ?? v6.getConfigPaths!(), options);
  }
  let cli: { CLIHelper: { getConfiguration: GetConfiguration } };
  try {
    // a specifier in a variable: @mikro-orm/cli is an optional peer dependency
    const name = '@mikro-orm/cli';
    cli = (await import(name)) as typeof cli;
  } catch (e) {
    throw new ConfigLoaderMissing(
      'MikroORM 7 finds its config through @mikro-orm/cli, which is not installed: npm install -D @mikro-orm/cli (the same version as @mikro-orm/core)',
      { cause: e },
    );
  }
  return (contextName, paths, options) => cli.CLIHelper.getConfiguration(contextName, paths, options);
}
