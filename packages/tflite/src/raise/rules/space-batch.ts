import { attrs, tensorType } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { staticDims, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/**
 * SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (ONNX has neither) as TF defines them: Pad (or Slice, for the crops) of
 * the M spatial dims after the batch, a Reshape that splits each into [dim / block, block], a Transpose that moves
 * the block factors ahead of (or back behind) the batch, and a Reshape that merges them. Static shapes only.
 */

function blockCheck(node: Parameters<RaiseRule['check']>[0], what: string): string | undefined {
  const dims = staticDims(node.inputs[0]);
  const block = numbersOf(node.inputs[1]);
  const pairs = numbersOf(node.inputs[2]);
  if (!dims) return 'needs an input of static shape';
  if (!block || !pairs) return `the block_shape and ${what} must be constants`;
  if (block.length < 1 || block.length + 1 > dims.length || pairs.length !== 2 * block.length) return `block_shape of ${block.length} dims and ${pairs.length / 2} ${what} pairs do not fit an input of rank ${dims.length}`;
  if (block.some((b) => !Number.isInteger(b) || b < 1) || pairs.some((p) => p < 0)) return `block_shape [${block.join(',')}] must be positive and the ${what} non-negative`;
  return undefined;
}

const spaceToBatch: RaiseRule = {
  ops: ['tflite.SPACE_TO_BATCH_ND'],
  targets: ['Pad', 'Reshape', 'Transpose'],
  check(node) {
    const problem = blockCheck(node, 'paddings');
    if (problem) return problem;
    const dims = staticDims(node.inputs[0])!;
    const block = numbersOf(node.inputs[1])!;
    const pads = numbersOf(node.inputs[2])!;
    const bad = block.findIndex((b, i) => (dims[i + 1]! + pads[2 * i]! + pads[2 * i + 1]!) % b !== 0);
    return bad < 0 ? undefined : `the padded spatial dim ${bad + 1} (${dims[bad + 1]! + pads[2 * bad]! + pads[2 * bad + 1]!}) is not a multiple of its block ${block[bad]}`;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = staticDims(node.inputs[0])!;
    const dtype = tensorTypeOf(node.inputs[0])!;
    const block = numbersOf(node.inputs[1])!;
    const pairs = numbersOf(node.inputs[2])!;
    const m = block.length;
    const rest = dims.slice(m + 1);
    const padded = block.map((_, i) => dims[i + 1]! + pairs[2 * i]! + pairs[2 * i + 1]!);
    const type = (shape: number[]) => tensorType(dtype.dtype, shape, dtype.quant);
    let x = node.input(0);
    if (pairs.some((p) => p !== 0)) {
      const begins = [0, ...block.map((_, i) => pairs[2 * i]!), ...rest.map(() => 0)];
      const ends = [0, ...block.map((_, i) => pairs[2 * i + 1]!), ...rest.map(() => 0)];
      x = emit.op1('Pad', [x, emit.int64([...begins, ...ends], 'pads')], {}, type([dims[0]!, ...padded, ...rest]));
    }
    const split = [dims[0]!, ...block.flatMap((b, i) => [padded[i]! / b, b]), ...rest];
    x = emit.op1('Reshape', [x, emit.int64(split, 'split_shape')], {}, type(split));
    const perm = [...block.map((_, i) => 2 + 2 * i), 0, ...block.map((_, i) => 1 + 2 * i), ...rest.map((_, j) => 1 + 2 * m + j)];
    x = emit.op1('Transpose', [x], { perm: attrs.ints(perm) }, type(perm.map((p) => split[p]!)));
    const merged = [dims[0]! * block.reduce((p, b) => p * b, 1), ...padded.map((d, i) => d / block[i]!), ...rest];
    replaceRaised(node, [emit.op1('Reshape', [x, emit.int64(merged, 'merged_shape')], {}, node.output(0).type)]);
  },
};

const batchToSpace: RaiseRule = {
  ops: ['tflite.BATCH_TO_SPACE_ND'],
  targets: ['Reshape', 'Transpose', 'Slice'],
  check(node) {
    const problem = blockCheck(node, 'crops');
    if (problem) return problem;
    const dims = staticDims(node.inputs[0])!;
    const block = numbersOf(node.inputs[1])!;
    const crops = numbersOf(node.inputs[2])!;
    const product = block.reduce((p, b) => p * b, 1);
    if (dims[0]! % product !== 0) return `the batch ${dims[0]} is not a multiple of the block size ${product}`;
    const bad = block.findIndex((b, i) => crops[2 * i]! + crops[2 * i + 1]! > dims[i + 1]! * b);
    return bad < 0 ? undefined : `the crops of spatial dim ${bad + 1} exceed its size ${dims[bad + 1]! * block[bad]!}`;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = staticDims(node.inputs[0])!;
    const dtype = tensorTypeOf(node.inputs[0])!;
    const block = numbersOf(node.inputs[1])!;
    const crops = numbersOf(node.inputs[2])!;
    const m = block.length;
    const batch = dims[0]! / block.reduce((p, b) => p * b, 1);
    const spatial = dims.slice(1, m + 1);
    const rest = dims.slice(m + 1);
    const type = (shape: number[]) => tensorType(dtype.dtype, shape, dtype.quant);
    const split = [...block, batch, ...spatial, ...rest];
    let x = emit.op1('Reshape', [node.input(0), emit.int64(split, 'split_shape')], {}, type(split));
    const perm = [m, ...block.flatMap((_, i) => [m + 1 + i, i]), ...rest.map((_, j) => 2 * m + 1 + j)];
    x = emit.op1('Transpose', [x], { perm: attrs.ints(perm) }, type(perm.map((p) => split[p]!)));
    const full = spatial.map((d, i) => d * block[i]!);
    const cropped = crops.some((c) => c !== 0);
    x = emit.op1('Reshape', [x, emit.int64([batch, ...full, ...rest], 'merged_shape')], {}, cropped ? type([batch, ...full, ...rest]) : node.output(0).type);
    if (cropped) {
      const axes = block.map((_, i) => i + 1);
      const starts = block.map((_, i) => crops[2 * i]!);
      const ends = block.map((_, i) => full[i]! - crops[2 * i + 1]!);
      x = emit.op1('Slice', [x, emit.int64(starts, 'starts'), emit.int64(ends, 'ends'), emit.int64(axes, 'axes')], {}, node.output(0).type);
    }
    replaceRaised(node, [x]);
  },
};

export const spaceBatchRaiseRules: readonly RaiseRule[] = [spaceToBatch, batchToSpace];
