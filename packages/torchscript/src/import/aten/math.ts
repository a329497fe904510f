/**
 * More elementwise aten ops: reciprocal/square/sign/trigonometry/rounding, elu/selu/celu/softplus/
 * mish/softsign, atan2, fmod, clamp_min/clamp_max, prelu, logical ops. torch semantics kept: `round`
 * is half-to-even (ONNX Round too), `fmod` takes the dividend's sign (ONNX Mod fmod=1),
 * `softplus` is linear above `threshold`, `prelu` broadcasts its weight over dim 1.
 */
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { castTo, isFloat } from './dtypes.js';

function self(ctx: LoweringContext): TensorValue {
  return ctx.tensor(ctx.arg(0), 'self');
}

function c(ctx: LoweringContext, like: TensorValue, value: number): TensorValue {
  return ctx.scalarConstant(like.dtype ?? 'float32', value);
}

/** A float elementwise op: an integer input is computed in float32, as torch's int→float promotion does. */
function floatUnary(onnxOp: string): AtenLowering {
  return (ctx) => {
    const x = self(ctx);
    const input = isFloat(x.dtype) ? x : castTo(ctx, x, 'float32');
    return ctx.emit(onnxOp, [input.value], {}, { rank: x.rank, dtype: input.dtype, shape: x.shape });
  };
}

