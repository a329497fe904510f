/**
 * Ops composed of a few ONNX ops: `embedding`, `minimum`/`maximum`, `logsumexp` (stable),
 * `log1p` (accurate for tiny x), `log2`/`log10`, `logsigmoid`, `glu`, `repeat_interleave` (int
 * repeats), `swapaxes`/`swapdims`/`movedim`, `lerp`, `addcmul`/`addcdiv`, `outer`, `threshold`.
 */
import type { Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { castTo, isFloat, promote } from './dtypes.js';

const NEEDS_SHAPE = 'give the input shape (CLI: --input-shape NAME=DIMS; API: readTorchScript option `inputs`)';

function rankOf(ctx: LoweringContext, x: TensorValue): number {
  return x.rank ?? knownShape(x)?.length ?? ctx.fail('the rank of the input is not known while importing', NEEDS_SHAPE);
}

function axisOf(ctx: LoweringContext, x: TensorValue, dim: number, rank = rankOf(ctx, x)): number {
  const axis = dim < 0 ? dim + rank : dim;
  if (axis < 0 || axis >= rank) return ctx.fail(`dim ${dim} is out of range for a tensor of rank ${rank}`);
  return axis;
}

function c(ctx: LoweringContext, like: TensorValue, value: number): Value {
  return ctx.scalarConstant(like.dtype ?? 'float32', value).value;
}

function pair(ctx: LoweringContext, first: ScriptValue, second: ScriptValue): [TensorValue, TensorValue] {
  const a = first.kind === 'tensor' ? first : ctx.tensor(first, 'self', second.kind === 'tensor' ? second : undefined);
  const b = ctx.tensor(second, 'other', a);
  const dtype = promote(a.dtype, b.dtype);
  return dtype ? [castTo(ctx, a, dtype), castTo(ctx, b, dtype)] : [a, b];
}

function broadcastRank(a: TensorValue, b: TensorValue): number | undefined {
  return a.rank === undefined || b.rank === undefined ? undefined : Math.max(a.rank, b.rank);
}

/** What to do about embedding indices of another dtype: name the graph input they are, with the flag that types it. */
function embeddingIndicesHint(indices: TensorValue): string {
  // The graph inputs the indices are computed from (a scripted model may wrap or offset its ids first).
  const inputs = new Set<string>();
  const seen = new Set<Value>();
  const pending: Value[] = [indices.value];
  while (pending.length > 0 && seen.size < 256) {
    const value = pending.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    if (value.isGraphInput && !value.isConstant) inputs.add(value.name);
    for (const input of value.producer?.inputs ?? []) if (input) pending.push(input);
  }
  if (inputs.size !== 1) return `the indices are computed inside the model as ${indices.dtype}; an embedding takes int64 or int32 ids`;
  const name = [...inputs][0]!;
  const flag = `--input-dtype ${name}=int64 (readTorchScript: inputs: { ${name}: { dtype: 'int64' } })`;
  return indices.dtype === 'float32'
    ? `an archive records no input dtypes and its inputs are read as float32: give input '${name}' an integer type, ${flag}`
    : `input '${name}' was given dtype ${indices.dtype}; token ids index an embedding as int64 or int32: ${flag}`;
}

/** `embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse)`: rows of weight (padding_idx only matters for gradients). */
const embedding: AtenLowering = (ctx) => {
  const weight = ctx.tensor(ctx.arg(0, 'weight'), 'weight');
  const indices = ctx.tensor(ctx.arg(1, 'indices'), 'indices');
  if (indices.dtype !== undefined && indices.dtype !== 'int64' && indices.dtype !== 'int32') return ctx.fail(`indices must be int64 or int32, got ${indices.dtype}`, embeddingIndicesHint(indices));
  const rank = indices.rank === undefined ? undefined : indices.rank + 1;
  return ctx.emit('Gather', [weight.value, castTo(ctx, indices, 'int64').value], { axis: 0 }, { rank, dtype: weight.dtype });
};

function elementwisePair(onnxOp: 'Max' | 'Min'): AtenLowering {
  return (ctx) => {
    const [a, b] = pair(ctx, ctx.arg(0), ctx.arg(1, 'other'));
    return ctx.emit(onnxOp, [a.value, b.value], {}, { rank: broadcastRank(a, b), dtype: a.dtype });
  };
}

/** log Σ exp(x) along dims, as max + log Σ exp(x − max) (−inf everywhere gives −inf, as torch). */
const logsumexp: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const rank = rankOf(ctx, x);
  const dims = ctx.ints(ctx.arg(1, 'dim'), 'dim');
  const axes = (dims.length === 0 ? Array.from({ length: rank }, (_, i) => i) : dims).map((d) => axisOf(ctx, x, d, rank));
  const keepdim = ctx.bool(ctx.arg(2, 'keepdim', { kind: 'bool', value: false }), 'keepdim');
  const peak = ctx.emit('ReduceMax', [x.value], { axes, keepdims: 1 }, { rank, dtype: x.dtype });
  // A peak of ±inf would give inf − inf: shift by 0 there instead.
  const finitePeak = ctx.emit('Where', [ctx.emit('IsInf', [peak.value]).value, c(ctx, x, 0), peak.value]);
  const shifted = ctx.emit('Exp', [ctx.emit('Sub', [x.value, finitePeak.value]).value]);
  const sum = ctx.emit('ReduceSum', [shifted.value, ctx.int64Vector(axes)], { keepdims: 1 });
  const total = ctx.emit('Add', [ctx.emit('Log', [sum.value]).value, finitePeak.value], {}, { rank, dtype: x.dtype });
  if (keepdim) return total;
  return ctx.emit('Squeeze', [total.value, ctx.int64Vector(axes)], {}, { rank: rank - axes.length, dtype: x.dtype });
};

