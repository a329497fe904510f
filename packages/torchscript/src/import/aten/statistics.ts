/**
 * Reductions and normalizations beyond mean/sum: `amax`/`amin`, `var`/`std` (unbiased or a
 * `correction`), `prod`, `norm`/`frobenius_norm`/`linalg_vector_norm` (p = 0, 1, 2, ±inf, other),
 * `cosine_similarity`, `group_norm`, `instance_norm`, `baddbmm`, `einsum`.
 */
import type { Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { castTo, dtypeArgument, isFloat } from './dtypes.js';

const NEEDS_SHAPE = 'give the input shape (CLI: --input-shape NAME=DIMS; API: readTorchScript option `inputs`)';

function rankOf(ctx: LoweringContext, x: TensorValue): number {
  return x.rank ?? knownShape(x)?.length ?? ctx.fail('the rank of the input is not known while importing', NEEDS_SHAPE);
}

/** Reduced axes: None or [] means all dims; negative dims count from the end. */
function axesOf(ctx: LoweringContext, x: TensorValue, dim: ScriptValue): number[] {
  const rank = rankOf(ctx, x);
  const dims = dim.kind === 'none' ? [] : ctx.ints(dim, 'dim');
  if (dims.length === 0) return Array.from({ length: rank }, (_, i) => i);
  const axes = dims.map((d) => {
    const axis = d < 0 ? d + rank : d;
    if (axis < 0 || axis >= rank) ctx.fail(`dim ${d} is out of range for a tensor of rank ${rank}`);
    return axis;
  });
  if (new Set(axes).size !== axes.length) return ctx.fail(`dim [${dims.join(', ')}] repeats a dim`);
  return axes;
}

function reduced(ctx: LoweringContext, x: TensorValue, axes: number[], keepdim: boolean): number {
  return keepdim ? rankOf(ctx, x) : rankOf(ctx, x) - axes.length;
}

function reduce(ctx: LoweringContext, op: string, x: TensorValue, axes: number[], keepdim: boolean, dtype = x.dtype): TensorValue {
  const rank = reduced(ctx, x, axes, keepdim);
  if (op === 'ReduceSum') return ctx.emit(op, [x.value, ctx.int64Vector(axes)], { keepdims: keepdim ? 1 : 0 }, { rank, dtype });
  return ctx.emit(op, [x.value], { axes, keepdims: keepdim ? 1 : 0 }, { rank, dtype });
}

function keepdimArg(ctx: LoweringContext, index: number): boolean {
  return ctx.bool(ctx.arg(index, 'keepdim', { kind: 'bool', value: false }), 'keepdim');
}

function extremum(op: 'ReduceMax' | 'ReduceMin'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    return reduce(ctx, op, x, axesOf(ctx, x, ctx.arg(1, 'dim')), keepdimArg(ctx, 2));
  };
}

/** The number of elements each reduction reads, as a float scalar: size(x) / size(mean). */
function countOf(ctx: LoweringContext, x: TensorValue, kept: TensorValue): Value {
  const total = ctx.emit('Size', [x.value], {}, { rank: 0, dtype: 'int64' });
  const left = ctx.emit('Size', [kept.value], {}, { rank: 0, dtype: 'int64' });
  const count = ctx.emit('Div', [total.value, left.value], {}, { rank: 0, dtype: 'int64' });
  return castTo(ctx, count, x.dtype ?? 'float32').value;
}

/**
 * var/std arguments in every overload: `var(x, unbiased: bool)`, `var(x, dim, unbiased=True,
 * keepdim=False)`, `var(x, dim, *, correction=1, keepdim=False)`.
 */
function varianceOf(ctx: LoweringContext): { x: TensorValue; variance: TensorValue } {
  const x = ctx.tensor(ctx.arg(0), 'self');
  if (!isFloat(x.dtype)) return ctx.fail(`needs a floating-point tensor, got ${x.dtype ?? 'unknown'}`);
  const first = ctx.arg(1, 'dim');
  let dim: ScriptValue = { kind: 'none' };
  let correction = 1;
  let keepdim = false;
  if (first.kind === 'bool') correction = first.value ? 1 : 0;
  else {
    dim = first;
    const unbiased = ctx.arg(2, 'unbiased');
    const correctionArg = ctx.arg(99, 'correction');
    if (unbiased.kind === 'bool') correction = unbiased.value ? 1 : 0;
    else if (correctionArg.kind !== 'none') correction = ctx.float(correctionArg, 'correction');
    keepdim = keepdimArg(ctx, 3);
  }
  const axes = axesOf(ctx, x, dim);
  const mean = reduce(ctx, 'ReduceMean', x, axes, true);
  const centered = ctx.emit('Sub', [x.value, mean.value]);
  const squares = ctx.emit('Mul', [centered.value, centered.value], {}, { rank: x.rank, dtype: x.dtype });
  const sum = reduce(ctx, 'ReduceSum', squares, axes, keepdim);
  const divisor = ctx.emit('Sub', [countOf(ctx, x, mean), ctx.scalarConstant(x.dtype ?? 'float32', correction).value]);
  return { x, variance: ctx.emit('Div', [sum.value, divisor.value], {}, { rank: sum.rank, dtype: x.dtype }) };
}

