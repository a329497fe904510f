import { Tensor, type Dim, type Node, type Value } from '@modelpass/ir';
import { dimsOf, tensorTypeOf, type TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { explicitPad } from './conv.js';

/**
 * A dilated 2-D MaxPool or AveragePool (TFLite's MAX_POOL_2D/AVERAGE_POOL_2D have no dilation): the kernel's taps,
 * each a STRIDED_SLICE of the padded NHWC input — the slice starting at (i·dH, j·dW) with the pool's strides gives
 * that tap of every window. MaxPool pads with the lowest float32 and joins the taps by MAXIMUM; AveragePool pads with
 * zeros, sums them by ADD and DIVides by a constant `[1, outH, outW, 1]` of each window's count, as ONNX Runtime counts:
 * the taps inside the input (count_include_pad=0), or inside the input and its explicit pads (1; not what ceil_mode
 * adds past them). The pads are ONNX's explicit begins (SAME is refused) and at the end what the last window needs
 * (ceil_mode included), so the output size is the node's inferred one.
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
  /** The input's H, W and the explicit end pads (what count_include_pad counts past the input). */
  readonly sizes: number[];
  readonly padEnds: number[];
}

const poolName = (node: Node): string => node.op.slice('onnx.'.length);

function plan(node: Node): DilatedPlan | string {
  const inDims = dimsOf(node.inputs[0]);
  const outDims = dimsOf(node.outputs[0]);
  if (!inDims || !outDims || inDims.slice(1).some((d) => typeof d !== 'number') || outDims.slice(1).some((d) => typeof d !== 'number')) {
    return `a dilated ${poolName(node)} needs static channels and H, W (input and output)`;
  }
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `a dilated ${poolName(node)} is lowered for float32 only`;
  const kernel = node.attr('kernel_shape', 'ints');
  const strides = node.optionalAttr('strides', 'ints') ?? [1, 1];
  const dilations = node.optionalAttr('dilations', 'ints') ?? [1, 1];
  if (kernel[0]! * kernel[1]! > MAX_TAPS) return `a dilated ${poolName(node)} of ${kernel[0]}×${kernel[1]} taps (more than ${MAX_TAPS}) is not lowered`;
  const sizes = inDims.slice(2) as number[];
  const out = outDims.slice(2) as number[];
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  // ONNX gives SAME an output of ceil(in / stride); ONNX Runtime pads a dilated pool as if undilated and returns fewer.
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return `a dilated ${poolName(node)} with auto_pad ${autoPad} (ONNX Runtime's output size differs from the ONNX spec's; give explicit pads)`;
  const pads = node.optionalAttr('pads', 'ints') ?? [0, 0, 0, 0];
  const begins = [0, 1].map((i) => {
    return autoPad === 'VALID' ? 0 : pads[i]!;
  });
  // What the last window reaches past the input and the begin padding (ceil_mode may need more than `pads` says).
  const ends = [0, 1].map((i) => Math.max((out[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - sizes[i]! - begins[i]!, 0));
  const padEnds = [0, 1].map((i) => (autoPad === 'VALID' ? 0 : pads[i + 2]!));
  return { kernel, strides, dilations, begins, ends, out, sizes, padEnds };
}

export function dilatedPoolProblem(node: Node): string | undefined {
  const result = plan(node);
  return typeof result === 'string' ? result : undefined;
}

/**
 * How many of each window's taps along one axis an AveragePool divides by, per output position: those in
 * [from, to) of the padded input (the input itself, or with count_include_pad its explicit pads too).
 */
export function windowCounts(out: number, stride: number, kernel: number, dilation: number, from: number, to: number): number[] {
  return Array.from({ length: out }, (_, o) => {
    let count = 0;
    for (let k = 0; k < kernel; k++) {
      const at = o * stride + k * dilation;
      if (at >= from && at < to) count++;
    }
    return count;
  });
}

/** The dilated pool of the NHWC value `x` (dims [N, H, W, C]), as planned; returns its NHWC result. */
export function lowerDilatedPool(emit: TfliteEmitter, node: Node, x: Value): Value {
  const { kernel, strides, dilations, begins, ends, out, sizes, padEnds } = plan(node) as DilatedPlan;
  const max = node.op === 'onnx.MaxPool';
  const padded = begins.some((b) => b > 0) || ends.some((e) => e > 0) ? explicitPad(emit, x, { kind: 'explicit', begins, ends }, max ? LOWEST_FLOAT32 : undefined) : x;
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
      result = result ? emit.op1(max ? 'MAXIMUM' : 'ADD', [result, tap], max ? {} : { fused_activation_function: 'NONE' }, tapType) : tap;
    }
  }
  if (max) return result!;
  const includePad = (node.optionalAttr('count_include_pad', 'int') ?? 0) === 1;
  const [rows, columns] = [0, 1].map((a) =>
    windowCounts(out[a]!, strides[a]!, kernel[a]!, dilations[a]!, includePad ? 0 : begins[a]!, begins[a]! + sizes[a]! + (includePad ? padEnds[a]! : 0)),
  ) as [number[], number[]];
  // A window with no counted tap sums to 0; dividing it by 1 keeps it 0.
  const divisor = Tensor.fromValues('float32', [1, out[0]!, out[1]!, 1], rows.flatMap((r) => columns.map((c) => Math.max(r * c, 1))));
  return emit.op1('DIV', [result!, emit.constant(divisor, 'window_counts')], { fused_activation_function: 'NONE' }, tapType);
}
