import { type Dim, type Node, type Value } from '@modelpass/ir';
import { dimsOf, tensorTypeOf, type TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { explicitPad } from './conv.js';

/**
 * A dilated 2-D MaxPool (TFLite's MAX_POOL_2D has no dilation): the maximum over the kernel's taps, each tap a
 * STRIDED_SLICE of the NHWC input padded with the lowest float32 — the slice starting at (i·dH, j·dW) with the pool's
 * strides gives that tap of every window — joined by MAXIMUM. The pads are ONNX's explicit begins (SAME is refused) and
 * at the end what the last window needs (ceil_mode included), so the output size is the node's inferred one.
 */

const LOWEST_FLOAT32 = -3.4028234663852886e38;
/** More taps than this (a 5×5 kernel is 25) would make a long MAXIMUM chain: refused. */
const MAX_TAPS = 49;

interface DilatedPlan {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly begins: number[];
  readonly ends: number[];
  readonly out: number[];
}

function plan(node: Node): DilatedPlan | string {
  const inDims = dimsOf(node.inputs[0]);
  const outDims = dimsOf(node.outputs[0]);
  if (!inDims || !outDims || inDims.slice(1).some((d) => typeof d !== 'number') || outDims.slice(1).some((d) => typeof d !== 'number')) {
    return 'a dilated MaxPool needs static channels and H, W (input and output)';
  }
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'a dilated MaxPool is lowered for float32 only';
  const kernel = node.attr('kernel_shape', 'ints');
  const strides = node.optionalAttr('strides', 'ints') ?? [1, 1];
  const dilations = node.optionalAttr('dilations', 'ints') ?? [1, 1];
  if (kernel[0]! * kernel[1]! > MAX_TAPS) return `a dilated MaxPool of ${kernel[0]}×${kernel[1]} taps (more than ${MAX_TAPS}) is not lowered`;
  const sizes = inDims.slice(2) as number[];
  const out = outDims.slice(2) as number[];
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  // ONNX gives SAME an output of ceil(in / stride); ONNX Runtime pads a dilated pool as if undilated and returns fewer.
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return `a dilated MaxPool with auto_pad ${autoPad} (ONNX Runtime's output size differs from the ONNX spec's; give explicit pads)`;
  const pads = node.optionalAttr('pads', 'ints') ?? [0, 0, 0, 0];
  const begins = [0, 1].map((i) => {
    return autoPad === 'VALID' ? 0 : pads[i]!;
  });
  // What the last window reaches past the input and the begin padding (ceil_mode may need more than `pads` says).
  const ends = [0, 1].map((i) => Math.max((out[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - sizes[i]! - begins[i]!, 0));
  return { kernel, strides, dilations, begins, ends, out };
}

export function dilatedMaxPoolProblem(node: Node): string | undefined {
  if (node.op !== 'onnx.MaxPool') return 'dilated average pooling has no TFLite kernel';
  const result = plan(node);
  return typeof result === 'string' ? result : undefined;
}

/** The dilated MaxPool of the NHWC value `x` (dims [N, H, W, C]), as planned; returns its NHWC result. */
export function lowerDilatedMaxPool(emit: TfliteEmitter, node: Node, x: Value): Value {
  const { kernel, strides, dilations, begins, ends, out } = plan(node) as DilatedPlan;
  const padded = begins.some((b) => b > 0) || ends.some((e) => e > 0) ? explicitPad(emit, x, { kind: 'explicit', begins, ends }, LOWEST_FLOAT32) : x;
  const [batch, , , channels] = dimsOf(x)! as [Dim, number, number, number];
  const tapType = typeWithShape(x.type, [batch, out[0]!, out[1]!, channels]);
  // A symbolic batch is kept whole by begin/end mask bit 0.
  const batchMask = typeof batch === 'number' ? 0 : 1;
  const options = { begin_mask: batchMask, end_mask: batchMask, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
  let result: Value | undefined;
  for (let i = 0; i < kernel[0]!; i++) {
    for (let j = 0; j < kernel[1]!; j++) {
      const top = i * dilations[0]!;
      const left = j * dilations[1]!;
      const begin = [0, top, left, 0];
      const end = [typeof batch === 'number' ? batch : 0, top + (out[0]! - 1) * strides[0]! + 1, left + (out[1]! - 1) * strides[1]! + 1, channels];
      const tap = emit.op1('STRIDED_SLICE', [padded, emit.int32(begin, [4], `tap_${i}_${j}_begin`), emit.int32(end, [4], `tap_${i}_${j}_end`), emit.int32([1, strides[0]!, strides[1]!, 1], [4], 'tap_strides')], options, tapType);
      result = result ? emit.op1('MAXIMUM', [result, tap], {}, tapType) : tap;
    }
  }
  return result!;
}
