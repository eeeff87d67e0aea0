// Type-checks src/ and the type-level test (test/types) against MikroORM 6's declarations, as a
// MikroORM 6 user's compiler sees them: a throwaway folder whose node_modules are this package's,
// with @mikro-orm/* and knex taken from compat/v6. (`npm test` checks them against MikroORM 7.)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const v6 = join(root, 'compat/v6/node_modules');
const dir = mkdtempSync(join(tmpdir(), 'mikro-orm-pg-copy-types-v6-'));
try {
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
  cpSync(join(root, 'test/types'), join(dir, 'test/types'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@mikro-orm' || name === 'knex' || name.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
  symlinkSync(join(v6, '@mikro-orm'), join(dir, 'node_modules/@mikro-orm'));
  symlinkSync(join(v6, 'knex'), join(dir, 'node_modules/knex'));
  // an ES module package, as this one is
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '.' }, include: ['src', 'test/types'] }),
  );
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status === 0) console.error('types: src/ and test/types check against MikroORM 6');
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
