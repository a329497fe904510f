/**
 * ONNX Runtime's quantized matrix products (domain `com.microsoft`, docs/ContribOperators.md):
 * QGemm (8-bit Gemm with scales and zero points, float or requantized 8-bit output),
 * MatMulIntegerToFloat (8-bit numpy matmul scaled to float, optional bias) and DynamicQuantizeMatMul
 * (float A quantized at run time against 8-bit B).
 */
import { tensorType, type DType, type VerifyContext } from '@modelpass/ir';
import { matmulDims } from '../nn/matmul.js';
import { inputShape, inputTensorType, shapeOfType, staticDim, typeOf } from '../util/inference.js';
import { intAttribute, reportAt } from '../verify/verify-context.js';
import { defineContribOp, MICROSOFT_DIALECT, verifyScalarParameters } from './contrib-op.js';

/** Inner dims of a numpy matmul of inputs `a` and `b` must agree when both are static. */
function verifyMatMulInner(a: number, b: number) {
  return (context: VerifyContext): void => {
    const { node } = context;
    const aShape = shapeOfType(node.inputs[a]?.type);
    const bShape = shapeOfType(node.inputs[b]?.type);
    if (!aShape || !bShape || aShape.length === 0 || bShape.length === 0) return;
    const k = staticDim(aShape[aShape.length - 1]);
    const k2 = staticDim(bShape.length === 1 ? bShape[0] : bShape[bShape.length - 2]);
    if (k !== undefined && k2 !== undefined && k !== k2) {
      reportAt(context, 'matmul-inner-dim', `A's last dim is ${k} but B's rows are ${k2}`, { expected: `B with ${k} rows`, actual: `[${bShape.join(',')}]` });
    }
  };
}

/** A 1-D per-column parameter (scale, zero point, bias) must have as many elements as B has columns. */
function verifyPerColumn(bIndex: number, indices: readonly number[]) {
  return (context: VerifyContext): void => {
    const { node } = context;
    const b = shapeOfType(node.inputs[bIndex]?.type);
    const columns = b && b.length >= 2 ? staticDim(b[b.length - 1]) : undefined;
    for (const index of indices) {
      const value = node.inputs[index];
      const shape = shapeOfType(value?.type);
      if (!value || !shape || shape.length === 0) continue;
      const count = shape.length === 1 ? staticDim(shape[0]) : undefined;
      if (shape.length > 1 || (count !== undefined && count !== 1 && columns !== undefined && count !== columns)) {
        reportAt(context, 'quant-parameter-shape', `input #${index} '${value.name}' of ${node.op} has shape [${shape.join(',')}]`, {
          expected: columns === undefined ? 'a scalar or a 1-D tensor' : `a scalar or ${columns} elements (B's columns)`,
          actual: `[${shape.join(',')}]`,
        });
      }
    }
  };
}

export const matMulIntegerToFloatOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.MatMulIntegerToFloat`,
  summary: 'Y = (A - a_zero_point) · (B - b_zero_point) · a_scale · b_scale + bias, numpy matmul, float result',
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'a_scale' }, { name: 'b_scale' }, { name: 'a_zero_point', optional: true }, { name: 'b_zero_point', optional: true }, { name: 'bias', optional: true }],
  outputs: [{ name: 'Y' }],
  verify(context) {
    verifyMatMulInner(0, 1)(context);
    verifyPerColumn(1, [3, 5, 6])(context);
  },
  inferTypes(context) {
    const a = inputShape(context, 0);
    const b = inputShape(context, 1);
    return [typeOf(inputTensorType(context, 2)?.dtype, a && b ? matmulDims(a, b) : null)];
  },
});

export const dynamicQuantizeMatMulOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.DynamicQuantizeMatMul`,
  summary: 'A quantized to uint8 at run time (per tensor), then an integer matmul with 8-bit B scaled back to float, plus bias',
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'b_scale' }, { name: 'b_zero_point', optional: true }, { name: 'bias', optional: true }],
  outputs: [{ name: 'Y' }],
  verify(context) {
    verifyMatMulInner(0, 1)(context);
    verifyPerColumn(1, [2, 3, 4])(context);
  },
  inferTypes(context) {
    const a = inputShape(context, 0);
    const b = inputShape(context, 1);
    return [typeOf(inputTensorType(context, 0)?.dtype, a && b ? matmulDims(a, b) : null)];
  },
});

const A = 0;
const B = 3;
const Y_SCALE = 7;
const Y_ZERO_POINT = 8;

export const qgemmOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.QGemm`,
  summary: 'Quantized Gemm: alpha · op(A) · op(B) + C on 8-bit operands; float output, or requantized to y_scale/y_zero_point',
  inputs: [
    { name: 'A' },
    { name: 'a_scale' },
    { name: 'a_zero_point' },
    { name: 'B' },
    { name: 'b_scale' },
    { name: 'b_zero_point' },
    { name: 'C', optional: true },
    { name: 'y_scale', optional: true },
    { name: 'y_zero_point', optional: true },
  ],
  outputs: [{ name: 'Y' }],
  attributes: {
    alpha: { kind: 'float', default: 1 },
    transA: { kind: 'int', default: 0, oneOf: [0, 1] },
    transB: { kind: 'int', default: 0, oneOf: [0, 1] },
  },
  verify(context) {
    const { node } = context;
    verifyScalarParameters([1, 2, Y_SCALE, Y_ZERO_POINT])(context);
    const a = shapeOfType(node.inputs[A]?.type);
    const b = shapeOfType(node.inputs[B]?.type);
    for (const [name, shape] of [['A', a], ['B', b]] as const) {
      if (shape && shape.length !== 2) reportAt(context, 'gemm-rank', `${name} has rank ${shape.length}`, { expected: 'a matrix (rank 2)', actual: `[${shape.join(',')}]` });
    }
    if (a?.length === 2 && b?.length === 2) {
      const k = staticDim(intAttribute(node, 'transA') === 1 ? a[0] : a[1]);
      const k2 = staticDim(intAttribute(node, 'transB') === 1 ? b[1] : b[0]);
      if (k !== undefined && k2 !== undefined && k !== k2) {
        reportAt(context, 'gemm-inner-dim', `K is ${k} for A but ${k2} for B (after transA/transB)`, { expected: `${k}`, actual: `${k2}` });
      }
    }
    if (node.inputs[Y_SCALE] && !node.inputs[Y_ZERO_POINT]) {
      reportAt(context, 'qgemm-output', 'y_scale is given without y_zero_point', { hint: 'give both for an 8-bit output, or neither for a float output' });
    }
  },
  inferTypes(context) {
    const a = inputShape(context, A);
    const b = inputShape(context, B);
    const quantizedOutput = context.node.inputs[Y_SCALE] !== undefined && context.node.inputs[Y_SCALE] !== null;
    const dtype: DType | undefined = quantizedOutput ? inputTensorType(context, Y_ZERO_POINT)?.dtype : 'float32';
    if (!dtype) return [undefined];
    if (!a || !b || a.length !== 2 || b.length !== 2) return [tensorType(dtype, [null, null])];
    const m = context.node.attr('transA', 'int', 0) ? a[1]! : a[0]!;
    const n = context.node.attr('transB', 'int', 0) ? b[0]! : b[1]!;
    return [tensorType(dtype, [m, n])];
  },
});

export const quantizedMatMulOps = [matMulIntegerToFloatOp, dynamicQuantizeMatMulOp, qgemmOp];
