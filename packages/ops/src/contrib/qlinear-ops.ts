/**
 * ONNX Runtime's per-tensor quantized elementwise, pooling and concat ops (`com.microsoft.QLinear*`):
 * each reads 8-bit integers with their scale and zero point and writes 8-bit integers requantized to
 * the output's scale and zero point (ORT docs/ContribOperators.md). Output dtype: the output zero
 * point's, else the data input's.
 */
import { tensorType, type DType, type Dim, type InferenceContext, type Type, type TypeInference } from '@modelpass/ir';
import { inferWindowDims, windowAttributes } from '../nn/window-geometry.js';
import { broadcastShapesOrUnknownDims } from '../util/shape.js';
import { inputShape, inputTensorType, normalizeAxisForInference, shapeOfType } from '../util/inference.js';
import { verifyPool } from '../verify/window-checks.js';
import { reportAt } from '../verify/verify-context.js';
import { defineContribOp, MICROSOFT_DIALECT, verifyScalarParameters } from './contrib-op.js';

/** The dtype of the output: from input `zeroPointIndex` when given, else from input `dataIndex`. */
function outputDType(context: InferenceContext, zeroPointIndex: number, dataIndex: number): DType | undefined {
  return inputTensorType(context, zeroPointIndex)?.dtype ?? inputTensorType(context, dataIndex)?.dtype;
}

/** Same shape as X (input 0), dtype of Y's zero point (input 4). */
const sameShapeAsX: TypeInference = (context) => {
  const dtype = outputDType(context, 4, 0);
  return [dtype ? tensorType(dtype, inputShape(context, 0) ?? null) : undefined];
};

const unaryInputs = [{ name: 'X' }, { name: 'X_scale' }, { name: 'X_zero_point', optional: true }, { name: 'Y_scale' }, { name: 'Y_zero_point', optional: true }];
const requiredZeroPoints = unaryInputs.map((input) => ({ name: input.name }));
const SCALARS_1_TO_4 = verifyScalarParameters([1, 2, 3, 4]);

const binary = (opType: 'QLinearAdd' | 'QLinearMul', summary: string) =>
  defineContribOp({
    op: `${MICROSOFT_DIALECT}.${opType}`,
    summary,
    inputs: [
      { name: 'A' },
      { name: 'A_scale' },
      { name: 'A_zero_point', optional: true },
      { name: 'B' },
      { name: 'B_scale' },
      { name: 'B_zero_point', optional: true },
      { name: 'C_scale' },
      { name: 'C_zero_point', optional: true },
    ],
    outputs: [{ name: 'C' }],
    verify: verifyScalarParameters([1, 2, 4, 5, 6, 7]),
    inferTypes(context) {
      const dtype = outputDType(context, 7, 0);
      const a = inputShape(context, 0);
      const b = inputShape(context, 3);
      return [dtype ? tensorType(dtype, a && b ? broadcastShapesOrUnknownDims(a, b) : null) : undefined];
    },
  });

export const qlinearAddOp = binary('QLinearAdd', 'C = quantize(dequantize(A) + dequantize(B)) with numpy broadcasting');
export const qlinearMulOp = binary('QLinearMul', 'C = quantize(dequantize(A) * dequantize(B)) with numpy broadcasting');

export const qlinearSigmoidOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearSigmoid`,
  summary: 'Y = quantize(sigmoid(dequantize(X)))',
  inputs: unaryInputs,
  outputs: [{ name: 'Y' }],
  verify: SCALARS_1_TO_4,
  inferTypes: sameShapeAsX,
});

export const qlinearLeakyReluOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearLeakyRelu`,
  summary: 'Y = quantize(leaky_relu(dequantize(X), alpha))',
  inputs: unaryInputs,
  outputs: [{ name: 'Y' }],
  attributes: { alpha: { kind: 'float', default: 0.01 } },
  verify: SCALARS_1_TO_4,
  inferTypes: sameShapeAsX,
});

export const qlinearSoftmaxOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearSoftmax`,
  summary: "Y = quantize(softmax(dequantize(X), axis)) with the Softmax semantics of opset 'opset'",
  inputs: [...unaryInputs.slice(0, 4), { name: 'Y_zero_point' }],
  outputs: [{ name: 'Y' }],
  attributes: { axis: { kind: 'int' }, opset: { kind: 'int', required: true } },
  verify(context) {
    SCALARS_1_TO_4(context);
    const axis = context.node.getAttribute('axis');
    const rank = shapeOfType(context.node.inputs[0]?.type)?.length;
    if (axis?.kind === 'int' && rank !== undefined && normalizeAxisForInference(axis.value, rank) === undefined) {
      reportAt(context, 'axis-range', `axis ${axis.value} is out of range for rank ${rank}`, { expected: `[-${rank}, ${rank - 1}]` });
    }
  },
  inferTypes: sameShapeAsX,
});

export const qlinearGlobalAveragePoolOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearGlobalAveragePool`,
  summary: 'Mean over all spatial positions of each channel, requantized (NCHW, or NHWC with channels_last=1)',
  inputs: requiredZeroPoints,
  outputs: [{ name: 'Y' }],
  attributes: { channels_last: { kind: 'int', default: 0, oneOf: [0, 1] } },
  verify: SCALARS_1_TO_4,
  inferTypes(context) {
    const dtype = outputDType(context, 4, 0);
    const x = inputShape(context, 0);
    if (!dtype) return [undefined];
    if (!x) return [tensorType(dtype, null)];
    const channelsLast = context.node.attr('channels_last', 'int', 0) === 1;
    const shape: Dim[] = channelsLast ? [x[0]!, ...x.slice(1, -1).map(() => 1), x[x.length - 1]!] : [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
    return [tensorType(dtype, shape)];
  },
});

