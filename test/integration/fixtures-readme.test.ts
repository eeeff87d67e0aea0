// The README's "database per worker" recipe is the example project's files, which
// .ci/fixtures-example.sh runs: this keeps the two identical, so the documented recipe is the tested one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root above this file, from the sources or from either build directory. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'README.md')) || !existsSync(join(dir, 'examples/fixtures-vitest'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
}

describe('fixtures: README recipes', () => {
  const root = repoRoot();
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Test fixtures\n'), readme.indexOf('## Loading files\n'));

  for (const file of ['vitest.config.ts', 'test/global-setup.ts', 'test/database.ts']) {
    it(`the block headed "// ${file}" is examples/fixtures-vitest/${file}`, () => {
      const block = new RegExp('```ts\\n// ' + file.replaceAll('.', '\\.') + '\\n([\\s\\S]*?)\\n```').exec(section);
      assert.ok(block, `no block for ${file} in README's Test fixtures section`);
      assert.equal(block[1], readFileSync(join(root, 'examples/fixtures-vitest', file), 'utf8').trimEnd());
    });
  }
});
