/**
 * Tensor creation and dtype conversion: `full`, `new_zeros/new_ones/new_full`, `arange`, `eye`,
 * `tensor([...])`, `to(dtype | other | device, dtype)`, `type_as`. Known values become constants;
 * a size computed from tensors goes through ConstantOfShape / Range.
 */
import { Tensor, type DType, type Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { dimsOfSizeList } from './python-builtins.js';
import { castTo, dtypeArgument, isFloat } from './dtypes.js';

function sizeItems(ctx: LoweringContext, size: ScriptValue): ScriptValue[] {
  if (size.kind === 'list' || size.kind === 'tuple') return size.items;
  if (size.kind === 'int') return [size];
  return ctx.fail('size must be a list of ints');
}

function shapeValue(ctx: LoweringContext, items: readonly ScriptValue[]): Value {
  if (items.every((item) => item.kind === 'int')) return ctx.int64Vector(items.map((item) => ctx.int(item, 'size')));
  const parts = items.map((item) => (item.kind === 'int' ? ctx.int64Vector([item.value]) : ctx.emit('Unsqueeze', [ctx.tensor(item, 'size').value, ctx.int64Vector([0])]).value));
  return ctx.emit('Concat', parts, { axis: 0 }).value;
}

function scalarTensor(ctx: LoweringContext, dtype: DType, value: number | boolean): Tensor {
  if (dtype === 'int64') return Tensor.fromValues('int64', [1], [BigInt(Math.trunc(Number(value)))]);
  if (dtype === 'bool') return Tensor.fromValues('bool', [1], [Boolean(value)]);
  if (!isFloat(dtype) && !['int32', 'int16', 'int8', 'uint8'].includes(dtype)) return ctx.fail(`a tensor of ${dtype} filled with a value is not supported`);
  return Tensor.fromValues(dtype, [1], [isFloat(dtype) ? Number(value) : Math.trunc(Number(value))]);
}

/** A tensor of `size` filled with `fill`, as ConstantOfShape. */
function filledTensor(ctx: LoweringContext, size: ScriptValue, fill: number | boolean, dtype: DType): TensorValue {
  const items = sizeItems(ctx, size);
  return ctx.emit('ConstantOfShape', [shapeValue(ctx, items)], { value: scalarTensor(ctx, dtype, fill) }, { rank: items.length, dtype, shape: dimsOfSizeList(items) });
}

function fillValue(ctx: LoweringContext, value: ScriptValue): number | boolean {
  if (value.kind === 'bool') return value.value;
  return ctx.float(value, 'fill_value');
}

/** `torch.full(size, fill_value, dtype=None)`: dtype from the fill value (bool, int64, float32) as torch infers it. */
const full: AtenLowering = (ctx) => {
  const fillArg = ctx.arg(1, 'fill_value');
  const inferred: DType = fillArg.kind === 'bool' ? 'bool' : fillArg.kind === 'int' ? 'int64' : 'float32';
  const dtype = dtypeArgument(ctx, ctx.arg(2, 'dtype'), 'dtype', inferred)!;
  return filledTensor(ctx, ctx.arg(0, 'size'), fillValue(ctx, fillArg), dtype);
};

/** `x.new_zeros(size)` and friends: x's dtype unless `dtype` is given. */
function newFilled(fill: number | 'argument'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const value = fill === 'argument' ? fillValue(ctx, ctx.arg(2, 'fill_value')) : fill;
    const dtype = dtypeArgument(ctx, ctx.arg(fill === 'argument' ? 3 : 2, 'dtype'), 'dtype', x.dtype ?? 'float32')!;
    return filledTensor(ctx, ctx.arg(1, 'size'), value, dtype);
  };
}

