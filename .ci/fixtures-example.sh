#!/usr/bin/env bash
# Runs examples/fixtures-vitest — the README's "Test fixtures" recipes as written — with several
# vitest workers, on MikroORM 7.2.5 and then 6.6.16, against DATABASE_URL (the role must be
# allowed to CREATE DATABASE). The package is installed from `npm pack`, as users get it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
: "${DATABASE_URL:?set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test}"
export PATH="$root/node_modules/.bin:$PATH" # Node 22 from the devDependency: MikroORM 7 and vitest 5 need it

npm run build --silent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/mikro-orm-pg-copy-*.tgz)

for version in 7.2.5 6.6.16; do
  echo "== examples/fixtures-vitest on MikroORM $version"
  dir="$work/example-$version"
  mkdir -p "$dir"
  tar -C examples/fixtures-vitest --exclude=node_modules --exclude=.pack --exclude=package-lock.json -cf - . | tar -C "$dir" -xf -
  mkdir -p "$dir/.pack"
  cp "$tarball" "$dir/.pack/mikro-orm-pg-copy.tgz"
  (
    cd "$dir"
    # the example pins MikroORM 7; the second pass swaps in MikroORM 6, same version for every @mikro-orm package
    npm pkg set "dependencies.@mikro-orm/core=$version" "dependencies.@mikro-orm/postgresql=$version"
    npm install --no-audit --no-fund --loglevel=error
    test "$(node -p "require('@mikro-orm/core/package.json').version")" = "$version"
    npx tsc -p tsconfig.json # the recipes type-check as pasted
    log="$dir/workers.log"
    : >"$log"
    FIXTURES_EXAMPLE_WORKER_LOG="$log" npx vitest run --maxWorkers=3
    # every test file ran on the clone of its own worker; at least two workers took part
    workers=$(cut -d' ' -f1 "$log" | sort -u | wc -l)
    echo "test files per worker: $(cut -d' ' -f1,2 "$log" | sort | uniq -c | tr -s ' ' | paste -sd';')"
    if [ "$(wc -l <"$log")" -ne 3 ] || [ "$workers" -lt 2 ]; then
      echo "expected 3 test files on at least 2 workers, got:" >&2
      cat "$log" >&2
      exit 1
    fi
  )
done
echo "== examples/fixtures-vitest passed on MikroORM 7.2.5 and 6.6.16"
