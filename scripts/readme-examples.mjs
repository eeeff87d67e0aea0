// Type-checks the README's self-contained examples — the ```ts blocks whose first line names a
// file (`// app.mts ...`) — against the built package (dist/, imported by its name) and MikroORM 7,
// so the quick start cannot rot. Run after a build (npm ci builds through `prepare`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// inside the package, so `import 'mikro-orm-pg-copy'` resolves to this package (self-reference)
const dir = join(root, '.tmp/readme-examples');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const files = [];
for (const [, code] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
  const name = /^\/\/ ([\w-]+\.m?ts)\b/.exec(code)?.[1];
  if (!name || !name.startsWith('app')) continue;
  writeFileSync(join(dir, `${files.length}-${name}`), code);
  files.push(name);
}
if (!files.length) {
  console.error('README: no self-contained example (a ```ts block starting with `// app.mts`) found');
  process.exit(1);
}
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '.', allowImportingTsExtensions: true }, include: ['*.mts', '*.ts'] }),
);
const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status === 0) console.error(`README examples type-check: ${files.join(', ')}`);
process.exit(r.status ?? 1);