/** `torch.arange(end)`, `(start, end)`, `(start, end, step)`; int64 unless a bound is a float (then float32). */
const arange: AtenLowering = (ctx) => {
  const numbers: ScriptValue[] = [];
  for (let i = 0; i < ctx.argCount && numbers.length < 3; i++) {
    const arg = ctx.arg(i);
    if (arg.kind === 'int' || arg.kind === 'float' || (arg.kind === 'tensor' && arg.rank === 0)) numbers.push(arg);
    else break;
  }
  if (numbers.length === 0) return ctx.fail('arange needs a known end');
  const [start, end, step] = numbers.length === 1 ? [{ kind: 'int', value: 0 } as ScriptValue, numbers[0]!, { kind: 'int', value: 1 } as ScriptValue] : [numbers[0]!, numbers[1]!, numbers[2] ?? ({ kind: 'int', value: 1 } as ScriptValue)];
  const anyFloat = [start, end, step].some((v) => v.kind === 'float' || (v.kind === 'tensor' && isFloat(v.dtype)));
  const dtypeArg = ctx.arg(numbers.length === 1 ? 1 : numbers.length === 2 ? 2 : 3, 'dtype');
  const dtype = dtypeArgument(ctx, dtypeArg, 'dtype', anyFloat ? 'float32' : 'int64')!;
  if (dtype !== 'int64' && dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') return ctx.fail(`arange with dtype ${dtype} is not supported`);
  if (start.kind !== 'tensor' && end.kind !== 'tensor' && step.kind !== 'tensor') {
    const [a, b, s] = [ctx.float(start, 'start'), ctx.float(end, 'end'), ctx.float(step, 'step')];
    if (s === 0) return ctx.fail('arange step must be nonzero');
    const length = Math.max(0, Math.ceil((b - a) / s));
    if (length > 1 << 24) return ctx.fail(`arange of ${length} elements is too large to hold as a constant`);
    // torch computes start + i·step in double precision, then stores the dtype.
    const values = Array.from({ length }, (_, i) => a + i * s);
    const tensor = dtype === 'int64' ? Tensor.fromValues('int64', [length], values.map((v) => BigInt(Math.trunc(v)))) : Tensor.fromValues(dtype, [length], dtype === 'int32' ? values.map(Math.trunc) : values);
    return { kind: 'tensor', value: ctx.builder.constant(tensor, 'arange'), rank: 1, dtype, shape: [length] };
  }
  if (anyFloat) return ctx.fail('arange with float bounds computed from tensors is not supported (only int bounds)');
  const scalar = (v: ScriptValue, what: string): Value => (v.kind === 'tensor' ? castTo(ctx, v, 'int64').value : ctx.scalarConstant('int64', ctx.int(v, what)).value);
  const range = ctx.emit('Range', [scalar(start, 'start'), scalar(end, 'end'), scalar(step, 'step')], {}, { rank: 1, dtype: 'int64' });
  return dtype === 'int64' ? range : castTo(ctx, range, dtype);
};

/** `torch.eye(n)`, `torch.eye(n, m)`: the identity of known sizes as a constant (float32 unless `dtype` is given). */
const eye: AtenLowering = (ctx) => {
  const rows = ctx.int(ctx.arg(0, 'n'), 'n');
  const columnsArg = ctx.arg(1, 'm');
  const columns = columnsArg.kind === 'none' ? rows : ctx.int(columnsArg, 'm');
  if (rows < 0 || columns < 0) return ctx.fail(`eye needs non-negative sizes, got ${rows}×${columns}`);
  if (rows * columns > 1 << 24) return ctx.fail(`eye of ${rows}×${columns} elements is too large to hold as a constant`);
  const dtype = dtypeArgument(ctx, ctx.arg(Number.POSITIVE_INFINITY, 'dtype'), 'dtype', 'float32')!;
  const ones = Array.from({ length: rows * columns }, (_, i) => (Math.floor(i / columns) === i % columns ? 1 : 0));
  const tensor =
    dtype === 'int64' ? Tensor.fromValues('int64', [rows, columns], ones.map(BigInt)) : dtype === 'bool' ? Tensor.fromValues('bool', [rows, columns], ones.map(Boolean)) : Tensor.fromValues(dtype, [rows, columns], ones);
  return { kind: 'tensor', value: ctx.builder.constant(tensor, 'eye'), rank: 2, dtype, shape: [rows, columns] };
};

/** `torch.tensor([...])` of known numbers (nested lists): a constant, dtype as torch infers it unless given. */
const tensorLiteral: AtenLowering = (ctx) => {
  const data = ctx.arg(0, 'data');
  const shape: number[] = [];
  const flat: ScriptValue[] = [];
  const walk = (value: ScriptValue, depth: number): void => {
    if (value.kind === 'list' || value.kind === 'tuple') {
      if (shape.length === depth) shape.push(value.items.length);
      else if (shape[depth] !== value.items.length) ctx.fail('torch.tensor of a ragged nested list');
      for (const item of value.items) walk(item, depth + 1);
      return;
    }
    if (value.kind !== 'int' && value.kind !== 'float' && value.kind !== 'bool') ctx.fail(`torch.tensor needs known numbers, got ${value.kind}`);
    if (depth !== shape.length) ctx.fail('torch.tensor of a ragged nested list');
    flat.push(value);
  };
  walk(data, 0);
  const inferred: DType = flat.some((v) => v.kind === 'float') ? 'float32' : flat.length > 0 && flat.every((v) => v.kind === 'bool') ? 'bool' : 'int64';
  const dtype = dtypeArgument(ctx, ctx.arg(1, 'dtype'), 'dtype', inferred)!;
  const numbers = flat.map((v) => Number((v as { value: number | boolean }).value));
  let tensor: Tensor;
  if (dtype === 'int64') tensor = Tensor.fromValues('int64', shape, numbers.map((v) => BigInt(Math.trunc(v))));
  else if (dtype === 'bool') tensor = Tensor.fromValues('bool', shape, numbers.map((v) => v !== 0));
  else if (isFloat(dtype) || dtype === 'int32') tensor = Tensor.fromValues(dtype, shape, isFloat(dtype) ? numbers : numbers.map(Math.trunc));
  else return ctx.fail(`torch.tensor with dtype ${dtype} is not supported`);
  return { kind: 'tensor', value: ctx.builder.constant(tensor, 'tensor'), rank: shape.length, dtype, shape };
};

/**
 * `torch.as_tensor(data, dtype=None, device=None)`: known numbers as `torch.tensor` reads them; a tensor as it is, or cast
 * to `dtype` (torchvision's detection transform: `torch.as_tensor(self.image_mean, dtype=dtype, device=device)`).
 */
const asTensor: AtenLowering = (ctx) => {
  const data = ctx.arg(0, 'data');
  if (data.kind !== 'tensor') return tensorLiteral(ctx);
  const dtype = dtypeArgument(ctx, ctx.arg(1, 'dtype'), 'dtype', undefined);
  return dtype === undefined || dtype === data.dtype ? data : castTo(ctx, data, dtype);
};

/** `x.to(dtype)`, `x.to(other)`, `x.to(device, dtype)`, `x.to(device)`; copy/non_blocking/memory_format do not change values. */
const to: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const first = ctx.arg(1, 'dtype');
  let target: DType | undefined;
  if (first.kind === 'tensor') target = ctx.tensor(first, 'other').dtype ?? ctx.fail('the dtype of `other` is not known while importing');
  else if (first.kind === 'str' || first.kind === 'none') {
    // to(device, dtype=None, …) or to(dtype=…) by keyword
    const second = ctx.arg(2, 'dtype');
    target = second.kind === 'int' ? dtypeArgument(ctx, second, 'dtype', undefined) : undefined;
  } else target = dtypeArgument(ctx, first, 'dtype', undefined);
  return target === undefined ? x : castTo(ctx, x, target);
};

