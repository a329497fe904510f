/**
 * Selection, ordering and masks: `where`, `masked_fill`, `gather`, `index_select`, `topk`, `sort`,
 * `argsort`, `tril`/`triu`, `cumsum`. Ordering ops return torch's (values, indices) tuple.
 */
import type { Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { castTo, dtypeArgument, isFloat, promote } from './dtypes.js';

function axisOf(ctx: LoweringContext, x: TensorValue, dim: number, what = 'dim'): number {
  if (dim >= 0) return dim;
  const rank = x.rank ?? knownShape(x)?.length;
  if (rank === undefined) return ctx.fail(`negative ${what} ${dim} on a tensor of unknown rank`, 'TorchScript archives record no input shapes: give them (CLI: --input-shape NAME=DIMS; API: readTorchScript option `inputs`)');
  return dim + rank;
}

function rankOf(a: TensorValue, b: TensorValue): number | undefined {
  return a.rank === undefined || b.rank === undefined ? undefined : Math.max(a.rank, b.rank);
}

function boolMask(ctx: LoweringContext, value: ScriptValue, what: string): TensorValue {
  const mask = ctx.tensor(value, what);
  if (mask.dtype === 'bool') return mask;
  if (mask.dtype === 'uint8') return castTo(ctx, mask, 'bool');
  return ctx.fail(`${what} must be a bool tensor (torch refuses ${mask.dtype ?? 'unknown'} masks)`);
}

/** `where(cond, a, b)`: a Python number takes the other operand's dtype; two tensors promote as torch does. */
const where: AtenLowering = (ctx) => {
  if (ctx.argCount === 1) return ctx.fail('where(condition) with one argument (nonzero indices, a data-dependent shape) is not supported');
  const cond = boolMask(ctx, ctx.arg(0), 'condition');
  const left = ctx.arg(1, 'self');
  const right = ctx.arg(2, 'other');
  let a: TensorValue;
  let b: TensorValue;
  if (left.kind === 'tensor') {
    a = left;
    b = ctx.tensor(right, 'other', left);
  } else if (right.kind === 'tensor') {
    b = right;
    a = ctx.tensor(left, 'self', right);
  } else {
    a = ctx.tensor(left, 'self');
    b = ctx.tensor(right, 'other');
  }
  const dtype = promote(a.dtype, b.dtype);
  if (dtype) {
    a = castTo(ctx, a, dtype);
    b = castTo(ctx, b, dtype);
  }
  const rank = cond.rank === undefined ? undefined : Math.max(cond.rank, rankOf(a, b) ?? -1);
  return ctx.emit('Where', [cond.value, a.value, b.value], {}, { rank: rank === -1 ? undefined : rank, dtype });
};

/** `masked_fill(x, mask, value)`: value (a number or a 0-d tensor) where mask, x elsewhere; mask broadcasts. */
const maskedFill: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const mask = boolMask(ctx, ctx.arg(1, 'mask'), 'mask');
  const valueArg = ctx.arg(2, 'value');
  const fill = ctx.tensor(valueArg, 'value', x);
  if (valueArg.kind === 'tensor' && fill.rank !== undefined && fill.rank !== 0) return ctx.fail(`value must be a number or a 0-d tensor, got a tensor of rank ${fill.rank}`);
  const typed = castTo(ctx, fill, x.dtype ?? 'float32');
  return ctx.emit('Where', [mask.value, typed.value, x.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
};

const gather: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const axis = axisOf(ctx, x, ctx.int(ctx.arg(1, 'dim'), 'dim'));
  const index = ctx.tensor(ctx.arg(2, 'index'), 'index');
  if (ctx.arg(3, 'sparse_grad').kind === 'bool' && ctx.bool(ctx.arg(3, 'sparse_grad'), 'sparse_grad')) return ctx.fail('sparse_grad=True is not supported');
  return ctx.emit('GatherElements', [x.value, castTo(ctx, index, 'int64').value], { axis }, { rank: x.rank, dtype: x.dtype });
};

const indexSelect: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const axis = axisOf(ctx, x, ctx.int(ctx.arg(1, 'dim'), 'dim'));
  const index = ctx.tensor(ctx.arg(2, 'index'), 'index');
  if (index.rank !== undefined && index.rank > 1) return ctx.fail(`index must be 0-d or 1-d, got rank ${index.rank}`);
  const flat = index.rank === 1 ? index : ctx.emit('Reshape', [index.value, ctx.int64Vector([-1])], {}, { rank: 1, dtype: index.dtype });
  return ctx.emit('Gather', [x.value, castTo(ctx, flat, 'int64').value], { axis }, { rank: x.rank, dtype: x.dtype });
};

