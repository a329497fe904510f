/**
 * Reductions and predicates that data-dependent control flow tends to read: `max`/`min` (whole
 * tensor, along a dim with indices, or of two tensors), `argmax`/`argmin`, `any`/`all` of a tensor,
 * `isnan`/`isinf`, and `zeros_like`/`ones_like`/`full_like` (ConstantOfShape of the input's shape).
 */
import { Tensor, type DType } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';

const ONNX_DTYPE_CODES: Readonly<Partial<Record<DType, number>>> = { float32: 1, bool: 9, int64: 7 };

function axisOf(ctx: LoweringContext, x: TensorValue, dim: number): number {
  if (dim >= 0) return dim;
  if (x.rank === undefined) return ctx.fail(`negative dim ${dim} on a tensor of unknown rank`);
  return dim + x.rank;
}

function extremum(kind: 'Max' | 'Min'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const second = ctx.arg(1, 'dim');
    if (second.kind === 'none') return ctx.emit(`Reduce${kind}`, [x.value], { keepdims: 0 }, { rank: 0, dtype: x.dtype });
    if (second.kind === 'tensor') {
      const other = ctx.tensor(second, 'other', x);
      return ctx.emit(kind, [x.value, other.value], {}, { dtype: x.dtype });
    }
    // max(x, dim, keepdim) → (values, indices)
    const axis = axisOf(ctx, x, ctx.int(second, 'dim'));
    const keepdims = ctx.bool(ctx.arg(2, 'keepdim', { kind: 'bool', value: false }), 'keepdim') ? 1 : 0;
    const rank = x.rank === undefined ? undefined : keepdims ? x.rank : x.rank - 1;
    const values = ctx.emit(`Reduce${kind}`, [x.value], { axes: [axis], keepdims }, { rank, dtype: x.dtype });
    const indices = ctx.emit(`Arg${kind}`, [x.value], { axis, keepdims }, { rank, dtype: 'int64' });
    return { kind: 'tuple', items: [values, indices] };
  };
}

function argExtremum(kind: 'Max' | 'Min'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const dimArg = ctx.arg(1, 'dim');
    const keepdims = ctx.bool(ctx.arg(2, 'keepdim', { kind: 'bool', value: false }), 'keepdim') ? 1 : 0;
    if (dimArg.kind === 'none') {
      // Over the flattened tensor (keepdim then keeps every dim as 1, which only matters for its shape).
      const flat = ctx.emit('Reshape', [x.value, ctx.int64Vector([-1])], {}, { rank: 1, dtype: x.dtype });
      return ctx.emit(`Arg${kind}`, [flat.value], { axis: 0, keepdims: 0 }, { rank: 0, dtype: 'int64' });
    }
    const axis = axisOf(ctx, x, ctx.int(dimArg, 'dim'));
    return ctx.emit(`Arg${kind}`, [x.value], { axis, keepdims }, { rank: x.rank === undefined ? undefined : keepdims ? x.rank : x.rank - 1, dtype: 'int64' });
  };
}

/** `any`/`all` of a tensor: nonzero elements as 0/1 floats, reduced by max/min, back to bool. */
export function tensorAnyAll(ctx: LoweringContext, value: ScriptValue, kind: 'any' | 'all'): TensorValue {
  const x = ctx.tensor(value, 'self');
  const nonzero = x.dtype === 'bool' ? x : ctx.emit('Not', [ctx.emit('Equal', [x.value, ctx.scalarConstant(x.dtype ?? 'float32', 0).value], {}, { dtype: 'bool' }).value], {}, { dtype: 'bool' });
  const numbers = ctx.emit('Cast', [nonzero.value], { to: ONNX_DTYPE_CODES.float32! }, { rank: x.rank, dtype: 'float32' });
  const dimArg = ctx.arg(1, 'dim');
  const reduced = dimArg.kind === 'none'
    ? ctx.emit(kind === 'any' ? 'ReduceMax' : 'ReduceMin', [numbers.value], { keepdims: 0 }, { rank: 0, dtype: 'float32' })
    : ctx.emit(kind === 'any' ? 'ReduceMax' : 'ReduceMin', [numbers.value], { axes: [axisOf(ctx, x, ctx.int(dimArg, 'dim'))], keepdims: ctx.bool(ctx.arg(2, 'keepdim', { kind: 'bool', value: false }), 'keepdim') ? 1 : 0 }, { dtype: 'float32' });
  return ctx.emit('Cast', [reduced.value], { to: ONNX_DTYPE_CODES.bool! }, { rank: reduced.rank, dtype: 'bool' });
}

const TORCH_DTYPE_CODES: Readonly<Record<number, DType>> = { 6: 'float32', 7: 'float64', 4: 'int64', 3: 'int32', 11: 'bool' };

/** `zeros_like(x)` and friends: a tensor of x's shape filled with one value (dtype: x's unless given). */
function filledLike(fill: number | 'argument'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const value = fill === 'argument' ? ctx.float(ctx.arg(1, 'fill_value'), 'fill_value') : fill;
    const dtypeArg = ctx.arg(fill === 'argument' ? 2 : 1, 'dtype');
    const dtype = dtypeArg.kind === 'none' ? x.dtype ?? 'float32' : TORCH_DTYPE_CODES[ctx.int(dtypeArg, 'dtype')] ?? ctx.fail(`dtype code ${ctx.int(dtypeArg, 'dtype')} is not supported`);
    const element = dtype === 'int64' ? Tensor.fromValues('int64', [1], [BigInt(Math.trunc(value))]) : dtype === 'bool' ? Tensor.fromValues('bool', [1], [value !== 0]) : Tensor.fromValues(dtype, [1], [value]);
    const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
    return ctx.emit('ConstantOfShape', [shape.value], { value: element }, { rank: x.rank, dtype, shape: x.shape });
  };
}

export const reductionLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['max', extremum('Max')],
  ['min', extremum('Min')],
  ['argmax', argExtremum('Max')],
  ['argmin', argExtremum('Min')],
  ['isnan', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    return ctx.emit('IsNaN', [x.value], {}, { rank: x.rank, dtype: 'bool' });
  }],
  ['isinf', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    return ctx.emit('IsInf', [x.value], {}, { rank: x.rank, dtype: 'bool' });
  }],
  ['zeros_like', filledLike(0)],
  ['ones_like', filledLike(1)],
  ['full_like', filledLike('argument')],
];
