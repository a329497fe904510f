/**
 * Sliding-window geometry shared by convolutions and pooling: output sizes and begin/end pads from
 * kernel shape, strides, dilations, explicit pads, auto_pad and ceil_mode (ONNX formulas).
 */
import type { Dim, Node } from '@modelpass/ir';
import { opError } from '../util/kernel-io.js';
import { refuseShape } from '../util/shape-refusal.js';

export interface WindowAttributes {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** `[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`. */
  readonly pads: readonly number[];
  readonly autoPad: string;
  readonly ceilMode: boolean;
}

export interface WindowGeometry {
  readonly outputSize: number[];
  readonly padBegin: number[];
  readonly padEnd: number[];
}

/** Reads the window attributes of a node; `kernel` comes from `kernel_shape` or the weight's dims. */
export function windowAttributes(node: Node, spatialRank: number, weightKernel?: readonly number[]): WindowAttributes {
  // A rank-1 or rank-2 input has no spatial axis (and `new Array(rank - 2)` would throw a RangeError below).
  if (!Number.isInteger(spatialRank) || spatialRank < 1) refuseShape(node, 'window-rank', `needs an input of rank 3 or more (N, C and at least one spatial axis), not rank ${spatialRank + 2}`);
  const kernel = node.optionalAttr('kernel_shape', 'ints') ?? weightKernel;
  if (!kernel) throw opError(node, 'needs kernel_shape');
  const ones = new Array<number>(spatialRank).fill(1);
  const strides = node.optionalAttr('strides', 'ints') ?? ones;
  const dilations = node.optionalAttr('dilations', 'ints') ?? ones;
  const pads = node.optionalAttr('pads', 'ints') ?? new Array<number>(spatialRank * 2).fill(0);
  const autoPad = node.attr('auto_pad', 'string', 'NOTSET');
  const ceilMode = node.attr('ceil_mode', 'int', 0) === 1;
  // Four plain calls (shape inference reads every convolution's window): a loop over a literal table allocated it per node.
  checkLength(node, 'kernel_shape', kernel, spatialRank, spatialRank);
  checkLength(node, 'strides', strides, spatialRank, spatialRank);
  checkLength(node, 'dilations', dilations, spatialRank, spatialRank);
  checkLength(node, 'pads', pads, spatialRank * 2, spatialRank);
  return { kernel, strides, dilations, pads, autoPad, ceilMode };
}

function checkLength(node: Node, name: string, list: readonly number[], length: number, spatialRank: number): void {
  if (list.length !== length) throw opError(node, `${name} has ${list.length} entries`, { expected: `${length} for ${spatialRank} spatial axes` });
}

/**
 * ONNX's shape inference and ONNX Runtime divide in C++ integers, which truncate toward zero: a
 * window larger than its (padded) input by less than a stride still gives one output, over the
 * part of the input it covers (`floor` would give none). Equal to `floor` whenever the span is ≥ 0.
 */
function truncatedQuotient(span: number, stride: number): number {
  return Math.trunc(span / stride);
}

/** Output size and pads of one spatial axis of a convolution or pooling window. */
export function windowAxis(input: number, axis: number, a: WindowAttributes): { output: number; begin: number; end: number } {
  const spatialRank = a.kernel.length;
  const stride = a.strides[axis]!;
  const effectiveKernel = (a.kernel[axis]! - 1) * a.dilations[axis]! + 1;
  if (a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER') {
    const output = Math.ceil(input / stride);
    const total = Math.max((output - 1) * stride + effectiveKernel - input, 0);
    const small = Math.floor(total / 2);
    const begin = a.autoPad === 'SAME_UPPER' ? small : total - small;
    return { output, begin, end: total - begin };
  }
  if (a.autoPad === 'VALID') {
    const span = input - effectiveKernel;
    const output = (a.ceilMode ? Math.ceil(span / stride) : truncatedQuotient(span, stride)) + 1;
    return { output: Math.max(output, 0), begin: 0, end: 0 };
  }
  const begin = a.pads[axis]!;
  const end = a.pads[axis + spatialRank]!;
  const span = input + begin + end - effectiveKernel;
  let output = (a.ceilMode ? Math.ceil(span / stride) : truncatedQuotient(span, stride)) + 1;
  // A window that would start in the end padding is dropped.
  if (a.ceilMode && (output - 1) * stride >= input + begin) output--;
  return { output: Math.max(output, 0), begin, end };
}

export function windowGeometry(inputSpatial: readonly number[], a: WindowAttributes): WindowGeometry {
  const axes = inputSpatial.map((size, axis) => windowAxis(size, axis, a));
  return { outputSize: axes.map((x) => x.output), padBegin: axes.map((x) => x.begin), padEnd: axes.map((x) => x.end) };
}

/** Output spatial dims for inference: symbolic input dims give unknown output dims. */
export function inferWindowDims(inputSpatial: readonly Dim[], a: WindowAttributes): Dim[] {
  return inputSpatial.map((size, axis) => (typeof size === 'number' ? windowAxis(size, axis, a).output : null));
}

/** All kernel positions (multi-indices over `kernel`) in row-major order. */
export function kernelPositions(kernel: readonly number[]): number[][] {
  const positions: number[][] = [];
  const index = new Array<number>(kernel.length).fill(0);
  const total = kernel.reduce((a, b) => a * b, 1);
  for (let k = 0; k < total; k++) {
    positions.push([...index]);
    for (let d = kernel.length - 1; d >= 0; d--) {
      if (++index[d]! < kernel[d]!) break;
      index[d] = 0;
    }
  }
  return positions;
}
