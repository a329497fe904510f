/** Shape aten ops (view, flatten, transpose, cat, chunk, slice, …) → ONNX Reshape/Flatten/Transpose/Concat/Split/Slice. */
import { Tensor, type Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { dimsOfSizeList, rankOf } from './python-builtins.js';
import { copyZeroReshapeSizes, eraseIfUnused } from '../copy-zero-reshape.js';

function normalizeDim(ctx: LoweringContext, dim: number, rank: number | undefined, what: string): number {
  if (dim >= 0) return dim;
  if (rank === undefined) return ctx.fail(`negative ${what} ${dim} on a tensor of unknown rank`, 'TorchScript archives record no input shapes: give them (CLI: --input-shape NAME=DIMS, e.g. x=batch,time,16; API: readTorchScript option `inputs`)');
  return dim + rank;
}

/** A shape list (ints known or computed) as a 1-D int64 value. */
function shapeVector(ctx: LoweringContext, value: ScriptValue, what: string): { vector: Value; length: number } {
  if (value.kind === 'tensor' && !value.scalarInt) return { vector: value.value, length: -1 };
  const items = value.kind === 'list' || value.kind === 'tuple' ? value.items : [value];
  if (items.every((item) => item.kind === 'int')) return { vector: ctx.int64Vector(items.map((item) => ctx.int(item, what))), length: items.length };
  const parts = items.map((item) => {
    if (item.kind === 'int') return ctx.int64Vector([item.value]);
    const scalar = ctx.tensor(item, what);
    return ctx.emit('Unsqueeze', [scalar.value, ctx.int64Vector([0])], {}, { rank: 1, dtype: 'int64' }).value;
  });
  return { vector: ctx.emit('Concat', parts, { axis: 0 }, { rank: 1, dtype: 'int64' }).value, length: items.length };
}

const reshape: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const size = ctx.arg(1, 'size');
  const { vector, length } = shapeVector(ctx, size, 'size');
  // Sizes read from tensors keep their symbols (view(batch, -1) is [batch, ?]), so later size checks fold.
  const items = size.kind === 'list' || size.kind === 'tuple' ? size.items : undefined;
  const dims = items && items.some((item) => item.kind === 'tensor') ? dimsOfSizeList(items) : undefined;
  return ctx.emit('Reshape', [x.value, vector], {}, { rank: length < 0 ? undefined : length, dtype: x.dtype, shape: dims });
};

const flatten: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const start = ctx.int(ctx.arg(1, 'start_dim', { kind: 'int', value: 0 }), 'start_dim');
  const end = ctx.int(ctx.arg(2, 'end_dim', { kind: 'int', value: -1 }), 'end_dim');
  const rank = x.rank;
  const endDim = end < 0 && rank !== undefined ? end + rank : end;
  if (end === -1 || (rank !== undefined && endDim === rank - 1)) {
    const axis = normalizeDim(ctx, start, rank, 'start_dim');
    if (axis === 0) {
      const flat = ctx.emit('Flatten', [x.value], { axis: 0 }, { rank: 2, dtype: x.dtype });
      return ctx.emit('Reshape', [flat.value, ctx.int64Vector([-1])], {}, { rank: 1, dtype: x.dtype });
    }
    // ONNX Flatten always gives rank 2, which is torch's result only for start_dim 1.
    if (axis === 1) return ctx.emit('Flatten', [x.value], { axis }, { rank: 2, dtype: x.dtype });
    return ctx.emit('Reshape', [x.value, ctx.int64Vector([...new Array<number>(axis).fill(0), -1])], {}, { rank: axis + 1, dtype: x.dtype });
  }
  const r = rankOf(ctx, x, 'self');
  const startDim = normalizeDim(ctx, start, r, 'start_dim');
  // Keep the dims outside [start, end], -1 for the merged run. Reshape's 0 copies the input dim of
  // the same index, which is right only before the run: the dims after it are read from the shape.
  const leading = ctx.int64Vector([...new Array<number>(startDim).fill(0), -1]);
  if (endDim === r - 1) return ctx.emit('Reshape', [x.value, leading], {}, { rank: startDim + 1, dtype: x.dtype });
  const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
  const trailing = ctx.emit('Slice', [shape.value, ctx.int64Vector([endDim + 1]), ctx.int64Vector([r])], {}, { rank: 1, dtype: 'int64' });
  const target = ctx.emit('Concat', [leading, trailing.value], { axis: 0 }, { rank: 1, dtype: 'int64' });
  return ctx.emit('Reshape', [x.value, target.value], {}, { rank: startDim + 1 + (r - 1 - endDim), dtype: x.dtype });
};

