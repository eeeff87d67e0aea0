// `npm run build`: the package's dual build. dist/ holds the ES modules; dist/cjs/ the same code as
// CommonJS, so an app compiled to CommonJS (a default NestJS app) can `require` the package on
// Node 20, where require(esm) of this package is not an option for every supported Node.
//
// TypeScript picks a file's module format from the nearest package.json, and this one says
// "type": "module". So the CommonJS pass compiles a copy of src/ placed under a package.json that
// says "commonjs"; the copy sits inside the repository so that imports still resolve from its
// node_modules/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const staging = join(root, '.tmp/cjs-src');

function tscRun(project) {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
tscRun('tsconfig.json');

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
cpSync(join(root, 'src'), join(staging, 'src'), { recursive: true });
writeFileSync(join(staging, 'package.json'), '{ "type": "commonjs" }\n');
try {
  tscRun('tsconfig.cjs.json');
} finally {
  rmSync(staging, { recursive: true, force: true });
}
// Node and TypeScript read dist/cjs/*.js and *.d.ts as CommonJS because of this file.
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