function floatInput(ctx: LoweringContext): TensorValue {
  const x = ctx.tensor(ctx.arg(0), 'self');
  return isFloat(x.dtype) ? x : castTo(ctx, x, 'float32');
}

/** log(1 + x) accurate for tiny x: log(u)·x/(u − 1) with u = 1 + x (x itself where u rounds to 1). */
const log1p: AtenLowering = (ctx) => {
  const x = floatInput(ctx);
  const u = ctx.emit('Add', [x.value, c(ctx, x, 1)]);
  const ratio = ctx.emit('Div', [ctx.emit('Mul', [ctx.emit('Log', [u.value]).value, x.value]).value, ctx.emit('Sub', [u.value, c(ctx, x, 1)]).value]);
  // u = 0 (x = −1): log gives −inf, the ratio would be (−inf·−1)/−1; torch gives −inf.
  const exact = ctx.emit('Where', [ctx.emit('Equal', [u.value, c(ctx, x, 0)]).value, ctx.emit('Log', [u.value]).value, ratio.value]);
  // x = +inf: inf/inf is NaN; torch gives inf.
  const finite = ctx.emit('Where', [ctx.emit('IsInf', [x.value]).value, ctx.emit('Log', [u.value]).value, exact.value]);
  return ctx.emit('Where', [ctx.emit('Equal', [u.value, c(ctx, x, 1)]).value, x.value, finite.value], {}, { rank: x.rank, dtype: x.dtype });
};

function logBase(base: number): AtenLowering {
  return (ctx) => {
    const x = floatInput(ctx);
    return ctx.emit('Div', [ctx.emit('Log', [x.value]).value, c(ctx, x, Math.log(base))], {}, { rank: x.rank, dtype: x.dtype });
  };
}

/** log σ(x) = −softplus(−x) = min(x, 0) − log(1 + exp(−|x|)). */
const logSigmoid: AtenLowering = (ctx) => {
  const x = floatInput(ctx);
  const tail = ctx.emit('Log', [ctx.emit('Add', [ctx.emit('Exp', [ctx.emit('Neg', [ctx.emit('Abs', [x.value]).value]).value]).value, c(ctx, x, 1)]).value]);
  return ctx.emit('Sub', [ctx.emit('Min', [x.value, c(ctx, x, 0)]).value, tail.value], {}, { rank: x.rank, dtype: x.dtype });
};