const variance: AtenLowering = (ctx) => varianceOf(ctx).variance;
const std: AtenLowering = (ctx) => {
  const { x, variance: v } = varianceOf(ctx);
  return ctx.emit('Sqrt', [v.value], {}, { rank: v.rank, dtype: x.dtype });
};

/** `prod(x, dtype=None)` / `prod(x, dim, keepdim=False, dtype=None)`; integer and bool inputs multiply in int64. */
const prod: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const first = ctx.arg(1, 'dim');
  const whole = first.kind !== 'int';
  const dtypeArg = whole ? first.kind === 'none' ? ctx.arg(99, 'dtype') : first : ctx.arg(3, 'dtype');
  const dtype = dtypeArgument(ctx, dtypeArg, 'dtype', isFloat(x.dtype) ? x.dtype : 'int64')!;
  const input = castTo(ctx, x, dtype);
  if (whole) return reduce(ctx, 'ReduceProd', input, axesOf(ctx, x, { kind: 'none' }), false, dtype);
  return reduce(ctx, 'ReduceProd', input, axesOf(ctx, x, first), keepdimArg(ctx, 2), dtype);
}

/** A vector p-norm over `axes`. */
function pNorm(ctx: LoweringContext, x: TensorValue, p: number, axes: number[], keepdim: boolean): TensorValue {
  if (!isFloat(x.dtype)) return ctx.fail(`norm needs a floating-point tensor, got ${x.dtype ?? 'unknown'}`);
  if (p === 2) return reduce(ctx, 'ReduceL2', x, axes, keepdim);
  if (p === 1) return reduce(ctx, 'ReduceL1', x, axes, keepdim);
  const magnitude = ctx.emit('Abs', [x.value], {}, { rank: x.rank, dtype: x.dtype });
  if (p === Infinity) return reduce(ctx, 'ReduceMax', magnitude, axes, keepdim);
  if (p === -Infinity) return reduce(ctx, 'ReduceMin', magnitude, axes, keepdim);
  if (p === 0) {
    const nonzero = castTo(ctx, ctx.emit('Not', [ctx.emit('Equal', [x.value, ctx.scalarConstant(x.dtype!, 0).value]).value], {}, { rank: x.rank, dtype: 'bool' }), x.dtype!);
    return reduce(ctx, 'ReduceSum', nonzero, axes, keepdim);
  }
  const powered = ctx.emit('Pow', [magnitude.value, ctx.scalarConstant(x.dtype!, p).value], {}, { rank: x.rank, dtype: x.dtype });
  const sum = reduce(ctx, 'ReduceSum', powered, axes, keepdim);
  return ctx.emit('Pow', [sum.value, ctx.scalarConstant(x.dtype!, 1 / p).value], {}, { rank: sum.rank, dtype: x.dtype });
}

function normOrder(ctx: LoweringContext, value: ScriptValue, fallback: number): number {
  if (value.kind === 'none') return fallback;
  if (value.kind === 'str') return ctx.fail(`matrix norm '${value.value}' is not supported (vector p-norms only)`);
  return ctx.float(value, 'p');
}

/** `norm(x, p=2, dim=None, keepdim=False, dtype=None)` (and `norm(x, p)`). */
const norm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const p = normOrder(ctx, ctx.arg(1, 'p'), 2);
  if (ctx.arg(4, 'dtype').kind !== 'none') return ctx.fail('norm with a dtype argument is not supported');
  return pNorm(ctx, x, p, axesOf(ctx, x, ctx.arg(2, 'dim')), keepdimArg(ctx, 3));
};

const frobeniusNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  return pNorm(ctx, x, 2, axesOf(ctx, x, ctx.arg(1, 'dim')), keepdimArg(ctx, 2));
};

/** `linalg_vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None)`. */
const vectorNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const p = normOrder(ctx, ctx.arg(1, 'ord'), 2);
  if (ctx.arg(4, 'dtype').kind !== 'none') return ctx.fail('linalg_vector_norm with a dtype argument is not supported');
  return pNorm(ctx, x, p, axesOf(ctx, x, ctx.arg(2, 'dim')), keepdimArg(ctx, 3));
};

