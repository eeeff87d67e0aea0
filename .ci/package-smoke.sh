#!/usr/bin/env bash
# Packs the package as `npm pack` would for the registry, installs the tarball into throwaway apps
# under a temp dir and runs them against $DATABASE_URL, importing the package by name as users do:
#   examples/smoke   an ES module entry and a CommonJS entry: copyPersist + read back, loadFile,
#                    the CLI's `load`, loadFixtures, CopyPersistError
#   examples/nestjs  a NestJS 11 app compiled to CommonJS
# each on MikroORM 7.2.5 (Node 22 from this repo's node_modules) and 6.6.16 (the machine's Node 20).
# Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .ci/package-smoke.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database the smoke apps may create tables in}"
export DATABASE_URL

node20="$(command -v node)"
node22="$repo/node_modules/.bin/node"
[ -x "$node22" ] || { echo "run npm ci in $repo first (Node 22 comes from its devDependencies)" >&2; exit 1; }
echo "Node for MikroORM 6: $("$node20" --version), for MikroORM 7: $("$node22" --version)"

work="$(mktemp -d "${TMPDIR:-/tmp}/pg-copy-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "== npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/mikro-orm-pg-copy-*.tgz)"
tar -tzf "$tarball" >"$work/files"
for f in dist/index.js dist/cjs/index.js dist/cjs/package.json dist/cli/main.js LICENSE; do
  grep -qx "package/$f" "$work/files" || { echo "the tarball has no $f" >&2; exit 1; }
done

# a bin dir that puts the wanted Node first on PATH, so `npx` and the CLI's `#!/usr/bin/env node` use it
node_dir() {
  local dir="$work/node-$1"
  mkdir -p "$dir"
  ln -sf "$2" "$dir/node"
  echo "$dir"
}

# app <dir> <package.json>: a fresh app directory with the given manifest, installed
app() {
  mkdir -p "$1"
  printf '%s\n' "$2" >"$1/package.json"
  (cd "$1" && npm install --no-audit --no-fund --loglevel=error)
}

for version in 7.2.5 6.6.16; do
  major="${version%%.*}"
  if [ "$major" = 7 ]; then nodebin="$(node_dir 22 "$node22")"; else nodebin="$(node_dir 20 "$node20")"; fi
  export PATH="$nodebin:$PATH"

  echo "== MikroORM $version, Node $(node --version): ES module and CommonJS apps"
  dir="$work/smoke-v$major"
  # on MikroORM 7 the CLI finds the config through @mikro-orm/cli (newest 7.x: 7.2.1, which pins its
  # core exactly: the override makes it share the app's, as the README's install notes say)
  cli=""; overrides=""
  if [ "$major" = 7 ]; then
    cli=", \"@mikro-orm/cli\": \"7.2.1\""
    overrides=", \"overrides\": { \"@mikro-orm/cli\": { \"@mikro-orm/core\": \"\$@mikro-orm/core\" } }"
  fi
  app "$dir" "{ \"private\": true, \"dependencies\": {
    \"mikro-orm-pg-copy\": \"file:$tarball\",
    \"@mikro-orm/core\": \"$version\", \"@mikro-orm/postgresql\": \"$version\", \"pg\": \"8.23.1\"$cli }$overrides }"
  cp "$repo"/examples/smoke/* "$dir/"
  (cd "$dir" && node esm.mjs && node cjs.cjs)

  echo "== MikroORM $version, Node $(node --version): NestJS app (CommonJS, legacy decorators)"
  dir="$work/nestjs-v$major"
  mkdir -p "$dir"
  cp -r "$repo/examples/nestjs/src" "$repo/examples/nestjs/tsconfig.json" "$repo/examples/nestjs/package.json" "$dir/"
  if [ "$major" = 6 ]; then
    cp "$repo/examples/nestjs/mikro-orm-6/package.json" "$dir/"
    cp "$repo/examples/nestjs/mikro-orm-6/decorators.ts" "$dir/src/"
  fi
  (cd "$dir" && npm pkg set "dependencies.mikro-orm-pg-copy=file:$tarball" \
    && npm install --no-audit --no-fund --loglevel=error && npm run --silent build && npm run --silent start)

  export PATH="${PATH#"$nodebin:"}"
done
echo "== package smoke passed"
