#!/bin/bash
# A built copy of a commit's bench packages outside the checkout, so a bench measures committed code only (other
# sessions' uncommitted edits and rebuilds of the shared dist folders stay out) and two commits can be compared with
# ab-processes.mjs (--base <one copy>, run from the other).
#
#   tools/bench/tflite/freeze-tree.sh <commit> <dir>        # e.g. HEAD /tmp/frozen (the dir is replaced)
#   cd <dir> && node tools/bench/tflite/run.mjs --rounds 9 --runs 20 --out /tmp/run.md
#
# The copy is `git archive` of the commit, node_modules linked to this checkout's (its @modelpass/* to the copy's own
# packages), .fixtures-cache linked, and ir, ops, pass-manager, onnx, transforms, tflite, runtime built with tsc -b
# (about a minute, niced). The commit is resolved once, before anything is copied: a name like HEAD that moves during
# the build (another session's commit) still reports, and leaves in <dir>/FROZEN_COMMIT, the commit that was archived.
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
for package in ir ops pass-manager onnx transforms tflite runtime; do
  (cd "$DIR/packages/$package" && nice -n 10 "$ROOT/node_modules/.bin/tsc" -b)
done
echo "built ${SHA:0:7} ($COMMIT) in $DIR"
