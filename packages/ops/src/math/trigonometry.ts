import type { CanonicalOp } from '../op-definition.js';
import { defineUnaryOp } from './elementwise.js';
import { erf as erfFunction } from './erf.js';

function floatUnary(op: string, summary: string, fn: (x: number) => number): CanonicalOp {
  return defineUnaryOp({ op, summary, functions: () => ({ float: fn }) });
}

export const trigonometricOps: readonly CanonicalOp[] = [
  floatUnary('onnx.Sin', 'Elementwise sine', Math.sin),
  floatUnary('onnx.Cos', 'Elementwise cosine', Math.cos),
  floatUnary('onnx.Tan', 'Elementwise tangent', Math.tan),
  floatUnary('onnx.Asin', 'Elementwise arcsine', Math.asin),
  floatUnary('onnx.Acos', 'Elementwise arccosine', Math.acos),
  floatUnary('onnx.Atan', 'Elementwise arctangent', Math.atan),
  floatUnary('onnx.Sinh', 'Elementwise hyperbolic sine', Math.sinh),
  floatUnary('onnx.Cosh', 'Elementwise hyperbolic cosine', Math.cosh),
  floatUnary('onnx.Asinh', 'Elementwise inverse hyperbolic sine', Math.asinh),
  floatUnary('onnx.Acosh', 'Elementwise inverse hyperbolic cosine', Math.acosh),
  floatUnary('onnx.Atanh', 'Elementwise inverse hyperbolic tangent', Math.atanh),
  defineUnaryOp({
    op: 'onnx.Tanh',
    summary: 'Elementwise hyperbolic tangent',
    attributes: { consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' } },
    functions: () => ({ float: Math.tanh }),
  }),
  defineUnaryOp({ op: 'onnx.Erf', summary: 'Elementwise error function', functions: () => ({ float: erfFunction, int: (x) => Math.round(erfFunction(x)), bigint: (x) => BigInt(Math.round(erfFunction(Number(x)))) }) }),
];
