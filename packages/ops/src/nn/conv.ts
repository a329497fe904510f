/**
 * Convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv. N-d, grouped, dilated, padded.
 * Float convolutions accumulate in float64 and round once to the output dtype; integer ones
 * accumulate exactly (int32 range).
 */
import { tensorType, type Dim, type DType, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { inferWindowDims, kernelPositions, windowAttributes, windowGeometry, type WindowAttributes } from './window-geometry.js';
import { requantize } from './quantize-helpers.js';
import { convolutionSums, convTransposeSums, type SweepAxis } from './conv-loops.js';
import { viewNumbers } from '../util/elements.js';
import { inputShape, inputTensorType, typeOf } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { describeOperand, refuseShape } from '../util/shape-refusal.js';
import { sizeOf, stridesOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';
import { verifyConvolution } from '../verify/window-checks.js';
import { verifyConvBias } from '../verify/operand-shape-checks.js';

const windowAttributeSpecs = {
  auto_pad: { kind: 'string', default: 'NOTSET', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] },
  dilations: { kind: 'ints' },
  group: { kind: 'int', default: 1 },
  kernel_shape: { kind: 'ints' },
  pads: { kind: 'ints' },
  strides: { kind: 'ints' },
} as const;

interface ConvOperands {
  x: ArrayLike<number>;
  xShape: readonly number[];
  w: ArrayLike<number>;
  wShape: readonly number[];
  group: number;
  window: WindowAttributes;
  /** Subtracted from every input element (ConvInteger/QLinearConv zero points). */
  xZero?: number;
  /** Subtracted from the weights of output channel m. */
  wZero?: (m: number) => number;
}

/** The one axis of size 1 a convolution without spatial axes runs over. */
const POINT_AXIS: SweepAxis = { input: 1, output: 1, stride: 1, dilation: 1, padBegin: 0, kernel: 1 };

/**
 * Direct N-d convolution: returns the output shape and float64 accumulators (per output element,
 * the sum over input channels, then kernel positions in row-major order; see `conv-loops.ts`).
 */
export function convolve(node: Node, op: ConvOperands): { shape: number[]; values: Float64Array } {
  const { x, xShape, w, wShape, group, window } = op;
  const [n, c] = [xShape[0]!, xShape[1]!];
  const m = wShape[0]!;
  const spatialIn = xShape.slice(2);
  const cPerGroup = wShape[1]!;
  if (cPerGroup * group !== c || m % group !== 0) {
    throw opError(node, `input has ${c} channels, weights [${wShape.join(',')}] with group ${group} do not match`);
  }
  const geometry = windowGeometry(spatialIn, window);
  const spatialOut = geometry.outputSize;
  const axes: SweepAxis[] = spatialIn.map((input, d) => ({
    input,
    output: spatialOut[d]!,
    stride: window.strides[d]!,
    dilation: window.dilations[d]!,
    padBegin: geometry.padBegin[d]!,
    kernel: window.kernel[d]!,
  }));
  const out = convolutionSums({
    x,
    w,
    batch: n,
    inChannels: c,
    outChannels: m,
    group,
    axes: axes.length > 0 ? axes : [POINT_AXIS],
    xZero: op.xZero ?? 0,
    wZero: op.wZero,
  });
  return { shape: [n, m, ...spatialOut], values: out };
}

function inferConvType(context: Parameters<NonNullable<import('@modelpass/ir').OpSchemaInit['inferTypes']>>[0], dtype: DType | undefined) {
  const xShape = inputShape(context, 0);
  const wShape = inputShape(context, 1);
  if (!xShape || !wShape) return [typeOf(dtype, xShape ? xShape.map(() => null) : null)];
  const spatialRank = xShape.length - 2;
  const weightKernel = wShape.slice(2);
  const kernel = context.node.optionalAttr('kernel_shape', 'ints') ?? (weightKernel.every((d) => typeof d === 'number') ? (weightKernel as number[]) : undefined);
  if (!kernel) return [typeOf(dtype, [xShape[0]!, wShape[0]!, ...new Array<Dim>(spatialRank).fill(null)])];
  const window = windowAttributes(context.node, spatialRank, kernel);
  return [typeOf(dtype, [xShape[0]!, wShape[0]!, ...inferWindowDims(xShape.slice(2), window)])];
}

/**
 * Conv: X's channels are W's dim 1 × group (ONNX Runtime refuses other inputs when it runs the node; the verify
 * hook `ops/conv-channels` says so at load). Static dims only.
 */
function refuseConvChannels(node: Node, x: readonly Dim[] | undefined, w: readonly Dim[] | undefined): void {
  const group = node.optionalAttr('group', 'int') ?? 1;
  const channels = x?.[1];
  const perGroup = w?.[1];
  if (typeof channels !== 'number' || typeof perGroup !== 'number' || group < 1 || channels === perGroup * group) return;
  refuseShape(node, 'conv-channels', `input ${describeOperand(node, 0, x!)} has ${channels} channels but the weight ${describeOperand(node, 1, w!)} expects ${perGroup} per group × ${group} groups`, {
    expected: `${perGroup * group} channels`,
    actual: String(channels),
  });
}

function addBias(values: Float64Array, shape: readonly number[], bias: ArrayLike<number> | undefined): void {
  if (!bias) return;
  const [n, m] = [shape[0]!, shape[1]!];
  const spatial = sizeOf(shape.slice(2));
  for (let b = 0; b < n; b++) for (let ch = 0; ch < m; ch++) for (let s = 0; s < spatial; s++) values[(b * m + ch) * spatial + s]! += bias[ch]!;
}

export const convOp = defineCanonicalOp({
  op: 'onnx.Conv',
  summary: 'N-d convolution with groups, dilations, strides, pads or auto_pad',
  inputs: [{ name: 'X' }, { name: 'W' }, { name: 'B', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: windowAttributeSpecs,
  verify: (context) => {
    verifyConvolution({ x: 0, w: 1 })(context);
    verifyConvBias(context);
  },
  inferTypes(context) {
    refuseConvChannels(context.node, inputShape(context, 0), inputShape(context, 1));
    return inferConvType(context, inputTensorType(context, 0)?.dtype);
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const w = inputTensor(inputs, 1, node);
    const bias = optionalInputTensor(inputs, 2, node);
    const window = windowAttributes(node, x.rank - 2, w.shape.slice(2));
    const result = convolve(node, { x: viewNumbers(x), xShape: x.shape, w: viewNumbers(w), wShape: w.shape, group: node.attr('group', 'int', 1), window });
    addBias(result.values, result.shape, bias ? viewNumbers(bias) : undefined);
    return [tensorFromNumbers(x.dtype, result.shape, result.values)];
  },
});

/** Output spatial size and begin pads of a transposed convolution, per the ONNX equations. */
function transposeGeometry(node: Node, inputSpatial: readonly number[], window: WindowAttributes) {
  const rank = inputSpatial.length;
  const outputPadding = node.optionalAttr('output_padding', 'ints') ?? new Array<number>(rank).fill(0);
  const outputShapeAttr = node.optionalAttr('output_shape', 'ints');
  const explicit = outputShapeAttr ? outputShapeAttr.slice(-rank) : undefined;
  const padBegin: number[] = [];
  const outputSize: number[] = [];
  for (let i = 0; i < rank; i++) {
    const stride = window.strides[i]!;
    const effectiveKernel = (window.kernel[i]! - 1) * window.dilations[i]! + 1;
    const full = stride * (inputSpatial[i]! - 1) + outputPadding[i]! + effectiveKernel;
    const same = window.autoPad === 'SAME_UPPER' || window.autoPad === 'SAME_LOWER';
    const target = explicit?.[i] ?? (same ? inputSpatial[i]! * stride : undefined);
    if (target !== undefined) {
      const total = full - target;
      const half = Math.floor(total / 2);
      padBegin.push(window.autoPad === 'SAME_UPPER' ? half : total - half);
      outputSize.push(target);
    } else if (window.autoPad === 'VALID') {
      padBegin.push(0);
      outputSize.push(full);
    } else {
      padBegin.push(window.pads[i]!);
      outputSize.push(full - window.pads[i]! - window.pads[i + rank]!);
    }
  }
  return { padBegin, outputSize };
}

export const convTransposeOp = defineCanonicalOp({
  op: 'onnx.ConvTranspose',
  summary: 'Transposed (fractionally strided) N-d convolution',
  inputs: [{ name: 'X' }, { name: 'W' }, { name: 'B', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: { ...windowAttributeSpecs, output_padding: { kind: 'ints' }, output_shape: { kind: 'ints' } },
  verify: verifyConvolution({ x: 0, w: 1, transposed: true }),
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const xShape = type?.shape;
    const wShape = inputShape(context, 1);
    if (!type || !xShape || !wShape) return [typeOf(type?.dtype, null)];
    const group = context.node.attr('group', 'int', 1);
    const m = typeof wShape[1] === 'number' ? wShape[1] * group : null;
    const spatial = xShape.slice(2);
    const kernel = context.node.optionalAttr('kernel_shape', 'ints') ?? (wShape.slice(2).every((d) => typeof d === 'number') ? (wShape.slice(2) as number[]) : undefined);
    if (!kernel || !spatial.every((d) => typeof d === 'number')) return [tensorType(type.dtype, [xShape[0]!, m, ...spatial.map(() => null)])];
    const window = windowAttributes(context.node, spatial.length, kernel);
    return [tensorType(type.dtype, [xShape[0]!, m, ...transposeGeometry(context.node, spatial as number[], window).outputSize])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const w = inputTensor(inputs, 1, node);
    const bias = optionalInputTensor(inputs, 2, node);
    const group = node.attr('group', 'int', 1);
    const [n, c] = [x.shape[0]!, x.shape[1]!];
    if (w.shape[0] !== c) throw opError(node, `weights [${w.shape.join(',')}] need ${c} input channels first`);
    const mPerGroup = w.shape[1]!;
    const m = mPerGroup * group;
    const cPerGroup = c / group;
    const spatialIn = x.shape.slice(2);
    const window = windowAttributes(node, spatialIn.length, w.shape.slice(2));
    const { padBegin, outputSize } = transposeGeometry(node, spatialIn, window);
    if (!Number.isInteger(cPerGroup)) throw opError(node, `group ${group} does not divide the ${c} input channels`);
    const axes: SweepAxis[] = spatialIn.map((input, d) => ({
      input,
      output: outputSize[d]!,
      stride: window.strides[d]!,
      dilation: window.dilations[d]!,
      padBegin: padBegin[d]!,
      kernel: window.kernel[d]!,
    }));
    const out = convTransposeSums({ x: viewNumbers(x), w: viewNumbers(w), batch: n, inChannels: c, outChannels: m, group, axes: axes.length > 0 ? axes : [POINT_AXIS] });
    const shape = [n, m, ...outputSize];
    addBias(out, shape, bias ? viewNumbers(bias) : undefined);
    return [tensorFromNumbers(x.dtype, shape, out)];
  },
});

/** A zero point per output channel from a scalar or 1-D zero-point tensor. */
function channelZero(zero: Tensor | undefined): ((m: number) => number) | undefined {
  if (!zero) return undefined;
  const values = viewNumbers(zero);
  return values.length === 1 ? () => values[0]! : (m) => values[m]!;
}

function scalarOf(tensor: Tensor | undefined): number {
  return tensor ? viewNumbers(tensor)[0]! : 0;
}

/** Integer convolution (ConvInteger, QLinearConv): zero points subtracted, exact accumulation. */
function convolveWithZeroPoints(node: Node, x: Tensor, w: Tensor, xZero: number, wZero: ((m: number) => number) | undefined): { shape: number[]; values: Float64Array } {
  return convolve(node, {
    x: viewNumbers(x),
    xShape: x.shape,
    w: viewNumbers(w),
    wShape: w.shape,
    group: node.attr('group', 'int', 1),
    window: windowAttributes(node, x.rank - 2, w.shape.slice(2)),
    xZero,
    ...(wZero ? { wZero } : {}),
  });
}

export const convIntegerOp = defineCanonicalOp({
  op: 'onnx.ConvInteger',
  summary: 'Integer convolution with zero points, accumulating exactly into int32',
  inputs: [{ name: 'x' }, { name: 'w' }, { name: 'x_zero_point', optional: true }, { name: 'w_zero_point', optional: true }],
  outputs: [{ name: 'y' }],
  attributes: windowAttributeSpecs,
  verify: verifyConvolution({ x: 0, w: 1 }),
  inferTypes: (context) => inferConvType(context, 'int32'),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const w = inputTensor(inputs, 1, node);
    const result = convolveWithZeroPoints(node, x, w, scalarOf(optionalInputTensor(inputs, 2, node)), channelZero(optionalInputTensor(inputs, 3, node)));
    return [tensorFromNumbers('int32', result.shape, result.values)];
  },
});

export const qlinearConvOp = defineCanonicalOp({
  op: 'onnx.QLinearConv',
  summary: 'Quantized convolution: integer accumulation, then requantization to y_scale/y_zero_point',
  inputs: [
    { name: 'x' },
    { name: 'x_scale' },
    { name: 'x_zero_point' },
    { name: 'w' },
    { name: 'w_scale' },
    { name: 'w_zero_point' },
    { name: 'y_scale' },
    { name: 'y_zero_point' },
    { name: 'B', optional: true },
  ],
  outputs: [{ name: 'y' }],
  attributes: windowAttributeSpecs,
  verify: verifyConvolution({ x: 0, w: 3 }),
  inferTypes(context) {
    const [type] = inferConvOn(context, 0, 3);
    const yDType = inputTensorType(context, 7)?.dtype ?? inputTensorType(context, 0)?.dtype;
    return [type && type.kind === 'tensor' && yDType ? tensorType(yDType, type.shape) : undefined];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const w = inputTensor(inputs, 3, node);
    const result = convolveWithZeroPoints(node, x, w, scalarOf(inputTensor(inputs, 2, node)), channelZero(inputTensor(inputs, 5, node)));
    addBias(result.values, result.shape, optionalInputTensor(inputs, 8, node) ? viewNumbers(optionalInputTensor(inputs, 8, node)!) : undefined);
    const xScale = scalarOf(inputTensor(inputs, 1, node));
    const wScales = viewNumbers(inputTensor(inputs, 4, node));
    const yScaleT = inputTensor(inputs, 6, node);
    const yZeroT = inputTensor(inputs, 7, node);
    const m = result.shape[1]!;
    const spatial = sizeOf(result.shape.slice(2));
    const scales = Array.from({ length: m }, (_, ch) => Math.fround(Math.fround(xScale * wScales[wScales.length === 1 ? 0 : ch]!) / scalarOf(yScaleT)));
    return [requantize(yZeroT.dtype, result.shape, result.values, (i) => scales[Math.floor(i / spatial) % m]!, scalarOf(yZeroT))];
  },
});

function inferConvOn(context: Parameters<NonNullable<import('@modelpass/ir').OpSchemaInit['inferTypes']>>[0], xIndex: number, wIndex: number) {
  return inferConvType(
    {
      node: context.node,
      opset: context.opset,
      inputType: (i) => context.inputType(i === 0 ? xIndex : i === 1 ? wIndex : i),
      inputConstant: (i) => context.inputConstant(i === 0 ? xIndex : i === 1 ? wIndex : i),
    },
    inputTensorType(context, xIndex)?.dtype,
  );
}

export const convOps = [convOp, convTransposeOp, convIntegerOp, qlinearConvOp];