const typeAs: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const other = ctx.tensor(ctx.arg(1, 'other'), 'other');
  return castTo(ctx, x, other.dtype ?? ctx.fail('the dtype of `other` is not known while importing'));
};

/** `x.fill_(v)` / `x.zero_()` / `x.copy_(src)` on a whole tensor: v or src broadcast to x's shape and dtype. */
function overwrite(source: 'value' | 'zero' | 'src'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const fill = source === 'zero' ? ctx.scalarConstant(x.dtype ?? 'float32', 0) : ctx.tensor(ctx.arg(1, source), source, x);
    const typed = castTo(ctx, fill, x.dtype ?? 'float32');
    const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
    return ctx.emit('Expand', [typed.value, shape.value], {}, { rank: x.rank, dtype: x.dtype, shape: x.shape });
  };
}

export const creationLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['full', full],
  ['new_zeros', newFilled(0)],
  ['new_ones', newFilled(1)],
  ['new_full', newFilled('argument')],
  ['new_empty', newFilled(0)],
  ['arange', arange],
  ['eye', eye],
  ['tensor', tensorLiteral],
  ['as_tensor', asTensor],
  ['to', to],
  ['type_as', typeAs],
  ['fill_', overwrite('value')],
  ['zero_', overwrite('zero')],
  ['copy_', overwrite('src')],
];
