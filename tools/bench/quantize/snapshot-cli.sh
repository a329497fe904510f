#!/usr/bin/env bash
# Copies the built workspace packages (package.json + dist, schema) into DIR with a node_modules whose
# @modelpass/* point at the copies and everything else at the repository's node_modules, so a long
# bench run can use DIR/packages/cli/dist/bin.js (run.mjs --cli) while others rebuild packages.
#
#   NX_DAEMON=false npx nx run @modelpass/cli:build
#   tools/bench/quantize/snapshot-cli.sh /tmp/modelpass-cli-snapshot
#   node tools/bench/quantize/run.mjs --cli /tmp/modelpass-cli-snapshot/packages/cli/dist/bin.js
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:?usage: snapshot-cli.sh DIR}
rm -rf "$dir"
mkdir -p "$dir/packages" "$dir/node_modules/@modelpass"
for entry in "$root"/node_modules/* "$root"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = "@modelpass" ] || ln -s "$entry" "$dir/node_modules/$name"
done
for package in "$root"/packages/*/; do
  name=$(basename "$package")
  [ -f "$package/package.json" ] || continue
  mkdir -p "$dir/packages/$name"
  cp "$package/package.json" "$dir/packages/$name/"
  for folder in dist schema; do
    if [ -d "$package/$folder" ]; then cp -r "$package/$folder" "$dir/packages/$name/"; fi
  done
done
for link in "$root"/node_modules/@modelpass/*; do
  target=$(basename "$(readlink -f "$link")")
  ln -s "$dir/packages/$target" "$dir/node_modules/@modelpass/$(basename "$link")"
done
node "$dir/packages/cli/dist/bin.js" passes > /dev/null
echo "$dir/packages/cli/dist/bin.js"
