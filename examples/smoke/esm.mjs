// ES module entry: loads the package with `import`, as an ESM app does.
import * as pgCopy from 'mikro-orm-pg-copy';
import * as postgresql from '@mikro-orm/postgresql';
import run from './run.cjs';

await run(pgCopy, postgresql, 'ESM');
