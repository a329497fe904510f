import { Tensor, type Node, type Value } from '@modelpass/ir';
import { kernelFor } from '@modelpass/ops';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { loweringError, replaceNode, staticDims, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { CHANNELS_FIRST_OPS } from '../../layout/layout-analysis.js';
import { toChannelsFirst, toChannelsLast } from './channels-last.js';
import { spatialRules } from './spatial.js';

/**
 * Resize/Upsample that no RESIZE_* builtin reproduces (cubic, nearest with round_prefer_floor,
 * half_pixel_symmetric, antialias, tf_crop_and_resize with a zero extrapolation, …): every ONNX
 * resize is separable and linear in the input, so each resized axis is a product with a constant
 * `[out, in]` matrix — for an NCHW image resized in H/W, BATCH_MATMULs in NHWC (no transpose inside);
 * otherwise FULLY_CONNECTED over the last axis, between TRANSPOSEs for the others. The
 * matrices come from the reference kernel of `@modelpass/ops` applied to a one-hot probe, so they
 * follow ONNX's coordinate transforms, nearest modes, cubic coefficient, exclude_outside and
 * antialias exactly. Resizes the builtins map stay RESIZE_BILINEAR/RESIZE_NEAREST_NEIGHBOR.
 */

const base = spatialRules.find((rule) => rule.ops.includes('onnx.Resize'))!;

/** The `[out, in]` interpolation matrix of `axis`, from the reference kernel on a one-hot probe. */
function axisMatrix(node: Node, context: LoweringContext, axis: number): Tensor {
  const inDims = staticDims(node.inputs[0])!;
  const outDims = staticDims(node.outputs[0])!;
  const rank = inDims.length;
  const length = inDims[axis]!;
  // Probe: axis 0 numbers the one-hot vectors (length L), `axis` holds them, every other dim is 1.
  const probeShape = inDims.map((_, d) => (d === axis ? length : d === 0 ? length : 1));
  const probe = new Float32Array(probeShape.reduce((n, d) => n * d, 1));
  const stride = probeShape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const rowSize = probeShape.slice(1).reduce((n, d) => n * d, 1);
  for (let i = 0; i < length; i++) probe[i * rowSize + i * stride] = 1;
  const upsample = node.op === 'onnx.Upsample';
  const scales = numbersOf(node.inputs[upsample ? 1 : 2]);
  const sizes = upsample ? undefined : numbersOf(node.inputs[3]);
  const given = node.optionalAttr('scales', 'floats');
  const ones = new Array<number>(rank).fill(1);
  const inputs: (Tensor | null)[] = [Tensor.fromValues('float32', probeShape, probe)];
  if (upsample) {
    const probeScales = ones.map((one, d) => (d === axis ? (scales ?? given)![d]! : one));
    if (node.inputs[1]) inputs.push(Tensor.fromValues('float32', [rank], probeScales));
  } else {
    const roi = numbersOf(node.inputs[1]);
    const probeRoi = roi && roi.length === 2 * rank ? [...ones.map((_, d) => (d === axis ? roi[d]! : 0)), ...ones.map((_, d) => (d === axis ? roi[rank + d]! : 1))] : undefined;
    inputs.push(probeRoi ? Tensor.fromValues('float32', [2 * rank], probeRoi) : null);
    // ONNX Runtime maps align_corners and tf_crop_and_resize with the integer output length
    // ((in − 1)/(out − 1)), also when scales are given (4 → 3 at scale 0.8 puts the last output on the
    // last input), while the reference kernel follows ONNX's reference (the fractional 4·0.8): probe
    // those modes with sizes, so the matrix is ONNX Runtime's.
    const mode = node.optionalAttr('coordinate_transformation_mode', 'string') ?? 'half_pixel';
    const integerLength = mode === 'align_corners' || mode === 'tf_crop_and_resize';
    if ((sizes && sizes.length > 0) || integerLength) {
      inputs.push(null, Tensor.fromValues('int64', [rank], probeShape.map((d, k) => BigInt(k === axis ? outDims[axis]! : d))));
    } else {
      inputs.push(Tensor.fromValues('float32', [rank], ones.map((one, d) => (d === axis ? scales![d]! : one))));
    }
  }
  const opset = context.model.opset('onnx') ?? 17;
  const [result] = kernelFor(node.op)!(inputs, { node, opset, runSubgraph: () => [] }) as Tensor[];
  // result[i, …, o at axis, …] = weight of input i in output o.
  const values = result!.toNumbers();
  const outLength = outDims[axis]!;
  const resultStride = result!.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const resultRow = result!.shape.slice(1).reduce((n, d) => n * d, 1);
  const matrix = new Float32Array(outLength * length);
  for (let o = 0; o < outLength; o++) for (let i = 0; i < length; i++) matrix[o * length + i] = values[i * resultRow + o * resultStride]!;
  return Tensor.fromValues('float32', [outLength, length], matrix);
}

/** The axes the resize resamples: a changed length, a scale other than 1, or a crop-and-resize roi other than [0, 1]. */
function resizedAxes(node: Node): number[] {
  const inDims = staticDims(node.inputs[0])!;
  const outDims = staticDims(node.outputs[0])!;
  const rank = inDims.length;
  const upsample = node.op === 'onnx.Upsample';
  const scales = numbersOf(node.inputs[upsample ? 1 : 2]) ?? node.optionalAttr('scales', 'floats');
  const roi = upsample ? undefined : numbersOf(node.inputs[1]);
  const cropping = node.optionalAttr('coordinate_transformation_mode', 'string') === 'tf_crop_and_resize';
  return inDims
    .map((_, d) => d)
    .filter((d) => {
      if (inDims[d] !== outDims[d]) return true;
      if (scales && scales.length === rank && scales[d] !== 1) return true;
      return cropping && roi?.length === 2 * rank && (roi[d] !== 0 || roi[rank + d] !== 1);
    });
}

function checkMatrix(node: Node): string | undefined {
  if (node.inputs[0]?.type.kind !== 'tensor' || (node.inputs[0].type as { dtype: string }).dtype !== 'float32') return 'Resize of non-float32 data is not supported';
  const inDims = staticDims(node.inputs[0]);
  const outDims = staticDims(node.outputs[0]);
  if (!inDims || !outDims) return 'Resize needs static input and output shapes';
  if (node.optionalAttr('axes', 'ints')) return 'Resize with axes is not supported yet';
  if ((node.optionalAttr('keep_aspect_ratio_policy', 'string') ?? 'stretch') !== 'stretch') return 'Resize with keep_aspect_ratio_policy other than stretch is not supported yet';
  if (node.optionalAttr('coordinate_transformation_mode', 'string') === 'tf_crop_and_resize' && (node.optionalAttr('extrapolation_value', 'float') ?? 0) !== 0) {
    return 'tf_crop_and_resize with a non-zero extrapolation_value is not a linear map (not supported)';
  }
  const upsample = node.op === 'onnx.Upsample';
  const inputsConstant = node.inputs.slice(1).every((input) => !input || constantOf(input));
  if (!inputsConstant) return 'Resize roi, scales and sizes must be constants';
  if (upsample && !numbersOf(node.inputs[1]) && !node.optionalAttr('scales', 'floats')) return 'Upsample needs constant scales';
  if (!upsample && !numbersOf(node.inputs[2])?.length && !numbersOf(node.inputs[3])?.length) return 'Resize needs constant scales or sizes';
  if (inDims[0] !== outDims[0]) return 'resizing the batch dim is not supported';
  if (inDims.length > 5) return 'Resize of a tensor of rank > 5 is not supported (TRANSPOSE takes up to 5-D here)';
  if (resizedAxes(node).includes(0)) return 'resizing the batch dim is not supported';
  return undefined;
}

/**
 * An NCHW image resized along H and/or W only: in NHWC, where the layout transposes around it cancel
 * with its neighbours'. Each axis is a BATCH_MATMUL by its constant `[out, in]` matrix on the left,
 * broadcast over the batch: H on the image viewed `[N, H, W·C]`, W on it viewed `[N·H, W, C]` (the
 * views are RESHAPEs, no data moves), so no TRANSPOSE brings the axis last as FULLY_CONNECTED needs.
 */
function lowerImageMatrixNhwc(node: Node, context: LoweringContext, axes: readonly number[]): void {
  const emit = new TfliteEmitter(node, context);
  const outDims = staticDims(node.outputs[0])!;
  const [n, c, height, width] = staticDims(node.inputs[0])! as [number, number, number, number];
  let [h, w] = [height, width];
  let x: Value = toChannelsLast(emit, node.input(0));
  const view = (value: Value, shape: number[], name: string): Value => emit.op1('RESHAPE', [value, emit.int32(shape, [shape.length], name)], {}, typeWithShape(value.type, shape));
  for (const axis of axes) {
    const matrix = emit.constant(axisMatrix(node, context, axis), `resize_matrix_${axis}`);
    const [rows, columns] = axis === 2 ? [n, w * c] : [n * h, c];
    const length = axis === 2 ? h : w;
    const resized = outDims[axis]!;
    const product = emit.op1('BATCH_MATMUL', [matrix, view(x, [rows, length, columns], `view_${axis}`)], { adj_x: 0, adj_y: 0 }, typeWithShape(x.type, [rows, resized, columns]));
    if (axis === 2) h = resized;
    else w = resized;
    x = view(product, [n, h, w, c], `image_${axis}`);
  }
  replaceNode(node, [toChannelsFirst(emit, x)]);
}

/**
 * Whether the NHWC form pays: H is resized (FULLY_CONNECTED would need a transpose pair for it anyway), or the
 * input comes from a layout op's NHWC→NCHW transpose, or a layout op reads the result. A rank-4 tensor resized
 * along its last axis alone elsewhere (no image around it) stays one FULLY_CONNECTED, no transpose.
 */
function nhwcPays(node: Node, axes: readonly number[]): boolean {
  if (axes.includes(2)) return true;
  const producer = node.inputs[0]?.producer;
  const fromNhwc = producer?.op === 'onnx.Transpose' && producer.optionalAttr('perm', 'ints')?.join() === '0,3,1,2';
  return fromNhwc || node.output(0).users.some((user) => CHANNELS_FIRST_OPS.has(user.op));
}

function lowerMatrix(node: Node, context: LoweringContext): void {
  const axes = resizedAxes(node);
  const image = staticDims(node.inputs[0])!.length === 4 && axes.length > 0 && axes.every((axis) => axis === 2 || axis === 3);
  if (image && nhwcPays(node, axes)) return lowerImageMatrixNhwc(node, context, axes);
  const emit = new TfliteEmitter(node, context);
  const rank = staticDims(node.inputs[0])!.length;
  const outDims = staticDims(node.outputs[0])!;
  let x: Value = node.input(0);
  let dims = [...staticDims(node.inputs[0])!];
  for (const axis of resizedAxes(node)) {
    const matrix = axisMatrix(node, context, axis);
    const swap = Array.from({ length: rank }, (_, d) => (d === axis ? rank - 1 : d === rank - 1 ? axis : d));
    const moved = axis !== rank - 1;
    if (moved) {
      dims = swap.map((d) => dims[d]!);
      x = emit.op1('TRANSPOSE', [x, emit.int32(swap, [rank], `perm_${axis}`)], {}, typeWithShape(x.type, dims));
    }
    dims = [...dims.slice(0, -1), outDims[axis]!];
    x = emit.op1('FULLY_CONNECTED', [x, emit.constant(matrix, `resize_matrix_${axis}`), null], { fused_activation_function: 'NONE', keep_num_dims: 1 }, typeWithShape(x.type, dims));
    if (moved) {
      dims = swap.map((d) => dims[d]!);
      x = emit.op1('TRANSPOSE', [x, emit.int32(swap, [rank], `perm_back_${axis}`)], {}, typeWithShape(x.type, dims));
    }
  }
  if (x === node.input(0)) throw loweringError(node, 'the resize changes nothing and was not folded');
  replaceNode(node, [x]);
}

const resizeMatrix: LoweringRule = {
  ops: base.ops,
  stage: 'layout',
  targets: [...base.targets, 'FULLY_CONNECTED', 'TRANSPOSE', 'BATCH_MATMUL', 'RESHAPE'],
  check(node, context) {
    const builtin = base.check(node, context);
    if (!builtin) return undefined;
    const matrix = checkMatrix(node);
    return matrix ? `${builtin}; as interpolation matrices: ${matrix}` : undefined;
  },
  lower(node, context) {
    if (!base.check(node, context)) base.lower(node, context);
    else lowerMatrix(node, context);
  },
};

export const resizeMatrixRules: readonly LoweringRule[] = [resizeMatrix];
