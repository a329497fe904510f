#!/bin/bash
# A built copy of a commit's bench packages outside the checkout, so a bench measures committed code only (other
# sessions' uncommitted edits and rebuilds of the shared dist folders stay out) and two commits can be compared with
# ab-processes.mjs (--base <one copy>, run from the other).
#
#   tools/bench/tflite/freeze-tree.sh <commit> <dir>        # e.g. HEAD /tmp/frozen (the dir is replaced)
#   cd <dir> && node tools/bench/tflite/run.mjs --rounds 9 --runs 20 --out /tmp/run.md
#
#   cd <dir> && node tools/bench/tflite/cli-cold.mjs ...    # CLI benches run the copy's packages/cli/dist/bin.js
#
# The copy is `git archive` of the commit, node_modules linked to this checkout's (its @modelpass/* to the copy's own
# packages), .fixtures-cache linked, and the cli package built with tsc -b — with it every package it references (ir,
# ops, pass-manager, onnx, runtime, transforms, prune, quantize, report, tflite, torchscript, train, distributed), as
# its build script does (tsc -b, then dist/bin.js made executable), and checked to start (`modelpass passes`); about
# 3 minutes niced at load 13-18 (s17). Before s17 only ir, ops, pass-manager, onnx, transforms, tflite and runtime
# were built, so a frozen tree could not run `modelpass`. The commit is resolved once, before anything is copied: a
# name like HEAD that moves during the build (another session's commit) still reports, and leaves in
# <dir>/FROZEN_COMMIT, the commit that was archived.
set -euo pipefail
COMMIT=${1:?commit}
DIR=${2:?target folder}
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
SHA=$(git -C "$ROOT" rev-parse --verify --quiet "$COMMIT^{commit}") || { echo "freeze-tree.sh: '$COMMIT' is not a commit of $ROOT" >&2; exit 2; }
rm -rf "$DIR" && mkdir -p "$DIR"
git -C "$ROOT" archive "$SHA" | tar -x -C "$DIR"
echo "$SHA" > "$DIR/FROZEN_COMMIT"
mkdir -p "$DIR/node_modules/@modelpass"
for entry in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do
  [ "$(basename "$entry")" = "@modelpass" ] || ln -s "$entry" "$DIR/node_modules/$(basename "$entry")"
done
for entry in "$ROOT"/node_modules/@modelpass/*; do
  target=$(readlink -f "$entry")
  ln -s "$DIR${target#"$ROOT"}" "$DIR/node_modules/@modelpass/$(basename "$entry")"
done
ln -s "$ROOT/.fixtures-cache" "$DIR/.fixtures-cache"
(cd "$DIR/packages/cli" && nice -n 10 "$ROOT/node_modules/.bin/tsc" -b && chmod +x dist/bin.js)
# The command must start from the copy: a missing package or a dist left unbuilt fails here, not in the bench.
node "$DIR/packages/cli/bin/modelpass.js" passes > /dev/null || { echo "freeze-tree.sh: the frozen CLI in $DIR does not run" >&2; exit 1; }
echo "built ${SHA:0:7} ($COMMIT) in $DIR"
