/** Elementwise aten ops (arithmetic, comparisons, activations) → ONNX elementwise ops. */
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { pythonBinary, pythonUnary } from '../python-semantics.js';
import { castTo, isFloat, promote } from './dtypes.js';

function broadcastRank(a: TensorValue, b: TensorValue): number | undefined {
  return a.rank === undefined || b.rank === undefined ? undefined : Math.max(a.rank, b.rank);
}

/**
 * The two operands as tensors. A Python number takes the other operand's dtype, except that a
 * float with an integer or bool tensor is float32 and an int with a bool tensor is int64 (torch:
 * `int_tensor * 0.5` is float, `bool_tensor + 1` is int64).
 */
function operands(ctx: LoweringContext): [TensorValue, TensorValue] {
  const left = ctx.arg(0);
  const right = ctx.arg(1, 'other');
  if (left.kind === 'tensor') return promoted(ctx, left, scalarOperand(ctx, right, 'other', left));
  const b = ctx.tensor(right, 'other');
  return promoted(ctx, scalarOperand(ctx, left, 'self', b), b);
}

function scalarOperand(ctx: LoweringContext, value: ScriptValue, what: string, like: TensorValue): TensorValue {
  if (value.kind === 'float' && like.dtype !== undefined && !isFloat(like.dtype)) return ctx.scalarConstant('float32', value.value);
  if (value.kind === 'int' && like.dtype === 'bool') return ctx.scalarConstant('int64', value.value);
  return ctx.tensor(value, what, like);
}

function isInteger(dtype: string | undefined): boolean {
  return dtype === 'int64' || dtype === 'int32' || dtype === 'int16' || dtype === 'int8' || dtype === 'uint8';
}

/** a // b for integers: Div truncates, so step down where the remainder is nonzero and its sign differs from b's. */
function floorOfIntegers(ctx: LoweringContext, a: TensorValue, b: TensorValue): TensorValue {
  const rank = broadcastRank(a, b);
  const quotient = ctx.emit('Div', [a.value, b.value], {}, { rank, dtype: a.dtype });
  const remainder = ctx.emit('Mod', [a.value, b.value], { fmod: 1 });
  const zero = ctx.scalarConstant(a.dtype!, 0).value;
  const inexact = ctx.emit('Not', [ctx.emit('Equal', [remainder.value, zero]).value]);
  const signsDiffer = ctx.emit('Xor', [ctx.emit('Less', [remainder.value, zero]).value, ctx.emit('Less', [b.value, zero]).value]);
  const step = ctx.emit('Cast', [ctx.emit('And', [inexact.value, signsDiffer.value]).value], { to: ONNX_DTYPE_CODES[a.dtype!] ?? 7 });
  const floored = ctx.emit('Sub', [quotient.value, step.value], {}, { rank, dtype: a.dtype });
  if (a.scalarInt && b.rank === 0) floored.scalarInt = true;
  return floored;
}

const ONNX_DTYPE_CODES: Readonly<Record<string, number>> = { float32: 1, float64: 11, float16: 10, int64: 7, int32: 6, bool: 9 };

/**
 * torch's promotion for the common case: a 0-d operand (a stored scalar such as CONSTANTS.c0 in
 * float64) takes the dtype of a dimensioned one of the same category.
 */