/** The length of `axis` as a [1] int64 value (a constant when known). */
function lengthAlong(ctx: LoweringContext, x: TensorValue, axis: number): Value {
  const known = knownShape(x)?.[axis];
  if (typeof known === 'number') return ctx.int64Vector([known]);
  const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
  return ctx.emit('Gather', [shape.value, ctx.int64Vector([axis])], { axis: 0 }, { rank: 1, dtype: 'int64' }).value;
}

function topkNode(ctx: LoweringContext, x: TensorValue, k: Value, axis: number, largest: boolean): [TensorValue, TensorValue] {
  if (x.dtype === 'bool') return ctx.fail('ordering a bool tensor is not supported');
  const [values, indices] = ctx.emitMany('TopK', [x.value, k], { axis, largest: largest ? 1 : 0, sorted: 1 }, 2, { rank: x.rank });
  values!.dtype = x.dtype;
  indices!.dtype = 'int64';
  return [values!, indices!];
}

/** `topk(x, k, dim=-1, largest=True, sorted=True)` → (values, indices); ties may be ordered differently than torch's. */
const topk: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const kArg = ctx.arg(1, 'k');
  const k = kArg.kind === 'int' ? ctx.int64Vector([kArg.value]) : ctx.emit('Reshape', [castTo(ctx, ctx.tensor(kArg, 'k'), 'int64').value, ctx.int64Vector([1])]).value;
  const axis = axisOf(ctx, x, ctx.int(ctx.arg(2, 'dim', { kind: 'int', value: -1 }), 'dim'));
  const largest = ctx.bool(ctx.arg(3, 'largest', { kind: 'bool', value: true }), 'largest');
  const sorted = ctx.bool(ctx.arg(4, 'sorted', { kind: 'bool', value: true }), 'sorted');
  if (!sorted) return ctx.fail('sorted=False (an unspecified order) is not supported; torch and ONNX would order differently');
  return { kind: 'tuple', items: topkNode(ctx, x, k, axis, largest) };
};

/** The (dim, descending) of `sort`/`argsort`, also for the `stable=` overload `sort(x, stable, dim, descending)`. */
function sortArguments(ctx: LoweringContext): { x: TensorValue; axis: number; descending: boolean } {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const first = ctx.arg(1);
  const stableOverload = first.kind === 'bool' || (first.kind === 'none' && ctx.argCount > 2);
  const dimArg = stableOverload ? ctx.arg(2, 'dim', { kind: 'int', value: -1 }) : ctx.arg(1, 'dim', { kind: 'int', value: -1 });
  const descArg = stableOverload ? ctx.arg(3, 'descending', { kind: 'bool', value: false }) : ctx.arg(2, 'descending', { kind: 'bool', value: false });
  return { x, axis: axisOf(ctx, x, ctx.int(dimArg, 'dim')), descending: ctx.bool(descArg, 'descending') };
}

/** `sort(x, dim=-1, descending=False)` → (values, indices): a TopK over the whole dim (equal values keep index order). */
const sort: AtenLowering = (ctx) => {
  const { x, axis, descending } = sortArguments(ctx);
  return { kind: 'tuple', items: topkNode(ctx, x, lengthAlong(ctx, x, axis), axis, descending) };
};

const argsort: AtenLowering = (ctx) => {
  const { x, axis, descending } = sortArguments(ctx);
  return topkNode(ctx, x, lengthAlong(ctx, x, axis), axis, descending)[1];
};