/** torch 1.13's formula: Σ(a·b) / sqrt(max(Σa² · Σb², eps²)) along `dim` (counted on the broadcast shape). */
const cosineSimilarity: AtenLowering = (ctx) => {
  const a = ctx.tensor(ctx.arg(0), 'x1');
  const b = ctx.tensor(ctx.arg(1, 'x2'), 'x2', a);
  const dim = ctx.int(ctx.arg(2, 'dim', { kind: 'int', value: 1 }), 'dim');
  const eps = ctx.float(ctx.arg(3, 'eps', { kind: 'float', value: 1e-8 }), 'eps');
  const rank = Math.max(rankOf(ctx, a), rankOf(ctx, b));
  const fromEnd = dim < 0 ? dim : dim - rank;
  if (fromEnd < -rank || fromEnd >= 0) return ctx.fail(`dim ${dim} is out of range for rank ${rank}`);
  const sumAlong = (t: TensorValue, tRank: number): TensorValue => {
    if (fromEnd + tRank < 0) return ctx.fail(`dim ${dim} does not exist in an operand of rank ${tRank}`);
    return reduce(ctx, 'ReduceSum', { ...t, rank: tRank }, [fromEnd + tRank], false);
  };
  const dot = sumAlong(ctx.emit('Mul', [a.value, b.value]), rank);
  const squares = (t: TensorValue): TensorValue => sumAlong(ctx.emit('Mul', [t.value, t.value]), rankOf(ctx, t));
  const magnitudes = ctx.emit('Mul', [squares(a).value, squares(b).value]);
  const floor = ctx.emit('Max', [magnitudes.value, ctx.scalarConstant(a.dtype ?? 'float32', eps * eps).value]);
  return ctx.emit('Div', [dot.value, ctx.emit('Sqrt', [floor.value]).value], {}, { rank: rank - 1, dtype: a.dtype });
};

/** (x − mean) / sqrt(var + eps) over `axes` (biased variance), kept dims. */
function standardize(ctx: LoweringContext, x: TensorValue, axes: number[], eps: number): TensorValue {
  const mean = reduce(ctx, 'ReduceMean', x, axes, true);
  const centered = ctx.emit('Sub', [x.value, mean.value], {}, { rank: x.rank, dtype: x.dtype });
  const variance = reduce(ctx, 'ReduceMean', ctx.emit('Mul', [centered.value, centered.value], {}, { rank: x.rank, dtype: x.dtype }), axes, true);
  const denominator = ctx.emit('Sqrt', [ctx.emit('Add', [variance.value, ctx.scalarConstant(x.dtype ?? 'float32', eps).value]).value]);
  return ctx.emit('Div', [centered.value, denominator.value], {}, { rank: x.rank, dtype: x.dtype });
}

/** weight/bias of length C applied along dim 1 of a rank-`rank` tensor. */
function perChannel(ctx: LoweringContext, y: TensorValue, rank: number, weight: ScriptValue, bias: ScriptValue): TensorValue {
  const shape = ctx.int64Vector([-1, ...new Array<number>(rank - 2).fill(1)]);
  let result = y;
  if (weight.kind !== 'none') result = ctx.emit('Mul', [result.value, ctx.emit('Reshape', [ctx.tensor(weight, 'weight').value, shape]).value], {}, { rank, dtype: y.dtype });
  if (bias.kind !== 'none') result = ctx.emit('Add', [result.value, ctx.emit('Reshape', [ctx.tensor(bias, 'bias').value, shape]).value], {}, { rank, dtype: y.dtype });
  return result;
}

/** `group_norm(x, num_groups, weight, bias, eps)`: statistics per (sample, group) over [N, G, C/G·spatial]. */
const groupNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const groups = ctx.int(ctx.arg(1, 'num_groups'), 'num_groups');
  const eps = ctx.float(ctx.arg(4, 'eps', { kind: 'float', value: 1e-5 }), 'eps');
  const rank = rankOf(ctx, x);
  if (rank < 2) return ctx.fail(`expected an input of rank 2 or more, got ${rank}`);
  const channels = knownShape(x)?.[1];
  if (typeof channels === 'number' && channels % groups !== 0) return ctx.fail(`${channels} channels do not divide into ${groups} groups`);
  const grouped = ctx.emit('Reshape', [x.value, ctx.int64Vector([0, groups, -1])], {}, { rank: 3, dtype: x.dtype });
  const normalized = standardize(ctx, grouped, [2], eps);
  const back = ctx.emit('Reshape', [normalized.value, ctx.emit('Shape', [x.value]).value], {}, { rank, dtype: x.dtype, shape: knownShape(x) });
  return perChannel(ctx, back, rank, ctx.arg(2, 'weight'), ctx.arg(3, 'bias'));
};

/**
 * `instance_norm(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn)`:
 * statistics per (sample, channel) over the spatial dims; with use_input_stats=False (eval with
 * tracked statistics) it is batch_norm with the running statistics.
 */
const instanceNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const rank = rankOf(ctx, x);
  const eps = ctx.float(ctx.arg(7, 'eps', { kind: 'float', value: 1e-5 }), 'eps');
  const useInputStats = ctx.bool(ctx.arg(5, 'use_input_stats', { kind: 'bool', value: true }), 'use_input_stats');
  if (!useInputStats) {
    const mean = ctx.tensor(ctx.arg(3, 'running_mean'), 'running_mean');
    const variance = ctx.tensor(ctx.arg(4, 'running_var'), 'running_var');
    const shape = ctx.int64Vector([-1, ...new Array<number>(rank - 2).fill(1)]);
    const centered = ctx.emit('Sub', [x.value, ctx.emit('Reshape', [mean.value, shape]).value]);
    const denominator = ctx.emit('Sqrt', [ctx.emit('Add', [ctx.emit('Reshape', [variance.value, shape]).value, ctx.scalarConstant(x.dtype ?? 'float32', eps).value]).value]);
    const y = ctx.emit('Div', [centered.value, denominator.value], {}, { rank, dtype: x.dtype });
    return perChannel(ctx, y, rank, ctx.arg(1, 'weight'), ctx.arg(2, 'bias'));
  }
  const y = standardize(ctx, x, Array.from({ length: rank - 2 }, (_, i) => i + 2), eps);
  return perChannel(ctx, y, rank, ctx.arg(1, 'weight'), ctx.arg(2, 'bias'));
};

/** `baddbmm(self, b1, b2, beta=1, alpha=1)`: beta·self + alpha·(b1 @ b2); beta = 0 ignores self, as torch does. */
const baddbmm: AtenLowering = (ctx) => {
  const input = ctx.tensor(ctx.arg(0), 'self');
  const a = ctx.tensor(ctx.arg(1, 'batch1'), 'batch1');
  const b = ctx.tensor(ctx.arg(2, 'batch2'), 'batch2');
  const beta = ctx.float(ctx.arg(3, 'beta', { kind: 'int', value: 1 }), 'beta');
  const alpha = ctx.float(ctx.arg(4, 'alpha', { kind: 'int', value: 1 }), 'alpha');
  const dtype = a.dtype ?? 'float32';
  let product = ctx.emit('MatMul', [a.value, b.value], {}, { rank: 3, dtype });
  if (alpha !== 1) product = ctx.emit('Mul', [product.value, ctx.scalarConstant(dtype, alpha).value], {}, { rank: 3, dtype });
  if (beta === 0) return product;
  const scaled = beta === 1 ? input : ctx.emit('Mul', [input.value, ctx.scalarConstant(dtype, beta).value]);
  return ctx.emit('Add', [scaled.value, product.value], {}, { rank: 3, dtype });
};

/** `einsum(equation, tensors)` → ONNX Einsum (letters a–z, `...`, an explicit or implicit output). */
const einsum: AtenLowering = (ctx) => {
  const equationArg = ctx.arg(0, 'equation');
  if (equationArg.kind !== 'str') return ctx.fail('the equation must be a known string');
  const equation = equationArg.value.replace(/\s+/g, '');
  if (!/^[a-z.,]*(->[a-z.]*)?$/.test(equation)) return ctx.fail(`equation '${equationArg.value}' uses characters other than a-z, '...', ',' and '->' (not supported)`);
  const operandsArg = ctx.arg(1, 'tensors');
  const operands = operandsArg.kind === 'list' || operandsArg.kind === 'tuple' ? operandsArg.items.map((t, i) => ctx.tensor(t, `tensors[${i}]`)) : ctx.fail('tensors must be a list');
  const terms = equation.split('->')[0]!.split(',');
  if (terms.length !== operands.length) return ctx.fail(`equation '${equation}' has ${terms.length} operands, ${operands.length} tensors given`);
  if (ctx.arg(2, 'path').kind !== 'none' && ctx.arg(2, 'path').kind !== 'list') return ctx.fail('path must be None or a list');
  const output = equation.includes('->') ? equation.split('->')[1]! : undefined;
  const rank = output === undefined || output.includes('...') ? undefined : output.length;
  return ctx.emit('Einsum', operands.map((t) => t.value), { equation: { kind: 'string', value: equation } }, { rank, dtype: operands[0]?.dtype });
};

export const statisticsLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['amax', extremum('ReduceMax')],
  ['amin', extremum('ReduceMin')],
  ['var', variance],
  ['std', std],
  ['prod', prod],
  ['norm', norm],
  ['frobenius_norm', frobeniusNorm],
  ['linalg_vector_norm', vectorNorm],
  ['cosine_similarity', cosineSimilarity],
  ['group_norm', groupNorm],
  ['instance_norm', instanceNorm],
  ['baddbmm', baddbmm],
  ['einsum', einsum],
];