function promoted(ctx: LoweringContext, a: TensorValue, b: TensorValue): [TensorValue, TensorValue] {
  if (!a.dtype || !b.dtype || a.dtype === b.dtype) return [a, b];
  const float = (d: string): boolean => d.startsWith('float');
  // Categories as torch's promotion ranks them: bool < integer < float.
  const category = (d: string): number => (d === 'bool' ? 0 : float(d) ? 2 : 1);
  const cast = (from: TensorValue, to: TensorValue): TensorValue => ctx.emit('Cast', [from.value], { to: ONNX_DTYPE_CODES[to.dtype!]! }, { rank: from.rank, dtype: to.dtype });
  if (a.rank === 0 && b.rank !== 0 && category(a.dtype) <= category(b.dtype) && ONNX_DTYPE_CODES[b.dtype]) return [cast(a, b), b];
  if (b.rank === 0 && a.rank !== 0 && category(b.dtype) <= category(a.dtype) && ONNX_DTYPE_CODES[a.dtype]) return [a, cast(b, a)];
  // A 0-d operand of a higher category (a traced Python scalar kept as a float64/int64 constant) acts
  // like a Python number: the default dtype of its category (int64 tensor · 0.5 → float32).
  const zeroDim = a.rank === 0 && b.rank !== 0 ? a : b.rank === 0 && a.rank !== 0 ? b : undefined;
  if (zeroDim) {
    const target = category(zeroDim.dtype!) === 2 ? 'float32' : 'int64';
    return [castTo(ctx, a, target), castTo(ctx, b, target)];
  }
  // Otherwise the higher category (bool < integer < float) wins, then the wider type (int64 + float32 → float32).
  const target = promote(a.dtype, b.dtype)!;
  if (!ONNX_DTYPE_CODES[target]) return [a, b];
  return [castTo(ctx, a, target), castTo(ctx, b, target)];
}

function binary(python: string, onnxOp: string, options: { compare?: boolean } = {}): AtenLowering {
  return (ctx) => {
    const known = pythonBinary(python, ctx.arg(0), ctx.arg(1, 'other'));
    if (known) return known;
    const [a, b] = operands(ctx);
    const result = ctx.emit(onnxOp, [a.value, b.value], {}, { rank: broadcastRank(a, b), dtype: options.compare ? 'bool' : a.dtype ?? b.dtype });
    if (!options.compare && (a.scalarInt || b.scalarInt) && a.rank === 0 && b.rank === 0) result.scalarInt = true;
    return result;
  };
}

/** `add`/`sub` with torch's `alpha` (other * alpha). */
function addLike(python: string, onnxOp: string): AtenLowering {
  const plain = binary(python, onnxOp);
  return (ctx) => {
    const alpha = ctx.arg(2, 'alpha', { kind: 'int', value: 1 });
    if ((alpha.kind === 'int' || alpha.kind === 'float') && alpha.value === 1) return plain(ctx);
    const [a, b] = operands(ctx);
    const scaled = ctx.emit('Mul', [b.value, ctx.tensor(alpha, 'alpha', b).value], {}, { rank: b.rank, dtype: b.dtype });
    return ctx.emit(onnxOp, [a.value, scaled.value], {}, { rank: broadcastRank(a, scaled), dtype: a.dtype });
  };
}

/**
 * An elementwise op; `fold` computes it on a Python number (`torch.sqrt(E)` of an int is a float in
 * TorchScript), and a symbolic int (an int64 scalar) is cast to float first, as torch computes it.
 */
function unary(onnxOp: string, attributes: Record<string, number> = {}, fold?: (x: number) => number): AtenLowering {
  return (ctx) => {
    const arg = ctx.arg(0);
    if (fold && (arg.kind === 'int' || arg.kind === 'float')) return { kind: 'float', value: fold(arg.value) };
    if (fold && arg.kind === 'tensor' && arg.scalarInt) {
      const real = ctx.emit('Cast', [arg.value], { to: 1 }, { rank: 0, dtype: 'float32' });
      return ctx.emit(onnxOp, [real.value], attributes, { rank: 0, dtype: 'float32' });
    }
    const x = ctx.tensor(arg, 'self');
    return ctx.emit(onnxOp, [x.value], attributes, { rank: x.rank, dtype: x.dtype });
  };
}

function floorDivide(ctx: LoweringContext): ScriptValue {
  const known = pythonBinary('//', ctx.arg(0), ctx.arg(1));
  if (known) return known;
  const [a, b] = operands(ctx);
  if (isInteger(a.dtype)) return floorOfIntegers(ctx, a, b);
  const quotient = ctx.emit('Div', [a.value, b.value], {}, { rank: broadcastRank(a, b), dtype: a.dtype });
  return ctx.emit('Floor', [quotient.value], {}, { rank: quotient.rank, dtype: quotient.dtype });
}

