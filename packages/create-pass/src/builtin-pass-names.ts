/**
 * The names a scaffolded pass must not take: the passes the `modelpass` CLI registers and the
 * pipeline anchors every registry reserves. A plugin pass with one of these names fails to load
 * ("pass 'dce' is registered twice"), so create-pass refuses it up front.
 *
 * A copy, so create-pass needs no dependency that loads every pass package; a test compares it
 * with the CLI's real registry (`builtinEnvironment()`) and `ANCHOR_NAMES`, so it cannot drift:
 * when that test fails, it prints the list to paste here.
 */

/** Built-in pass name → the package that registers it. */
export const BUILTIN_PASSES: ReadonlyMap<string, string> = new Map([
  ['canonicalize', '@modelpass/transforms'],
  ['convert-float16', '@modelpass/quantize'],
  ['cse', '@modelpass/transforms'],
  ['dce', '@modelpass/transforms'],
  ['distill', '@modelpass/train'],
  ['eliminate-dropout', '@modelpass/transforms'],
  ['eliminate-duplicate-initializers', '@modelpass/transforms'],
  ['eliminate-identity', '@modelpass/transforms'],
  ['eliminate-noop', '@modelpass/transforms'],
  ['eliminate-unused-initializers', '@modelpass/transforms'],
  ['fold-constants', '@modelpass/transforms'],
  ['fold-if', '@modelpass/transforms'],
  ['fold-qdq', '@modelpass/transforms'],
  ['fold-shapes', '@modelpass/transforms'],
  ['fuse', '@modelpass/transforms'],
  ['fuse-add-into-conv-bias', '@modelpass/transforms'],
  ['fuse-bn', '@modelpass/transforms'],
  ['fuse-bn-into-conv', '@modelpass/transforms'],
  ['fuse-bn-into-gemm', '@modelpass/transforms'],
  ['fuse-consecutive-concats', '@modelpass/transforms'],
  ['fuse-consecutive-reshapes', '@modelpass/transforms'],
  ['fuse-consecutive-squeezes', '@modelpass/transforms'],
  ['fuse-consecutive-transposes', '@modelpass/transforms'],
  ['fuse-matmul-add-into-gemm', '@modelpass/transforms'],
  ['fuse-mul-into-weights', '@modelpass/transforms'],
  ['fuse-pad-into-conv', '@modelpass/transforms'],
  ['fuse-pad-into-pool', '@modelpass/transforms'],
  ['fuse-transpose-into-gemm', '@modelpass/transforms'],
  ['inline-functions', '@modelpass/transforms'],
  ['legalize-tflite', '@modelpass/tflite'],
  ['materialize-qdq', '@modelpass/transforms'],
  ['optimize', '@modelpass/transforms'],
  ['prune-channels', '@modelpass/prune'],
  ['prune-magnitude', '@modelpass/prune'],
  ['prune-nm', '@modelpass/prune'],
  ['quantize-dynamic', '@modelpass/quantize'],
  ['quantize-static', '@modelpass/quantize'],
  ['quantize-weights', '@modelpass/quantize'],
  ['raise-tflite', '@modelpass/tflite'],
  ['reconstruct', '@modelpass/prune'],
  ['simplify', '@modelpass/transforms'],
  ['sink-transposes', '@modelpass/transforms'],
  ['train', '@modelpass/train'],
]);

/** Pipeline anchors (`repeat{times=N}(…)`, `fixed-point(…)`): reserved in every pass registry. */
export const RESERVED_ANCHORS: readonly string[] = ['repeat', 'fixed-point'];
