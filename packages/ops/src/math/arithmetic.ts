import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { roundHalfToEven } from '../util/elements.js';
import { broadcastInputs } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { defineUnaryOp, legacyAlignedB, legacyBroadcastAttributes, mapBinary, requireSameDType, sameDTypeInference, type BinaryFunctions, type FloatRun } from './elementwise.js';
import { verifyBroadcast } from '../verify/structure-checks.js';
import { verifyModFloat } from '../verify/operand-shape-checks.js';

// Run forms of the float arithmetic (the same expression as `float`, one loop per broadcast run).
const addRun: FloatRun = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! + b[bi]!;
};
const subRun: FloatRun = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! - b[bi]!;
};
const mulRun: FloatRun = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! * b[bi]!;
};
const divRun: FloatRun = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! / b[bi]!;
};

function defineArithmeticOp(op: string, summary: string, functions: (context: KernelContext) => BinaryFunctions): CanonicalOp {
  return defineCanonicalOp({
    op,
    summary,
    inputs: [{ name: 'A' }, { name: 'B' }],
    outputs: [{ name: 'C' }],
    attributes: legacyBroadcastAttributes,
    inferTypes: sameDTypeInference((context) => [broadcastInputs(context, [0, 1])]),
    verify: verifyBroadcast([0, 1]),
    kernel: (inputs, context) => {
      const a = inputTensor(inputs, 0, context);
      const b = legacyAlignedB(a, inputTensor(inputs, 1, context), context);
      requireSameDType([a, b], context);
      return [mapBinary(a, b, functions(context), context)];
    },
  });
}

function integerDivisionByZero(context: KernelContext): Error {
  return opError(context.node, 'integer division by zero');
}

export const add = defineArithmeticOp('onnx.Add', 'Elementwise A + B with broadcasting', () => ({
  float: (a, b) => a + b,
  floatRun: addRun,
  int: (a, b) => a + b,
  bigint: (a, b) => a + b,
}));

export const sub = defineArithmeticOp('onnx.Sub', 'Elementwise A - B with broadcasting', () => ({
  float: (a, b) => a - b,
  floatRun: subRun,
  int: (a, b) => a - b,
  bigint: (a, b) => a - b,
}));

export const mul = defineArithmeticOp('onnx.Mul', 'Elementwise A * B with broadcasting', () => ({
  float: (a, b) => a * b,
  floatRun: mulRun,
  int: (a, b) => Math.imul(a, b),
  bigint: (a, b) => a * b,
}));

export const div = defineArithmeticOp('onnx.Div', 'Elementwise A / B with broadcasting (integers truncate toward zero)', (context) => ({
  float: (a, b) => a / b,
  floatRun: divRun,
  int: (a, b) => {
    if (b === 0) throw integerDivisionByZero(context);
    return Math.trunc(a / b);
  },
  bigint: (a, b) => {
    if (b === 0n) throw integerDivisionByZero(context);
    return a / b;
  },
}));

/** Integer remainder: `fmod=1` has the dividend's sign (C fmod), `fmod=0` the divisor's (Python). */
function remainder(a: number, b: number, fmod: boolean): number {
  const r = a % b;
  if (fmod || r === 0 || r < 0 === b < 0) return r;
  return r + b;
}

function bigRemainder(a: bigint, b: bigint, fmod: boolean): bigint {
  const r = a % b;
  if (fmod || r === 0n || r < 0n === b < 0n) return r;
  return r + b;
}

export const mod = defineCanonicalOp({
  op: 'onnx.Mod',
  summary: 'Elementwise remainder; fmod=1 follows C fmod (required for floats), fmod=0 takes the divisor\'s sign',
  inputs: [{ name: 'A' }, { name: 'B' }],
  outputs: [{ name: 'C' }],
  attributes: { fmod: { kind: 'int', default: 0, oneOf: [0, 1] } },
  inferTypes: (context) => [broadcastInputs(context, [0, 1])],
  verify: (context) => {
    verifyBroadcast([0, 1])(context);
    verifyModFloat(context);
  },
  kernel: (inputs, context) => {
    const a = inputTensor(inputs, 0, context);
    const b = inputTensor(inputs, 1, context);
    requireSameDType([a, b], context);
    const fmod = context.node.attr('fmod', 'int', 0) === 1;
    return [
      mapBinary(a, b, {
        float: (x, y) => {
          if (!fmod) throw opError(context.node, 'floating-point Mod needs fmod=1', { expected: 'fmod=1', actual: 'fmod=0' });
          return x % y;
        },
        int: (x, y) => {
          if (y === 0) throw integerDivisionByZero(context);
          return remainder(x, y, fmod);
        },
        bigint: (x, y) => {
          if (y === 0n) throw integerDivisionByZero(context);
          return bigRemainder(x, y, fmod);
        },
      }, context),
    ];
  },
});