const transpose: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const rank = rankOf(ctx, x, 'self');
  const a = normalizeDim(ctx, ctx.int(ctx.arg(1, 'dim0'), 'dim0'), rank, 'dim0');
  const b = normalizeDim(ctx, ctx.int(ctx.arg(2, 'dim1'), 'dim1'), rank, 'dim1');
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  const result = ctx.emit('Transpose', [x.value], { perm }, { rank, dtype: x.dtype });
  if (x.shape) result.shape = perm.map((p) => x.shape![p]!);
  return result;
};

const permute: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const dims = ctx.ints(ctx.arg(1, 'dims'), 'dims');
  const perm = dims.map((d) => normalizeDim(ctx, d, dims.length, 'dims'));
  return ctx.emit('Transpose', [x.value], { perm }, { rank: perm.length, dtype: x.dtype });
};

function tensorList(ctx: LoweringContext, value: ScriptValue, what: string): TensorValue[] {
  if (value.kind !== 'list' && value.kind !== 'tuple') return ctx.fail(`${what} must be a list of tensors`);
  return value.items.map((item, i) => ctx.tensor(item, `${what}[${i}]`));
}

const cat: AtenLowering = (ctx) => {
  const parts = tensorList(ctx, ctx.arg(0, 'tensors'), 'tensors');
  const rank = parts.find((p) => p.rank !== undefined)?.rank;
  const axis = normalizeDim(ctx, ctx.int(ctx.arg(1, 'dim', { kind: 'int', value: 0 }), 'dim'), rank, 'dim');
  return ctx.emit('Concat', parts.map((p) => p.value), { axis }, { rank, dtype: parts[0]?.dtype });
};

const stack: AtenLowering = (ctx) => {
  const parts = tensorList(ctx, ctx.arg(0, 'tensors'), 'tensors');
  const rank = parts.find((p) => p.rank !== undefined)?.rank;
  const axis = normalizeDim(ctx, ctx.int(ctx.arg(1, 'dim', { kind: 'int', value: 0 }), 'dim'), rank === undefined ? undefined : rank + 1, 'dim');
  const expanded = parts.map((p) => ctx.emit('Unsqueeze', [p.value, ctx.int64Vector([axis])]).value);
  return ctx.emit('Concat', expanded, { axis }, { rank: rank === undefined ? undefined : rank + 1, dtype: parts[0]?.dtype });
};

/** `aten::chunk(x, chunks, dim)`: equal parts (ONNX Split without sizes), the count known while importing. */
const chunk: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const chunks = ctx.int(ctx.arg(1, 'chunks'), 'chunks');
  const axis = normalizeDim(ctx, ctx.int(ctx.arg(2, 'dim', { kind: 'int', value: 0 }), 'dim'), x.rank, 'dim');
  const outputs = ctx.emitMany('Split', [x.value], { axis }, chunks, { rank: x.rank, dtype: x.dtype });
  return { kind: 'list', items: outputs };
};

// A negative dim on a tensor of unknown rank stays negative: ONNX's Unsqueeze/Squeeze count negative axes from the end as torch does.
const unsqueeze: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const rank = x.rank === undefined ? undefined : x.rank + 1;
  const dim = ctx.int(ctx.arg(1, 'dim'), 'dim');
  const axis = rank === undefined && dim < 0 ? dim : normalizeDim(ctx, dim, rank, 'dim');
  return ctx.emit('Unsqueeze', [x.value, ctx.int64Vector([axis])], {}, { rank, dtype: x.dtype });
};