/** `glu(x, dim=-1)`: first half · σ(second half); the dim must have an even, known size. */
const glu: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const axis = axisOf(ctx, x, ctx.int(ctx.arg(1, 'dim', { kind: 'int', value: -1 }), 'dim'));
  const length = knownShape(x)?.[axis];
  if (typeof length !== 'number') return ctx.fail(`glu needs the size of dim ${axis}, which is not known while importing`, NEEDS_SHAPE);
  if (length % 2 !== 0) return ctx.fail(`glu halves dim ${axis}, whose size ${length} is odd`);
  const [a, b] = ctx.emitMany('Split', [x.value, ctx.int64Vector([length / 2, length / 2])], { axis }, 2, { rank: x.rank, dtype: x.dtype });
  return ctx.emit('Mul', [a!.value, ctx.emit('Sigmoid', [b!.value]).value], {}, { rank: x.rank, dtype: x.dtype });
};

/** Shape(x)[from:to] as a 1-D int64 value. */
function shapeRange(ctx: LoweringContext, x: TensorValue, from: number, to: number): Value {
  const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
  return ctx.emit('Slice', [shape.value, ctx.int64Vector([from]), ctx.int64Vector([to])], {}, { rank: 1, dtype: 'int64' }).value;
}

/** `repeat_interleave(x, repeats: int, dim=None)`: each element `repeats` times in a row along dim (flattened when None). */
const repeatInterleave: AtenLowering = (ctx) => {
  const self = ctx.tensor(ctx.arg(0), 'self');
  const repeatsArg = ctx.arg(1, 'repeats');
  if (repeatsArg.kind !== 'int') return ctx.fail('repeats must be a known int (a tensor of per-element repeats gives a data-dependent shape)');
  if (ctx.arg(3, 'output_size').kind !== 'none') return ctx.fail('output_size is not supported');
  const dimArg = ctx.arg(2, 'dim');
  const x = dimArg.kind === 'none' ? ctx.emit('Reshape', [self.value, ctx.int64Vector([-1])], {}, { rank: 1, dtype: self.dtype }) : self;
  const rank = rankOf(ctx, x);
  const axis = dimArg.kind === 'none' ? 0 : axisOf(ctx, x, ctx.int(dimArg, 'dim'), rank);
  const widened = ctx.emit('Unsqueeze', [x.value, ctx.int64Vector([axis + 1])], {}, { rank: rank + 1, dtype: x.dtype });
  const expandTo = ctx.emit('Concat', [shapeRange(ctx, x, 0, axis + 1), ctx.int64Vector([repeatsArg.value]), shapeRange(ctx, x, axis + 1, rank)], { axis: 0 });
  const expanded = ctx.emit('Expand', [widened.value, expandTo.value], {}, { rank: rank + 1, dtype: x.dtype });
  const target = ctx.emit('Concat', [shapeRange(ctx, x, 0, axis), ctx.int64Vector([-1]), shapeRange(ctx, x, axis + 1, rank)], { axis: 0 });
  return ctx.emit('Reshape', [expanded.value, target.value], {}, { rank, dtype: x.dtype });
};

const swap: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const rank = rankOf(ctx, x);
  const a = axisOf(ctx, x, ctx.int(ctx.arg(1, 'axis0'), 'axis0'), rank);
  const b = axisOf(ctx, x, ctx.int(ctx.arg(2, 'axis1'), 'axis1'), rank);
  const perm = Array.from({ length: rank }, (_, i) => (i === a ? b : i === b ? a : i));
  return ctx.emit('Transpose', [x.value], { perm }, { rank, dtype: x.dtype });
};