function trueDivide(ctx: LoweringContext): ScriptValue {
  const known = pythonBinary('/', ctx.arg(0), ctx.arg(1));
  if (known) return known;
  const mode = ctx.arg(2, 'rounding_mode');
  let [a, b] = operands(ctx);
  if (mode.kind === 'str' && mode.value === 'floor' && isInteger(a.dtype)) return floorOfIntegers(ctx, a, b);
  if (mode.kind !== 'str' && (isInteger(a.dtype) || a.dtype === 'bool')) {
    // True division of integers is float division in torch (and Python).
    [a, b] = [castTo(ctx, a, 'float32'), castTo(ctx, b, 'float32')];
  }
  const quotient = ctx.emit('Div', [a.value, b.value], {}, { rank: broadcastRank(a, b), dtype: a.dtype });
  if (mode.kind === 'str' && mode.value === 'floor') return ctx.emit('Floor', [quotient.value], {}, { rank: quotient.rank, dtype: quotient.dtype });
  if (mode.kind === 'str' && mode.value === 'trunc') {
    // Integer Div truncates already; floats round toward zero as sign(q)·floor(|q|).
    if (a.dtype === 'int64' || a.dtype === 'int32') return { ...quotient, scalarInt: a.scalarInt === true && b.rank === 0 };
    const floored = ctx.emit('Floor', [ctx.emit('Abs', [quotient.value]).value]);
    return ctx.emit('Mul', [ctx.emit('Sign', [quotient.value]).value, floored.value], {}, { rank: quotient.rank, dtype: quotient.dtype });
  }
  if (mode.kind === 'str') return ctx.fail(`rounding_mode '${mode.value}' is not supported`);
  return quotient;
}

function clamp(ctx: LoweringContext, min: ScriptValue, max: ScriptValue): ScriptValue {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const minValue = min.kind === 'none' ? null : ctx.tensor(min, 'min', x).value;
  const maxValue = max.kind === 'none' ? null : ctx.tensor(max, 'max', x).value;
  return ctx.emit('Clip', [x.value, minValue, maxValue], {}, { rank: x.rank, dtype: x.dtype });
}

function gelu(ctx: LoweringContext): ScriptValue {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const approximate = ctx.arg(1, 'approximate', { kind: 'str', value: 'none' });
  const tanh = approximate.kind === 'str' && approximate.value === 'tanh';
  const c = (v: number): TensorValue => ctx.scalarConstant(x.dtype ?? 'float32', v);
  let inner: TensorValue;
  if (tanh) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = ctx.emit('Mul', [ctx.emit('Mul', [x.value, x.value]).value, x.value]);
    const poly = ctx.emit('Add', [x.value, ctx.emit('Mul', [cube.value, c(0.044715).value]).value]);
    inner = ctx.emit('Tanh', [ctx.emit('Mul', [poly.value, c(Math.sqrt(2 / Math.PI)).value]).value]);
  } else {
    inner = ctx.emit('Erf', [ctx.emit('Mul', [x.value, c(Math.SQRT1_2).value]).value]);
  }
  const onePlus = ctx.emit('Add', [inner.value, c(1).value]);
  const half = ctx.emit('Mul', [x.value, c(0.5).value]);
  return ctx.emit('Mul', [half.value, onePlus.value], {}, { rank: x.rank, dtype: x.dtype });
}

function softmaxLike(onnxOp: string): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const axis = ctx.int(ctx.arg(1, 'dim'), 'dim');
    return ctx.emit(onnxOp, [x.value], { axis }, { rank: x.rank, dtype: x.dtype });
  };
}

/** `remainder(a, b)` (Python's %: the divisor's sign): ONNX Mod for integers, a − floor(a/b)·b for floats (ONNX Mod needs fmod=1 there). */
function remainder(ctx: LoweringContext): ScriptValue {
  const known = pythonBinary('%', ctx.arg(0), ctx.arg(1, 'other'));
  if (known) return known;
  const [a, b] = operands(ctx);
  const rank = broadcastRank(a, b);
  if (a.dtype !== undefined && !a.dtype.startsWith('float')) {
    const result = ctx.emit('Mod', [a.value, b.value], {}, { rank, dtype: a.dtype });
    if ((a.scalarInt || b.scalarInt) && a.rank === 0 && b.rank === 0) result.scalarInt = true;
    return result;
  }
  const floored = ctx.emit('Floor', [ctx.emit('Div', [a.value, b.value]).value]);
  return ctx.emit('Sub', [a.value, ctx.emit('Mul', [floored.value, b.value]).value], {}, { rank, dtype: a.dtype });
}