export const qlinearAveragePoolOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearAveragePool`,
  summary: 'AveragePool on the dequantized input, requantized (NCHW, or NHWC with channels_last=1)',
  inputs: unaryInputs,
  outputs: [{ name: 'Y' }],
  attributes: {
    auto_pad: { kind: 'string', default: 'NOTSET', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] },
    ceil_mode: { kind: 'int', default: 0, oneOf: [0, 1] },
    channels_last: { kind: 'int', default: 0, oneOf: [0, 1] },
    count_include_pad: { kind: 'int', default: 0, oneOf: [0, 1] },
    kernel_shape: { kind: 'ints', required: true },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  verify(context) {
    SCALARS_1_TO_4(context);
    if (context.node.attr('channels_last', 'int', 0) === 0) verifyPool(context);
  },
  inferTypes(context) {
    const dtype = outputDType(context, 4, 0);
    const x = inputShape(context, 0);
    if (!dtype) return [undefined];
    if (!x) return [tensorType(dtype, null)];
    const channelsLast = context.node.attr('channels_last', 'int', 0) === 1;
    const spatial = channelsLast ? x.slice(1, -1) : x.slice(2);
    const window = windowAttributes(context.node, spatial.length);
    const pooled = inferWindowDims(spatial, window);
    return [tensorType(dtype, channelsLast ? [x[0]!, ...pooled, x[x.length - 1]!] : [x[0]!, x[1]!, ...pooled])];
  },
});

/** QLinearConcat's operands after Y_scale, Y_zero_point: (tensor, scale, zero point) triples. */
const TRIPLE = 3;
const FIRST_TRIPLE = 2;

export const qlinearConcatOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QLinearConcat`,
  summary: 'Concatenates (tensor, scale, zero point) triples along axis, requantized to Y_scale/Y_zero_point',
  inputs: [{ name: 'Y_scale' }, { name: 'Y_zero_point' }, { name: 'inputs', variadic: true, minCount: TRIPLE }],
  outputs: [{ name: 'Y' }],
  attributes: { axis: { kind: 'int', required: true } },
  verify(context) {
    const { node } = context;
    const operands = node.inputs.length - FIRST_TRIPLE;
    if (operands % TRIPLE !== 0) {
      reportAt(context, 'qlinear-concat-operands', `QLinearConcat takes (tensor, scale, zero point) triples after Y_scale and Y_zero_point, but has ${operands} operands there`, {
        expected: 'a multiple of 3',
        actual: String(operands),
      });
      return;
    }
    const outDType = inputDType(node.inputs[1]?.type);
    for (let i = FIRST_TRIPLE; i < node.inputs.length; i += TRIPLE) {
      const dtype = inputDType(node.inputs[i]?.type);
      if (dtype && outDType && dtype !== outDType) {
        reportAt(context, 'type-constraint', `input #${i} '${node.inputs[i]!.name}' is ${dtype} but Y_zero_point is ${outDType}`, { expected: outDType, actual: dtype });
      }
    }
    verifyScalarParameters([0, 1, ...Array.from({ length: operands / TRIPLE }, (_, t) => [FIRST_TRIPLE + t * TRIPLE + 1, FIRST_TRIPLE + t * TRIPLE + 2]).flat()])(context);
  },
  inferTypes(context) {
    const dtype = inputTensorType(context, 1)?.dtype;
    if (!dtype) return [undefined];
    const shapes: (readonly Dim[] | undefined)[] = [];
    for (let i = FIRST_TRIPLE; i < context.node.inputs.length; i += TRIPLE) shapes.push(inputShape(context, i));
    const first = shapes[0];
    if (!first || shapes.some((shape) => !shape || shape.length !== first.length)) return [tensorType(dtype, null)];
    const axis = normalizeAxisForInference(context.node.attr('axis', 'int'), first.length);
    if (axis === undefined) return [tensorType(dtype, null)];
    const shape = first.map((dim, d) => {
      if (d !== axis) return dim;
      let total = 0;
      for (const s of shapes) {
        const size = s![d];
        if (typeof size !== 'number') return null;
        total += size;
      }
      return total;
    });
    return [tensorType(dtype, shape)];
  },
});

/** The stored element type of a tensor value (a `quant<>` type's storage dtype). */
function inputDType(type: Type | undefined): DType | undefined {
  return type?.kind === 'tensor' ? type.dtype : undefined;
}

export const qlinearOps = [qlinearAddOp, qlinearMulOp, qlinearSigmoidOp, qlinearLeakyReluOp, qlinearSoftmaxOp, qlinearGlobalAveragePoolOp, qlinearAveragePoolOp, qlinearConcatOp];