function bigPow(base: bigint, exponent: bigint): bigint {
  if (exponent >= 0n) return base ** exponent;
  if (base === 1n) return 1n;
  if (base === -1n) return exponent % 2n === 0n ? 1n : -1n;
  return 0n;
}

function mixedBigPow(base: bigint, exponent: bigint | number): bigint {
  if (typeof exponent === 'bigint') return bigPow(base, exponent);
  if (Number.isInteger(exponent)) return bigPow(base, BigInt(exponent));
  return BigInt(Math.trunc(Math.pow(Number(base), exponent)));
}

export const pow = defineCanonicalOp({
  op: 'onnx.Pow',
  summary: 'Elementwise X ** Y with broadcasting; the output has X\'s type (Y may differ since opset 12)',
  inputs: [{ name: 'X' }, { name: 'Y' }],
  outputs: [{ name: 'Z' }],
  attributes: legacyBroadcastAttributes,
  inferTypes: (context) => [broadcastInputs(context, [0, 1])],
  verify: verifyBroadcast([0, 1]),
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    const y = legacyAlignedB(x, inputTensor(inputs, 1, context), context);
    // Y's element type may differ from X's: read it as whatever it is.
    const functions: BinaryFunctions = {
      float: (a, b) => Math.pow(a, Number(b)),
      int: (a, b) => Math.trunc(Math.pow(a, Number(b))),
      bigint: (a, b) => mixedBigPow(a, b as bigint | number),
    };
    return [mapBinary(x, y, functions, context, x.dtype)];
  },
});

const legacyUnaryAttributes = { consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' } } as const;

export const neg = defineUnaryOp({
  op: 'onnx.Neg',
  summary: 'Elementwise -X',
  attributes: legacyUnaryAttributes,
  functions: () => ({ float: (x) => -x, int: (x) => -x, bigint: (x) => -x }),
});

export const abs = defineUnaryOp({
  op: 'onnx.Abs',
  summary: 'Elementwise |X|',
  attributes: legacyUnaryAttributes,
  functions: () => ({ float: Math.abs, int: Math.abs, bigint: (x) => (x < 0n ? -x : x) }),
});

export const sign = defineUnaryOp({
  op: 'onnx.Sign',
  summary: 'Elementwise sign: -1, 0 or 1',
  functions: () => ({ float: (x) => (Number.isNaN(x) ? x : Math.sign(x) + 0), int: (x) => Math.sign(x), bigint: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n) }),
});

export const sqrt = defineUnaryOp({ op: 'onnx.Sqrt', summary: 'Elementwise square root', attributes: legacyUnaryAttributes, functions: () => ({ float: Math.sqrt }) });
export const exp = defineUnaryOp({ op: 'onnx.Exp', summary: 'Elementwise e^X', attributes: legacyUnaryAttributes, functions: () => ({ float: Math.exp }) });
export const log = defineUnaryOp({ op: 'onnx.Log', summary: 'Elementwise natural logarithm', attributes: legacyUnaryAttributes, functions: () => ({ float: Math.log }) });
export const reciprocal = defineUnaryOp({ op: 'onnx.Reciprocal', summary: 'Elementwise 1/X', attributes: legacyUnaryAttributes, functions: () => ({ float: (x) => 1 / x }) });
export const floor = defineUnaryOp({ op: 'onnx.Floor', summary: 'Elementwise floor', attributes: legacyUnaryAttributes, functions: () => ({ float: Math.floor }) });
export const ceil = defineUnaryOp({ op: 'onnx.Ceil', summary: 'Elementwise ceiling', attributes: legacyUnaryAttributes, functions: () => ({ float: Math.ceil }) });
export const round = defineUnaryOp({ op: 'onnx.Round', summary: 'Elementwise rounding, halves to even', functions: () => ({ float: roundHalfToEven }) });

export const arithmeticOps: readonly CanonicalOp[] = [add, sub, mul, div, mod, pow, neg, abs, sign, sqrt, exp, log, reciprocal, floor, ceil, round];