/** `movedim(x, source, destination)` (ints or lists): the moved dims at their destinations, the others in order. */
const movedim: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const rank = rankOf(ctx, x);
  const source = ctx.ints(ctx.arg(1, 'source'), 'source').map((d) => axisOf(ctx, x, d, rank));
  const destination = ctx.ints(ctx.arg(2, 'destination'), 'destination').map((d) => axisOf(ctx, x, d, rank));
  if (source.length !== destination.length) return ctx.fail(`source (${source.length}) and destination (${destination.length}) differ in length`);
  if (new Set(source).size !== source.length || new Set(destination).size !== destination.length) return ctx.fail('source or destination repeats a dim');
  const perm = new Array<number>(rank).fill(-1);
  source.forEach((s, i) => (perm[destination[i]!] = s));
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => !source.includes(i));
  for (let i = 0, r = 0; i < rank; i++) if (perm[i] === -1) perm[i] = rest[r++]!;
  return ctx.emit('Transpose', [x.value], { perm }, { rank, dtype: x.dtype });
};

/** `lerp(a, b, w)` = a + w·(b − a). */
const lerp: AtenLowering = (ctx) => {
  const a = ctx.tensor(ctx.arg(0), 'self');
  const b = ctx.tensor(ctx.arg(1, 'end'), 'end', a);
  const w = ctx.tensor(ctx.arg(2, 'weight'), 'weight', a);
  const step = ctx.emit('Mul', [w.value, ctx.emit('Sub', [b.value, a.value]).value]);
  return ctx.emit('Add', [a.value, step.value], {}, { dtype: a.dtype });
};

/** `addcmul/addcdiv(self, t1, t2, value=1)` = self + value·(t1 ∘ t2). */
function addc(onnxOp: 'Mul' | 'Div'): AtenLowering {
  return (ctx) => {
    const self = ctx.tensor(ctx.arg(0), 'self');
    const t1 = ctx.tensor(ctx.arg(1, 'tensor1'), 'tensor1', self);
    const t2 = ctx.tensor(ctx.arg(2, 'tensor2'), 'tensor2', self);
    const value = ctx.float(ctx.arg(3, 'value', { kind: 'int', value: 1 }), 'value');
    let term = ctx.emit(onnxOp, [t1.value, t2.value]);
    if (value !== 1) term = ctx.emit('Mul', [term.value, c(ctx, self, value)]);
    return ctx.emit('Add', [self.value, term.value], {}, { dtype: self.dtype });
  };
}

const outer: AtenLowering = (ctx) => {
  const a = ctx.tensor(ctx.arg(0), 'self');
  const b = ctx.tensor(ctx.arg(1, 'vec2'), 'vec2');
  if ((a.rank !== undefined && a.rank !== 1) || (b.rank !== undefined && b.rank !== 1)) return ctx.fail('outer needs two 1-d tensors');
  const column = ctx.emit('Unsqueeze', [a.value, ctx.int64Vector([1])]);
  const row = ctx.emit('Unsqueeze', [b.value, ctx.int64Vector([0])]);
  return ctx.emit('Mul', [column.value, row.value], {}, { rank: 2, dtype: a.dtype });
};

/** `threshold(x, threshold, value)`: x where x > threshold, value elsewhere. */
const threshold: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const limit = ctx.tensor(ctx.arg(1, 'threshold'), 'threshold', x);
  const value = ctx.tensor(ctx.arg(2, 'value'), 'value', x);
  return ctx.emit('Where', [ctx.emit('Greater', [x.value, limit.value]).value, x.value, value.value], {}, { rank: x.rank, dtype: x.dtype });
};

export const compositeLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['embedding', embedding],
  ['maximum', elementwisePair('Max')],
  ['minimum', elementwisePair('Min')],
  ['logsumexp', logsumexp],
  ['log1p', log1p],
  ['log2', logBase(2)],
  ['log10', logBase(10)],
  ['log_sigmoid', logSigmoid],
  ['glu', glu],
  ['repeat_interleave', repeatInterleave],
  ['swapaxes', swap],
  ['swapdims', swap],
  ['movedim', movedim],
  ['moveaxis', movedim],
  ['lerp', lerp],
  ['addcmul', addc('Mul')],
  ['addcdiv', addc('Div')],
  ['outer', outer],
  ['threshold', threshold],
];