const squeeze: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const dimArg = ctx.arg(1, 'dim');
  if (dimArg.kind === 'none') return ctx.emit('Squeeze', [x.value], {}, { dtype: x.dtype });
  const dim = ctx.int(dimArg, 'dim');
  const axis = x.rank === undefined && dim < 0 ? dim : normalizeDim(ctx, dim, x.rank, 'dim');
  return ctx.emit('Squeeze', [x.value, ctx.int64Vector([axis])], {}, { rank: x.rank === undefined ? undefined : x.rank - 1, dtype: x.dtype });
};

const INT64_MAX = 9223372036854775807n;

/** `aten::slice(x, dim, start, end, step)` on a tensor, or a Python list slice. */
const slice: AtenLowering = (ctx) => {
  const self = ctx.arg(0);
  if (self.kind === 'list' || self.kind === 'tuple') {
    // aten::slice.t(l, start=None, end=None, step=1): no dim argument (`x.size()[-3:]` is `torch.slice(torch.size(x), -3)`).
    const startArg = ctx.arg(1, 'start');
    const endArg = ctx.arg(2, 'end');
    const step = ctx.int(ctx.arg(3, 'step', { kind: 'int', value: 1 }), 'step');
    if (step < 1) return ctx.fail(`list slice step ${step} (TorchScript lists slice with a positive step)`);
    const length = self.items.length;
    const clampIndex = (v: number): number => Math.min(Math.max(v < 0 ? v + length : v, 0), length);
    const start = startArg.kind === 'none' ? 0 : clampIndex(ctx.int(startArg, 'start'));
    const end = endArg.kind === 'none' ? length : clampIndex(ctx.int(endArg, 'end'));
    const items: ScriptValue[] = [];
    for (let i = start; i < end; i += step) items.push(self.items[i]!);
    return { kind: self.kind, items };
  }
  const startArg = ctx.arg(2, 'start');
  const endArg = ctx.arg(3, 'end');
  const step = ctx.int(ctx.arg(4, 'step', { kind: 'int', value: 1 }), 'step');
  const x = ctx.tensor(self, 'self');
  const dim = normalizeDim(ctx, ctx.int(ctx.arg(1, 'dim', { kind: 'int', value: 0 }), 'dim'), x.rank, 'dim');
  const bound = (value: ScriptValue, fallback: bigint, what: string): Value => {
    if (value.kind === 'none') return ctx.builder.constant(tensorOf([fallback]), 'const');
    if (value.kind === 'int') return ctx.builder.constant(tensorOf([BigInt(Math.max(Math.min(value.value, Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER))]), 'const');
    return ctx.emit('Unsqueeze', [ctx.tensor(value, what).value, ctx.int64Vector([0])]).value;
  };
  const starts = bound(startArg, 0n, 'start');
  const ends = bound(endArg, INT64_MAX, 'end');
  return ctx.emit('Slice', [x.value, starts, ends, ctx.int64Vector([dim]), ctx.int64Vector([step])], {}, { rank: x.rank, dtype: x.dtype });
};

const select: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const dim = normalizeDim(ctx, ctx.int(ctx.arg(1, 'dim'), 'dim'), x.rank, 'dim');
  const index = ctx.tensor(ctx.arg(2, 'index'), 'index');
  return ctx.emit('Gather', [x.value, index.value], { axis: dim }, { rank: x.rank === undefined ? undefined : x.rank - 1, dtype: x.dtype });
};

/** `_shape_as_tensor(x)`: the shape as a 1-D int64 tensor (what the exporter writes for ONNX Shape). */
const shapeAsTensor: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  return ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
};

/** `_reshape_from_tensor(x, shape)`: Reshape to sizes held in a 1-D int64 tensor (the exporter's spelling of a computed ONNX Reshape). */
const reshapeFromTensor: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const shape = ctx.tensor(ctx.arg(1, 'shape'), 'shape');
  const length = shape.shape?.length === 1 && typeof shape.shape[0] === 'number' ? shape.shape[0] : undefined;
  // modelpass's own spelling of ONNX's copy-a-zero rule (torch.where over x's shape): the Reshape it came from.
  const sizes = copyZeroReshapeSizes(x.value, shape.value);
  const reshaped = ctx.emit('Reshape', [x.value, sizes ?? shape.value], {}, { rank: length, dtype: x.dtype });
  if (sizes) eraseIfUnused(shape.value);
  return reshaped;
};