/** An op that keeps integer tensors as they are (floor/ceil/round/trunc of an int is the int). */
function roundingUnary(onnxOp: string): AtenLowering {
  return (ctx) => {
    // TorchScript's floor/ceil of a Python number is an int (aten::floor.float -> int): torchvision's interpolate sizes
    // its output as floor(float(size) * scale_factor), and that size must be a known int.
    const arg = ctx.arg(0);
    if (onnxOp !== 'Round' && (arg.kind === 'int' || arg.kind === 'float')) return { kind: 'int', value: onnxOp === 'Floor' ? Math.floor(arg.value) : Math.ceil(arg.value) };
    const x = self(ctx);
    if (!isFloat(x.dtype)) return x;
    const decimals = ctx.arg(1, 'decimals', { kind: 'int', value: 0 });
    if (onnxOp === 'Round' && ctx.int(decimals, 'decimals') !== 0) return ctx.fail('round with decimals other than 0 is not supported');
    return ctx.emit(onnxOp, [x.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
  };
}

const trunc: AtenLowering = (ctx) => {
  const x = self(ctx);
  if (!isFloat(x.dtype)) return x;
  const floored = ctx.emit('Floor', [ctx.emit('Abs', [x.value]).value]);
  return ctx.emit('Mul', [ctx.emit('Sign', [x.value]).value, floored.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
};

/** `elu(x, alpha=1, scale=1, input_scale=1)`: scale·(x if x > 0 else alpha·(exp(input_scale·x) − 1)). */
const elu: AtenLowering = (ctx) => {
  const x = self(ctx);
  const alpha = ctx.float(ctx.arg(1, 'alpha', { kind: 'float', value: 1 }), 'alpha');
  const scale = ctx.float(ctx.arg(2, 'scale', { kind: 'float', value: 1 }), 'scale');
  const inputScale = ctx.float(ctx.arg(3, 'input_scale', { kind: 'float', value: 1 }), 'input_scale');
  const inner = inputScale === 1 ? x : ctx.emit('Mul', [x.value, c(ctx, x, inputScale).value]);
  const negative = ctx.emit('Mul', [ctx.emit('Sub', [ctx.emit('Exp', [inner.value]).value, c(ctx, x, 1).value]).value, c(ctx, x, alpha).value]);
  const picked = ctx.emit('Where', [ctx.emit('Greater', [x.value, c(ctx, x, 0).value]).value, x.value, negative.value], {}, { rank: x.rank, dtype: x.dtype });
  return scale === 1 ? picked : ctx.emit('Mul', [picked.value, c(ctx, x, scale).value], {}, { rank: x.rank, dtype: x.dtype });
};

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const selu: AtenLowering = (ctx) => {
  const x = self(ctx);
  return ctx.emit('Selu', [x.value], { alpha: { kind: 'float', value: SELU_ALPHA }, gamma: { kind: 'float', value: SELU_SCALE } }, { rank: x.rank, dtype: x.dtype });
};

const celu: AtenLowering = (ctx) => {
  const x = self(ctx);
  const alpha = ctx.float(ctx.arg(1, 'alpha', { kind: 'float', value: 1 }), 'alpha');
  return ctx.emit('Celu', [x.value], { alpha: { kind: 'float', value: alpha } }, { rank: x.rank, dtype: x.dtype });
};

/** log(1 + exp(x)) computed stably as max(x, 0) + log(1 + exp(−|x|)). */
function stableSoftplus(ctx: LoweringContext, x: TensorValue): TensorValue {
  const positive = ctx.emit('Relu', [x.value]);
  const tail = ctx.emit('Log', [ctx.emit('Add', [ctx.emit('Exp', [ctx.emit('Neg', [ctx.emit('Abs', [x.value]).value]).value]).value, c(ctx, x, 1).value]).value]);
  return ctx.emit('Add', [positive.value, tail.value], {}, { rank: x.rank, dtype: x.dtype });
}

/** `softplus(x, beta=1, threshold=20)`: x where beta·x > threshold, log(1 + exp(beta·x))/beta elsewhere. */
const softplus: AtenLowering = (ctx) => {
  const x = self(ctx);
  const beta = ctx.float(ctx.arg(1, 'beta', { kind: 'float', value: 1 }), 'beta');
  const threshold = ctx.float(ctx.arg(2, 'threshold', { kind: 'float', value: 20 }), 'threshold');
  const scaled = beta === 1 ? x : ctx.emit('Mul', [x.value, c(ctx, x, beta).value], {}, { rank: x.rank, dtype: x.dtype });
  let smooth = stableSoftplus(ctx, scaled);
  if (beta !== 1) smooth = ctx.emit('Div', [smooth.value, c(ctx, x, beta).value], {}, { rank: x.rank, dtype: x.dtype });
  const linear = ctx.emit('Greater', [scaled.value, c(ctx, x, threshold).value], {}, { dtype: 'bool' });
  return ctx.emit('Where', [linear.value, x.value, smooth.value], {}, { rank: x.rank, dtype: x.dtype });
};

/** x · tanh(softplus(x)) (ONNX Mish is opset 18; this graph is opset 17). */
const mish: AtenLowering = (ctx) => {
  const x = self(ctx);
  const gate = ctx.emit('Tanh', [stableSoftplus(ctx, x).value]);
  return ctx.emit('Mul', [x.value, gate.value], {}, { rank: x.rank, dtype: x.dtype });
};

const softsign: AtenLowering = (ctx) => {
  const x = self(ctx);
  return ctx.emit('Softsign', [x.value], {}, { rank: x.rank, dtype: x.dtype });
};

function operandPair(ctx: LoweringContext): [TensorValue, TensorValue] {
  const a = ctx.arg(0);
  const b = ctx.arg(1, 'other');
  if (a.kind === 'tensor') return [a, ctx.tensor(b, 'other', a)];
  const right = ctx.tensor(b, 'other');
  return [ctx.tensor(a, 'self', right), right];
}

function rankOfPair(a: TensorValue, b: TensorValue): number | undefined {
  return a.rank === undefined || b.rank === undefined ? undefined : Math.max(a.rank, b.rank);
}

/**
 * `atan2(y, x)` from Atan: atan(y/x) corrected by π in the left half-plane; x = 0 gives ±π/2
 * (and 0 when y = 0 too), as torch's atan2 does.
 */
const atan2: AtenLowering = (ctx) => {
  const [y, x] = operandPair(ctx);
  const rank = rankOfPair(y, x);
  const zero = c(ctx, y, 0).value;
  const base = ctx.emit('Atan', [ctx.emit('Div', [y.value, x.value]).value]);
  const pi = c(ctx, y, Math.PI).value;
  const signedPi = ctx.emit('Where', [ctx.emit('Less', [y.value, zero]).value, ctx.emit('Neg', [pi]).value, pi]);
  const leftHalf = ctx.emit('Less', [x.value, zero]);
  const corrected = ctx.emit('Where', [leftHalf.value, ctx.emit('Add', [base.value, signedPi.value]).value, base.value]);
  const halfPi = ctx.emit('Mul', [ctx.emit('Sign', [y.value]).value, c(ctx, y, Math.PI / 2).value]);
  const onAxis = ctx.emit('Equal', [x.value, zero]);
  return ctx.emit('Where', [onAxis.value, halfPi.value, corrected.value], {}, { rank, dtype: y.dtype });
};

/** `fmod(a, b)`: remainder with the dividend's sign (C fmod); ONNX Mod with fmod=1. */
const fmod: AtenLowering = (ctx) => {
  const [a, b] = operandPair(ctx);
  return ctx.emit('Mod', [a.value, b.value], { fmod: isFloat(a.dtype) ? 1 : 0 }, { rank: rankOfPair(a, b), dtype: a.dtype });
};

function clampOneSide(side: 'min' | 'max'): AtenLowering {
  return (ctx) => {
    const x = self(ctx);
    const bound = ctx.tensor(ctx.arg(1, side), side, x);
    const typed = bound.dtype === x.dtype ? bound : castTo(ctx, bound, x.dtype ?? 'float32');
    return ctx.emit(side === 'min' ? 'Max' : 'Min', [x.value, typed.value], {}, { rank: x.rank, dtype: x.dtype });
  };
}

/** `prelu(x, weight)`: weight has one value or one per channel (dim 1); ONNX PRelu broadcasts from the right, so it is reshaped to [C, 1, …]. */
const prelu: AtenLowering = (ctx) => {
  const x = self(ctx);
  const weight = ctx.tensor(ctx.arg(1, 'weight'), 'weight');
  const channels = weight.value.constant?.shape[0] ?? (weight.shape?.[0] as number | undefined);
  if (weight.rank !== undefined && weight.rank !== 1) return ctx.fail(`weight of rank ${weight.rank} (expected 1)`);
  let slope = weight;
  if (channels !== 1) {
    if (x.rank === undefined) return ctx.fail('a per-channel weight needs the input rank', 'give the input shape (CLI: --input-shape NAME=DIMS)');
    if (x.rank >= 2) slope = ctx.emit('Reshape', [weight.value, ctx.int64Vector([-1, ...new Array<number>(x.rank - 2).fill(1)])], {}, { rank: x.rank - 1, dtype: weight.dtype });
  }
  return ctx.emit('PRelu', [x.value, slope.value], {}, { rank: x.rank, dtype: x.dtype });
};

function asBool(ctx: LoweringContext, value: ScriptValue, what: string): TensorValue {
  const t = ctx.tensor(value, what);
  if (t.dtype === 'bool') return t;
  const zero = ctx.scalarConstant(t.dtype ?? 'float32', 0);
  return ctx.emit('Not', [ctx.emit('Equal', [t.value, zero.value]).value], {}, { rank: t.rank, dtype: 'bool' });
}

function logical(onnxOp: 'And' | 'Or' | 'Xor'): AtenLowering {
  return (ctx) => {
    const a = asBool(ctx, ctx.arg(0), 'self');
    const b = asBool(ctx, ctx.arg(1, 'other'), 'other');
    return ctx.emit(onnxOp, [a.value, b.value], {}, { rank: rankOfPair(a, b), dtype: 'bool' });
  };
}

/** `&`, `|`, `^` of tensors: logical for bool tensors, bitwise for integers (ONNX BitwiseAnd/Or/Xor). */
export function bitwise(logicalOp: 'And' | 'Or' | 'Xor'): AtenLowering {
  return (ctx) => {
    const [a, b] = operandPair(ctx);
    if (a.dtype === 'bool' && b.dtype === 'bool') return ctx.emit(logicalOp, [a.value, b.value], {}, { rank: rankOfPair(a, b), dtype: 'bool' });
    if (a.dtype === undefined || isFloat(a.dtype) || isFloat(b.dtype)) return ctx.fail(`bitwise ${logicalOp.toLowerCase()} needs bool or integer tensors (got ${a.dtype ?? 'unknown'} and ${b.dtype ?? 'unknown'})`);
    return ctx.emit(`Bitwise${logicalOp}`, [a.value, castTo(ctx, b, a.dtype).value], {}, { rank: rankOfPair(a, b), dtype: a.dtype });
  };
}

const logicalNot: AtenLowering = (ctx) => {
  const x = asBool(ctx, ctx.arg(0), 'self');
  return ctx.emit('Not', [x.value], {}, { rank: x.rank, dtype: 'bool' });
};

const square: AtenLowering = (ctx) => {
  const x = self(ctx);
  return ctx.emit('Mul', [x.value, x.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
};

export const mathLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['reciprocal', floatUnary('Reciprocal')],
  ['square', square],
  ['sign', (ctx) => {
    const x = self(ctx);
    if (x.dtype === 'bool') return x;
    return ctx.emit('Sign', [x.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
  }],
  ['sin', floatUnary('Sin')],
  ['cos', floatUnary('Cos')],
  ['tan', floatUnary('Tan')],
  ['asin', floatUnary('Asin')],
  ['acos', floatUnary('Acos')],
  ['atan', floatUnary('Atan')],
  ['sinh', floatUnary('Sinh')],
  ['cosh', floatUnary('Cosh')],
  ['floor', roundingUnary('Floor')],
  ['ceil', roundingUnary('Ceil')],
  ['round', roundingUnary('Round')],
  ['trunc', trunc],
  ['fix', trunc],
  ['elu', elu],
  ['selu', selu],
  ['celu', celu],
  ['softplus', softplus],
  ['mish', mish],
  ['softsign', softsign],
  ['atan2', atan2],
  ['arctan2', atan2],
  ['fmod', fmod],
  ['clamp_min', clampOneSide('min')],
  ['clamp_max', clampOneSide('max')],
  ['clamp_min_', clampOneSide('min')],
  ['clamp_max_', clampOneSide('max')],
  ['prelu', prelu],
  ['logical_not', logicalNot],
  ['logical_and', logical('And')],
  ['logical_or', logical('Or')],
  ['logical_xor', logical('Xor')],
  ['bitwise_and', bitwise('And')],
  ['bitwise_or', bitwise('Or')],
  ['bitwise_xor', bitwise('Xor')],
  ['bitwise_not', (ctx) => {
    const x = self(ctx);
    if (x.dtype === 'bool') return ctx.emit('Not', [x.value], {}, { rank: x.rank, dtype: 'bool' });
    if (isFloat(x.dtype) || !x.dtype) return ctx.fail('bitwise_not needs a bool or integer tensor');
    return ctx.emit('BitwiseNot', [x.value], {}, { rank: x.rank, dtype: x.dtype });
  }],
];
