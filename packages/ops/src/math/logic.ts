import { tensorType, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, tensorFromElements } from '../util/elements.js';
import { broadcastInputs, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { broadcastIndexMap, broadcastStaticShapes } from '../util/shape.js';
import { defineBinaryOp, defineUnaryOp, mapUnary, requireSameDType } from './elementwise.js';
import { verifyBroadcast } from '../verify/structure-checks.js';

type Compare = <T extends number | bigint | string>(a: T, b: T) => boolean;

function defineComparison(op: string, summary: string, compare: Compare): CanonicalOp {
  return defineBinaryOp({
    op,
    summary,
    outDType: 'bool',
    legacyBroadcast: true,
    functions: () => ({ float: compare, int: compare, bigint: compare, bool: compare, string: compare }),
  });
}

export const equal = defineComparison('onnx.Equal', 'Elementwise A == B (strings since opset 19)', (a, b) => a === b);
export const greater = defineComparison('onnx.Greater', 'Elementwise A > B', (a, b) => a > b);
export const greaterOrEqual = defineComparison('onnx.GreaterOrEqual', 'Elementwise A >= B', (a, b) => a >= b);
export const less = defineComparison('onnx.Less', 'Elementwise A < B', (a, b) => a < b);
export const lessOrEqual = defineComparison('onnx.LessOrEqual', 'Elementwise A <= B', (a, b) => a <= b);

function defineLogical(op: string, summary: string, fn: (a: number, b: number) => boolean): CanonicalOp {
  return defineBinaryOp({ op, summary, outDType: 'bool', legacyBroadcast: true, functions: () => ({ bool: fn }) });
}

export const and = defineLogical('onnx.And', 'Elementwise logical and', (a, b) => a !== 0 && b !== 0);
export const or = defineLogical('onnx.Or', 'Elementwise logical or', (a, b) => a !== 0 || b !== 0);
export const xor = defineLogical('onnx.Xor', 'Elementwise logical xor', (a, b) => (a !== 0) !== (b !== 0));

export const not = defineUnaryOp({ op: 'onnx.Not', summary: 'Elementwise logical not', functions: () => ({ bool: (x) => x === 0 }) });

const bitWidths: Record<string, number> = { uint8: 8, uint16: 16, uint32: 32, uint64: 64 };

export const bitShift = defineBinaryOp({
  op: 'onnx.BitShift',
  summary: 'Elementwise logical shift of unsigned integers by Y bits, LEFT or RIGHT',
  attributes: { direction: { kind: 'string', required: true, oneOf: ['LEFT', 'RIGHT'] } },
  functions: (context) => {
    const direction = context.node.attr('direction', 'string');
    if (direction !== 'LEFT' && direction !== 'RIGHT') throw opError(context.node, `unknown BitShift direction '${direction}'`, { expected: "'LEFT' or 'RIGHT'" });
    const input = context.node.inputs[0]?.type;
    const fallbackBits = input?.kind === 'tensor' ? bitWidths[input.dtype] : undefined;
    const shift = (value: bigint, amount: bigint, bits: number): bigint =>
      direction === 'LEFT' ? BigInt.asUintN(bits, value << amount) : value >> amount;
    return {
      // Element width comes from the output buffer's wrap-around for the narrow types.
      int: (a, b) => Number(shift(BigInt(a), BigInt(b), fallbackBits ?? 32)),
      bigint: (a, b) => shift(a, b, 64),
    };
  },
});

export const isNaN = defineCanonicalOp({
  op: 'onnx.IsNaN',
  summary: 'Elementwise test for NaN',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    return [x ? tensorType('bool', x.shape) : undefined];
  },
  kernel: (inputs, context) => [mapUnary(inputTensor(inputs, 0, context), { float: (x) => Number(Number.isNaN(x)) }, context, 'bool')],
});

export const isInf = defineCanonicalOp({
  op: 'onnx.IsInf',
  summary: 'Elementwise test for infinity (detect_negative / detect_positive select the signs)',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: { detect_negative: { kind: 'int', default: 1, oneOf: [0, 1] }, detect_positive: { kind: 'int', default: 1, oneOf: [0, 1] } },
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    return [x ? tensorType('bool', x.shape) : undefined];
  },
  kernel: (inputs, context) => {
    const negative = context.node.attr('detect_negative', 'int', 1) === 1;
    const positive = context.node.attr('detect_positive', 'int', 1) === 1;
    const test = (x: number) => Number((positive && x === Infinity) || (negative && x === -Infinity));
    return [mapUnary(inputTensor(inputs, 0, context), { float: test, int: () => 0, bigint: () => 0n }, context, 'bool')];
  },
});

export const where = defineCanonicalOp({
  op: 'onnx.Where',
  summary: 'Elementwise condition ? X : Y with broadcasting of all three',
  inputs: [{ name: 'condition' }, { name: 'X' }, { name: 'Y' }],
  outputs: [{ name: 'output' }],
  inferTypes: (context) => {
    const x = inputTensorType(context, 1) ?? inputTensorType(context, 2);
    return [x ? broadcastInputs(context, [0, 1, 2], x.dtype) : undefined];
  },
  verify: verifyBroadcast([0, 1, 2]),
  kernel: (inputs, context) => {
    const condition = inputTensor(inputs, 0, context);
    const x = inputTensor(inputs, 1, context);
    const y = inputTensor(inputs, 2, context);
    if (condition.dtype !== 'bool') throw opError(context.node, 'condition must be bool', { actual: condition.dtype });
    requireSameDType([x, y], context);
    const shape = broadcastStaticShapes([condition.shape, x.shape, y.shape], context.node);
    const [cMap, xMap, yMap] = [condition, x, y].map((t: Tensor) => broadcastIndexMap(t.shape, shape)) as [Int32Array, Int32Array, Int32Array];
    const c = readElements(condition) as Uint8Array;
    const xData = readElements(x) as ArrayLike<unknown>;
    const yData = readElements(y) as ArrayLike<unknown>;
    const out = allocateElements(x.dtype, cMap.length) as unknown[];
    for (let i = 0; i < cMap.length; i++) out[i] = c[cMap[i]!] ? xData[xMap[i]!] : yData[yMap[i]!];
    return [tensorFromElements(x.dtype, shape, out as ArrayLike<number>)];
  },
});

export const logicOps: readonly CanonicalOp[] = [
  equal, greater, greaterOrEqual, less, lessOrEqual, and, or, xor, not, bitShift, isNaN, isInf, where,
];