/**
 * `t.tolist()` of a 1-D integer tensor of known length (how sizes computed as tensors become the
 * `List[int]` that full/reshape take): a list of computed Python ints, one Gather each.
 */
const toList: AtenLowering = (ctx) => {
  const t = ctx.tensor(ctx.arg(0), 'self');
  const length = t.shape?.length === 1 ? t.shape[0] : undefined;
  if (typeof length !== 'number') return ctx.fail(`tolist() needs a 1-D tensor of known length, got ${t.shape ? `shape [${t.shape.join(', ')}]` : 'an unknown shape'}`);
  if (t.dtype !== undefined && !/^u?int/.test(t.dtype)) return ctx.fail(`tolist() is read only for integer tensors (sizes), got ${t.dtype}`);
  const items: ScriptValue[] = Array.from({ length }, (_, i) => ({
    ...ctx.emit('Gather', [t.value, ctx.scalarConstant('int64', i).value], { axis: 0 }, { rank: 0, dtype: 'int64' }),
    scalarInt: true,
  }));
  return { kind: 'list', items };
};

/**
 * `index_put(x, [i0, i1, …], values, accumulate)` with one index tensor per leading dim (no None, no
 * masks): ONNX ScatterND with the indices stacked on a new last axis, the values expanded to
 * `i0.shape + x.shape[k:]` (torch broadcasts them); accumulate = reduction add.
 */
const indexPut: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const list = ctx.arg(1, 'indices');
  if (list.kind !== 'list' && list.kind !== 'tuple') return ctx.fail('indices must be a list of tensors');
  if (list.items.length === 0 || list.items.some((item) => item.kind !== 'tensor' || item.scalarInt)) return ctx.fail('indices with None or Python ints (basic indexing) are not read as index_put');
  const indices = list.items.map((item, i) => ctx.tensor(item, `indices[${i}]`));
  if (indices.some((index) => index.dtype !== undefined && index.dtype !== 'int64')) return ctx.fail('boolean or non-int64 indices (masks) are not read as index_put');
  const values = ctx.tensor(ctx.arg(2, 'values'), 'values', x);
  const accumulate = ctx.bool(ctx.arg(3, 'accumulate', { kind: 'bool', value: false }), 'accumulate');
  const stacked = ctx.emit('Concat', indices.map((index) => ctx.emit('Unsqueeze', [index.value, ctx.int64Vector([-1])]).value), { axis: -1 }, { dtype: 'int64' });
  const leading = ctx.emit('Shape', [indices[0]!.value], {}, { rank: 1, dtype: 'int64' });
  const trailing = ctx.emit('Slice', [ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' }).value, ctx.int64Vector([indices.length]), ctx.int64Vector([Number.MAX_SAFE_INTEGER])], {}, { rank: 1, dtype: 'int64' });
  const target = ctx.emit('Concat', [leading.value, trailing.value], { axis: 0 }, { rank: 1, dtype: 'int64' });
  const updates = ctx.emit('Expand', [values.value, target.value], {}, { dtype: x.dtype });
  return ctx.emit('ScatterND', [x.value, stacked.value, updates.value], accumulate ? { reduction: 'add' } : {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
};

function tensorOf(values: bigint[]): Tensor {
  return Tensor.fromValues('int64', [values.length], values);
}

export const shapeLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['view', reshape],
  ['reshape', reshape],
  ['_reshape_from_tensor', reshapeFromTensor],
  ['_shape_as_tensor', shapeAsTensor],
  ['prim_tolist', toList],
  ['index_put', indexPut],
  ['flatten', flatten],
  ['transpose', transpose],
  ['t', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    return ctx.emit('Transpose', [x.value], { perm: [1, 0] }, { rank: 2, dtype: x.dtype });
  }],
  ['permute', permute],
  ['cat', cat],
  ['concat', cat],
  ['stack', stack],
  ['chunk', chunk],
  ['unsafe_chunk', chunk], // what traced nn.LSTMCell/GRUCell print: chunk without the aliasing checks
  ['unsqueeze', unsqueeze],
  ['squeeze', squeeze],
  ['slice', slice],
  ['select', select],
];