function triangle(upper: boolean): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    if (x.rank !== undefined && x.rank < 2) return ctx.fail(`needs a tensor of rank 2 or more, got rank ${x.rank}`);
    const diagonal = ctx.int(ctx.arg(1, 'diagonal', { kind: 'int', value: 0 }), 'diagonal');
    return ctx.emit('Trilu', [x.value, ctx.scalarConstant('int64', diagonal).value], { upper: upper ? 1 : 0 }, { rank: x.rank, dtype: x.dtype, shape: x.shape });
  };
}

/** `cumsum(x, dim, dtype=None)`: integer and bool inputs sum in int64, as torch does. */
const cumsum: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const axis = axisOf(ctx, x, ctx.int(ctx.arg(1, 'dim'), 'dim'));
  const dtype = dtypeArgument(ctx, ctx.arg(2, 'dtype'), 'dtype', isFloat(x.dtype) ? x.dtype : 'int64')!;
  const input = castTo(ctx, x, dtype);
  return ctx.emit('CumSum', [input.value, ctx.scalarConstant('int64', axis).value], {}, { rank: x.rank, dtype, shape: x.shape });
};

/**
 * `x[..., idx, ...]` with one integer index tensor (`aten::index(x, [None, idx])`): a Gather along
 * that dim. Boolean masks (a data-dependent shape) and several index tensors are refused.
 */
const advancedIndex: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const list = ctx.arg(1, 'indices');
  if (list.kind !== 'list' && list.kind !== 'tuple') return ctx.fail('indices must be a list');
  const given = list.items.map((item, dim) => ({ item, dim })).filter(({ item }) => item.kind !== 'none');
  if (given.length !== 1) return ctx.fail(`indexing with ${given.length} index tensors at once is not supported (one integer index tensor only)`);
  const { item, dim } = given[0]!;
  const index = ctx.tensor(item, `indices[${dim}]`);
  if (index.dtype === 'bool' || index.dtype === 'uint8') {
    return ctx.fail('indexing with a boolean mask (x[mask]) gives a shape that depends on the data, which the exported graph cannot hold', 'use torch.where(mask, x, fill) or masked_fill to keep the shape');
  }
  if (index.dtype !== 'int64' && index.dtype !== 'int32') return ctx.fail(`index tensor ${dim} must be int64 or int32, got ${index.dtype ?? 'unknown'}`);
  const rank = index.rank === undefined || x.rank === undefined ? undefined : x.rank - 1 + index.rank;
  return ctx.emit('Gather', [x.value, castTo(ctx, index, 'int64').value], { axis: dim }, { rank, dtype: x.dtype });
};

/** `scatter(self, dim, index, src)` / `scatter_add(…)` → ScatterElements (reduction add for scatter_add); a scalar `src` is refused. */
function scatter(add: boolean): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const axis = axisOf(ctx, x, ctx.int(ctx.arg(1, 'dim'), 'dim'));
    const index = ctx.tensor(ctx.arg(2, 'index'), 'index');
    const source = ctx.arg(3, 'src');
    if (source.kind !== 'tensor') return ctx.fail('scatter with a scalar value is not supported (give src as a tensor)');
    const updates = ctx.tensor(source, 'src');
    return ctx.emit('ScatterElements', [x.value, castTo(ctx, index, 'int64').value, updates.value], { axis, ...(add ? { reduction: 'add' } : {}) }, { rank: x.rank, dtype: x.dtype });
  };
}

export const selectionLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['scatter', scatter(false)],
  ['scatter_add', scatter(true)],
  ['where', where],
  ['masked_fill', maskedFill],
  ['gather', gather],
  ['index_select', indexSelect],
  ['topk', topk],
  ['sort', sort],
  ['argsort', argsort],
  ['tril', triangle(false)],
  ['triu', triangle(true)],
  ['cumsum', cumsum],
  ['index', advancedIndex],
  ['masked_fill_', maskedFill],
];