const identity: AtenLowering = (ctx) => ctx.arg(0);

export const elementwiseLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['add', addLike('+', 'Add')],
  ['sub', addLike('-', 'Sub')],
  ['rsub', (ctx) => {
    const [a, b] = operands(ctx);
    return ctx.emit('Sub', [b.value, a.value], {}, { rank: broadcastRank(a, b), dtype: a.dtype });
  }],
  ['mul', binary('*', 'Mul')],
  ['div', trueDivide],
  ['floor_divide', floorDivide],
  ['floordiv', floorDivide],
  ['pow', binary('**', 'Pow')],
  ['remainder', remainder],
  ['eq', binary('==', 'Equal', { compare: true })],
  ['ne', (ctx) => {
    const known = pythonBinary('!=', ctx.arg(0), ctx.arg(1));
    if (known) return known;
    const equal = binary('==', 'Equal', { compare: true })(ctx) as TensorValue;
    return ctx.emit('Not', [equal.value], {}, { rank: equal.rank, dtype: 'bool' });
  }],
  ['lt', binary('<', 'Less', { compare: true })],
  ['gt', binary('>', 'Greater', { compare: true })],
  ['le', binary('<=', 'LessOrEqual', { compare: true })],
  ['ge', binary('>=', 'GreaterOrEqual', { compare: true })],
  ['neg', (ctx) => pythonUnary('-', ctx.arg(0)) ?? unary('Neg')(ctx)],
  ['relu', unary('Relu')],
  ['sigmoid', unary('Sigmoid')],
  ['tanh', unary('Tanh')],
  ['exp', unary('Exp', {}, Math.exp)],
  ['log', unary('Log', {}, Math.log)],
  ['sqrt', unary('Sqrt', {}, Math.sqrt)],
  ['rsqrt', (ctx) => {
    const root = unary('Sqrt')(ctx) as TensorValue;
    return ctx.emit('Reciprocal', [root.value], {}, { rank: root.rank, dtype: root.dtype });
  }],
  ['abs', unary('Abs')],
  ['erf', unary('Erf')],
  ['hardswish', unary('HardSwish')],
  ['hardsigmoid', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    return ctx.emit('HardSigmoid', [x.value], { alpha: { kind: 'float', value: 1 / 6 }, beta: { kind: 'float', value: 0.5 } }, { rank: x.rank, dtype: x.dtype });
  }],
  ['silu', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const gate = ctx.emit('Sigmoid', [x.value]);
    return ctx.emit('Mul', [x.value, gate.value], {}, { rank: x.rank, dtype: x.dtype });
  }],
  ['gelu', gelu],
  ['hardtanh', (ctx) => clamp(ctx, ctx.arg(1, 'min_val', { kind: 'float', value: -1 }), ctx.arg(2, 'max_val', { kind: 'float', value: 1 }))],
  ['relu6', (ctx) => clamp(ctx, { kind: 'float', value: 0 }, { kind: 'float', value: 6 })],
  ['clamp', (ctx) => clamp(ctx, ctx.arg(1, 'min'), ctx.arg(2, 'max'))],
  ['leaky_relu', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const slope = ctx.float(ctx.arg(1, 'negative_slope', { kind: 'float', value: 0.01 }), 'negative_slope');
    return ctx.emit('LeakyRelu', [x.value], { alpha: { kind: 'float', value: slope } }, { rank: x.rank, dtype: x.dtype });
  }],
  ['softmax', softmaxLike('Softmax')],
  ['log_softmax', softmaxLike('LogSoftmax')],
  ['contiguous', identity],
  ['detach', identity],
  ['clone', identity],
  ['dropout', identity],
  ['feature_dropout', identity],
  ['alpha_dropout', identity],
];
