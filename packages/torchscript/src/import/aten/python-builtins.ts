/**
 * Lowerings for the Python-level builtins TorchScript prints as calls: `int(...)`, `len(...)`,
 * `torch.dim`, `torch.size`, `torch.append`, `ops.prim.NumToTensor`, `torch.format`, … — known values
 * are computed while importing; sizes of tensors become Shape/Gather nodes.
 */
import type { ScriptValue } from '../script-value.js';
import { NONE } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { pythonBinary, pythonEquals, truthy } from '../python-semantics.js';
import { tensorAnyAll } from './reductions.js';
import { torchScalarTypeCode } from './dtypes.js';
import { bitwise } from './math.js';
import { knownScalar } from '../size-folding.js';
import { MAX_SCRIPT_LIST_ITEMS } from '../python-semantics.js';

/** `x.size(dim)` as a symbolic int (int64 scalar). */
const sizeCache = new WeakMap<object, WeakMap<object, Map<number, TensorValue>>>();
/** Per graph: the one size value of each symbolic dim (`batch`), whichever tensor it is read from. */
const symbolCache = new WeakMap<object, Map<string, TensorValue>>();

export function symbolicSize(ctx: LoweringContext, x: TensorValue, dim: number): TensorValue {
  // One Gather per (tensor, dim), and one per symbolic dim: repeated reads are the same value, so comparing them folds.
  // Per graph being built: a size read inside an If/Loop subgraph is not visible outside it.
  let perGraph = sizeCache.get(ctx.builder.graph);
  if (!perGraph) sizeCache.set(ctx.builder.graph, (perGraph = new WeakMap()));
  let cached = perGraph.get(x.value);
  if (!cached) perGraph.set(x.value, (cached = new Map()));
  const hit = cached.get(dim);
  if (hit) return hit;
  const known = knownShape(x)?.[dim];
  // An unknown dim gets a name of its own, so tensors built from this size (zeros, view) carry it.
  const symbol = typeof known === 'string' ? known : `${x.value.name}_dim${dim}`;
  let symbols = symbolCache.get(ctx.builder.graph);
  if (!symbols) symbolCache.set(ctx.builder.graph, (symbols = new Map()));
  const made = symbols.get(symbol) ?? computeSize(ctx, x, dim);
  made.symbol = symbol;
  symbols.set(symbol, made);
  cached.set(dim, made);
  return made;
}

/** Dims of a shape list (known ints, symbolic sizes by their symbol, anything else unknown). */
export function dimsOfSizeList(items: readonly ScriptValue[]): Array<number | string | null> {
  return items.map((item) => (item.kind === 'int' && item.value >= 0 ? item.value : item.kind === 'tensor' && item.symbol ? item.symbol : null));
}

function computeSize(ctx: LoweringContext, x: TensorValue, dim: number): TensorValue {
  const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
  const index = ctx.scalarConstant('int64', dim);
  const size = ctx.emit('Gather', [shape.value, index.value], { axis: 0 }, { rank: 0, dtype: 'int64' });
  size.scalarInt = true;
  return size;
}

export function rankOf(ctx: LoweringContext, x: TensorValue, what: string): number {
  if (x.rank === undefined) {
    const shape = knownShape(x);
    if (shape) return shape.length;
    return ctx.fail(`the rank of ${what} is not known while importing`, 'TorchScript archives record no input shapes: give them (CLI: --input-shape NAME=DIMS, e.g. x=batch,time,16; API: readTorchScript option `inputs`)');
  }
  return x.rank;
}

function size(ctx: LoweringContext): ScriptValue {
  const self = ctx.arg(0);
  if (self.kind === 'list' || self.kind === 'tuple') return { kind: 'int', value: self.items.length };
  const x = ctx.tensor(self, 'self');
  const dimArg = ctx.arg(1, 'dim');
  if (dimArg.kind !== 'none') {
    let dim = ctx.int(dimArg, 'dim');
    if (dim < 0) dim += rankOf(ctx, x, 'self');
    const known = knownShape(x)?.[dim];
    if (typeof known === 'number') return { kind: 'int', value: known };
    return symbolicSize(ctx, x, dim);
  }
  const rank = rankOf(ctx, x, 'self');
  const shape = knownShape(x);
  return { kind: 'list', items: Array.from({ length: rank }, (_, d): ScriptValue => {
    const known = shape?.[d];
    return typeof known === 'number' ? { kind: 'int', value: known } : symbolicSize(ctx, x, d);
  }) };
}

function toInt(ctx: LoweringContext): ScriptValue {
  const value = ctx.arg(0);
  if (value.kind === 'int' || value.kind === 'bool') return { kind: 'int', value: Number(value.value) };
  if (value.kind === 'float') return { kind: 'int', value: Math.trunc(value.value) };
  if (value.kind === 'tensor') {
    const known = knownScalar(value.value);
    if (known !== undefined) return { kind: 'int', value: Math.trunc(known) };
    const asInt = value.dtype === 'int64' ? value : ctx.emit('Cast', [value.value], { to: 7 }, { rank: 0, dtype: 'int64' });
    return { ...asInt, scalarInt: true };
  }
  return ctx.fail(`int() of ${value.kind}`);
}

function toFloat(ctx: LoweringContext): ScriptValue {
  const value = ctx.arg(0);
  if (value.kind === 'int' || value.kind === 'float' || value.kind === 'bool') return { kind: 'float', value: Number(value.value) };
  if (value.kind === 'tensor') return ctx.emit('Cast', [value.value], { to: 1 }, { rank: 0, dtype: 'float32' });
  // float("-inf") is how TorchScript (and modelpass's writer) spells a non-finite constant, e.g. a max-pool's padding.
  if (value.kind === 'str') {
    const text = value.value.trim();
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
    if (special) return { kind: 'float', value: special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity };
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return { kind: 'float', value: Number(text) };
    return ctx.fail(`float() of '${value.value}', which is not a number`);
  }
  return ctx.fail(`float() of ${value.kind}`);
}

function length(ctx: LoweringContext): ScriptValue {
  const value = ctx.arg(0);
  if (value.kind === 'list' || value.kind === 'tuple') return { kind: 'int', value: value.items.length };
  if (value.kind === 'str') return { kind: 'int', value: value.value.length };
  if (value.kind === 'dict') return { kind: 'int', value: value.entries.length };
  return symbolicSize(ctx, ctx.tensor(value, 'self'), 0);
}

/** `torch.numel(x)`: a known int when x's dims are all known, else an int64 Size (a symbolic int). */
function numel(ctx: LoweringContext): ScriptValue {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const dims = knownShape(x);
  if (dims && dims.every((d): d is number => typeof d === 'number')) return { kind: 'int', value: dims.reduce((n, d) => n * d, 1) };
  return { ...ctx.emit('Size', [x.value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
}

/** The most iterations the importer runs while importing (a `while` loop's steps, a `range()`'s items): hostile code cannot hang it. */
export const MAX_IMPORT_ITERATIONS = 100_000;

function range(ctx: LoweringContext): ScriptValue {
  const numbers = Array.from({ length: ctx.argCount }, (_, i) => ctx.int(ctx.arg(i), `range argument ${i}`));
  const [start, stop, step] = numbers.length === 1 ? [0, numbers[0]!, 1] : [numbers[0]!, numbers[1]!, numbers[2] ?? 1];
  if (step === 0) return ctx.fail('range() step must not be zero');
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length > MAX_IMPORT_ITERATIONS) return ctx.fail(`range() of ${length} items is more than the importer unrolls (${MAX_IMPORT_ITERATIONS}): a for loop this long is not imported`);
  const items: ScriptValue[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) items.push({ kind: 'int', value: i });
  return { kind: 'list', items };
}

/** An int argument as an int64 scalar value (known ints become constants). */
function int64Scalar(ctx: LoweringContext, value: ScriptValue, what: string): TensorValue {
  if (value.kind === 'tensor' && value.dtype !== 'int64') return ctx.emit('Cast', [value.value], { to: 7 }, { rank: 0, dtype: 'int64' });
  if (value.kind === 'int') return ctx.scalarConstant('int64', value.value);
  return ctx.tensor(value, what);
}

/** len(range(start, stop, step)) with `step` known: max(0, ceil((stop - start) / step)), folded when the bounds are known. */
export function rangeLength(ctx: LoweringContext, start: ScriptValue, stop: ScriptValue, step: number): ScriptValue {
  if (step === 0) return ctx.fail('range() step must not be zero');
  if (start.kind === 'int' && stop.kind === 'int') return { kind: 'int', value: Math.max(0, Math.ceil((stop.value - start.value) / step)) };
  let span = start.kind === 'int' && start.value === 0 ? int64Scalar(ctx, stop, 'stop') : ctx.emit('Sub', [int64Scalar(ctx, stop, 'stop').value, int64Scalar(ctx, start, 'start').value], {}, { rank: 0, dtype: 'int64' });
  if (step !== 1) {
    // Integer Div truncates toward zero; adding step - sign(step) first makes it the ceiling for spans of the loop's direction (others clamp to 0 below).
    const adjusted = ctx.emit('Add', [span.value, ctx.scalarConstant('int64', step - Math.sign(step)).value], {}, { rank: 0, dtype: 'int64' });
    span = ctx.emit('Div', [adjusted.value, ctx.scalarConstant('int64', step).value], {}, { rank: 0, dtype: 'int64' });
  }
  return { ...ctx.emit('Max', [span.value, ctx.scalarConstant('int64', 0).value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
}

/** `torch.__range_length(lo, hi, step)` / `torch.__derive_index(index, start, step)`: TorchScript's stepped range loops. */
const rangeLengthLowering: AtenLowering = (ctx) => rangeLength(ctx, ctx.arg(0), ctx.arg(1), ctx.int(ctx.arg(2), 'step'));
const deriveIndex: AtenLowering = (ctx) => {
  const [index, start, step] = [ctx.arg(0), ctx.arg(1), ctx.arg(2)];
  const scaled = pythonBinary('*', index, step) ?? { ...ctx.emit('Mul', [int64Scalar(ctx, index, 'index').value, int64Scalar(ctx, step, 'step').value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
  return pythonBinary('+', start, scaled) ?? { ...ctx.emit('Add', [int64Scalar(ctx, start, 'start').value, int64Scalar(ctx, scaled, 'index').value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
};

function dim(ctx: LoweringContext): ScriptValue {
  return { kind: 'int', value: rankOf(ctx, ctx.tensor(ctx.arg(0), 'self'), 'self') };
}

/** How `str.format` shows an argument; a tensor's data is not known at import, so it shows as a placeholder. */
function formatArgument(value: ScriptValue): string {
  switch (value.kind) {
    case 'str':
      return value.value;
    case 'int':
    case 'float':
      return String(value.value);
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'list':
      return `[${value.items.map(formatArgument).join(', ')}]`;
    case 'tuple':
      return `(${value.items.map(formatArgument).join(', ')}${value.items.length === 1 ? ',' : ''})`;
    default:
      return `<${value.kind}>`;
  }
}

/**
 * `aten::format(fmt, *args)`: TorchScript's `"…{}…".format(…)`, as raise messages use it. `{}` and
 * `{N}` take the arguments (a run-time tensor shows as `<tensor>`); `{{`/`}}` are braces; format
 * specs after `:` are ignored (the plain value is shown).
 */
function formatString(ctx: LoweringContext): ScriptValue {
  const template = ctx.arg(0);
  if (template.kind !== 'str') return { kind: 'str', value: '(message not known at import)' };
  const args = Array.from({ length: Math.max(0, ctx.argCount - 1) }, (_, i) => ctx.arg(i + 1));
  let next = 0;
  const value = template.value.replace(/\{\{|\}\}|\{(\d*)(?::[^}]*)?\}/g, (match, index: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    const arg = args[index ? Number(index) : next++];
    return arg ? formatArgument(arg) : match;
  });
  return { kind: 'str', value };
}

function getItem(ctx: LoweringContext): ScriptValue {
  const container = ctx.arg(0);
  const index = ctx.arg(1);
  if (container.kind === 'list' || container.kind === 'tuple') {
    let i = ctx.int(index, 'index');
    if (i < 0) i += container.items.length;
    if (i < 0 || i >= container.items.length) return ctx.fail(`index ${i} out of range for a ${container.kind} of ${container.items.length}`);
    return container.items[i]!;
  }
  if (container.kind === 'dict') {
    const found = container.entries.find(([key]) => pythonEquals(key, index));
    return found ? found[1] : ctx.fail('key not in dict');
  }
  if (container.kind === 'tensor' && index.kind === 'int') {
    return ctx.emit('Gather', [container.value, ctx.scalarConstant('int64', index.value).value], { axis: 0 }, {
      rank: container.rank === undefined ? undefined : container.rank - 1,
      dtype: container.dtype,
    });
  }
  return ctx.fail(`indexing a ${container.kind} with ${index.kind}`);
}

function append(ctx: LoweringContext): ScriptValue {
  const list = ctx.arg(0);
  if (list.kind !== 'list') return ctx.fail('append needs a list');
  if (list.items.length >= MAX_SCRIPT_LIST_ITEMS) return ctx.fail(`append would grow a list past ${MAX_SCRIPT_LIST_ITEMS} items, more than the importer builds`);
  list.items.push(ctx.arg(1));
  return list;
}

/** `torch.copy(list)` / `dict.copy()`: a shallow copy (swin_t's `shift_size = shift_size.copy()`). */
function copyContainer(ctx: LoweringContext): ScriptValue {
  const value = ctx.arg(0);
  if (value.kind === 'list') return { kind: 'list', items: [...value.items] };
  if (value.kind === 'dict') return { kind: 'dict', entries: value.entries.map(([k, v]): [ScriptValue, ScriptValue] => [k, v]) };
  return ctx.fail(`copy() of ${value.kind} (lists and dicts are copied while importing)`);
}

/** `torch._set_item(list, i, v)` / `dict[k] = v`: the container is changed in place, as Python does. */
function setItem(ctx: LoweringContext): ScriptValue {
  const container = ctx.arg(0);
  const index = ctx.arg(1);
  const item = ctx.arg(2);
  if (container.kind === 'list') {
    let i = ctx.int(index, 'index');
    if (i < 0) i += container.items.length;
    if (i < 0 || i >= container.items.length) return ctx.fail(`index ${i} out of range for a list of ${container.items.length}`);
    container.items[i] = item;
    return NONE;
  }
  if (container.kind === 'dict') {
    const found = container.entries.find(([key]) => pythonEquals(key, index));
    if (found) found[1] = item;
    else container.entries.push([index, item]);
    return NONE;
  }
  return ctx.fail(`assigning an item of a ${container.kind}`);
}

/** Python's `sum()` of a list of known numbers; undefined for anything else (a tensor sum lowers as ReduceSum). */
export function pythonSum(value: ScriptValue): ScriptValue | undefined {
  if (value.kind !== 'list' && value.kind !== 'tuple') return undefined;
  let total: ScriptValue = { kind: 'int', value: 0 };
  for (const item of value.items) {
    const next = pythonBinary('+', total, item);
    if (!next) return undefined;
    total = next;
  }
  return total;
}

/** `t.item()`: a one-element tensor as a Python number (known when the tensor is a folded constant). */
function item(ctx: LoweringContext): ScriptValue {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const integral = x.dtype !== undefined && /^u?int/.test(x.dtype);
  const known = knownScalar(x.value);
  if (known !== undefined) return integral ? { kind: 'int', value: known } : x.dtype === 'bool' ? { kind: 'bool', value: known !== 0 } : { kind: 'float', value: known };
  const scalar = ctx.emit('Reshape', [x.value, ctx.int64Vector([])], {}, { rank: 0, dtype: x.dtype });
  return integral ? { ...scalar, scalarInt: true } : scalar;
}

function numToTensor(ctx: LoweringContext): ScriptValue {
  const value = ctx.arg(0);
  if (value.kind === 'tensor') return value;
  if (value.kind === 'int') return { ...ctx.scalarConstant('int64', value.value), scalarInt: true };
  return ctx.tensor(value, 'a');
}

/** An int/bool binary op with Python semantics when known; lowered to `fallback` otherwise. */
function scalarOr(op: string, fallback: AtenLowering): AtenLowering {
  return (ctx) => pythonBinary(op, ctx.arg(0), ctx.arg(1)) ?? fallback(ctx);
}

export const pythonBuiltinLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['size', size],
  ['dim', dim],
  ['len', length],
  ['numel', numel],
  ['builtin_len', length],
  ['builtin_int', toInt],
  ['builtin_float', toFloat],
  // bool(tensor) stays a tensor: the `if`/`while` that reads it reports the data dependence at its location.
  ['builtin_bool', (ctx) => {
    const value = ctx.arg(0);
    if (value.kind !== 'tensor') return { kind: 'bool', value: truthy(value) };
    // A condition on known sizes (`size(x, 2) == 1` with x's shape given) is known: the `if` takes its branch while importing.
    const known = knownScalar(value.value);
    return known === undefined ? value : { kind: 'bool', value: known !== 0 };
  }],
  ['builtin_range', range],
  ['__range_length', rangeLengthLowering],
  ['__derive_index', deriveIndex],
  ['__getitem__', getItem],
  ['append', append],
  ['copy', copyContainer],
  ['_set_item', setItem],
  ['list', (ctx) => {
    const value = ctx.arg(0);
    return value.kind === 'list' || value.kind === 'tuple' ? { kind: 'list', items: [...value.items] } : ctx.fail('list() of a non-list');
  }],
  ['__is__', (ctx) => pythonBinary('is', ctx.arg(0), ctx.arg(1))!],
  ['__isnot__', (ctx) => pythonBinary('is not', ctx.arg(0), ctx.arg(1))!],
  ['__not__', (ctx) => {
    const value = ctx.arg(0);
    if (value.kind !== 'tensor') return { kind: 'bool', value: !truthy(value) };
    const asBool = value.dtype === 'bool' ? value : ctx.emit('Cast', [value.value], { to: 9 }, { rank: value.rank, dtype: 'bool' });
    return ctx.emit('Not', [asBool.value], {}, { rank: value.rank, dtype: 'bool' });
  }],
  ['__contains__', (ctx) => pythonBinary('in', ctx.arg(1), ctx.arg(0)) ?? ctx.fail('`in` on this container')],
  ['format', formatString],
  ['warn', () => NONE],
  // Fused inference fast paths (e.g. _transformer_encoder_layer_fwd) are gated on grad mode: answering
  // "grad enabled, weights require grad" keeps the composite path, whose ops lower one by one.
  ['is_grad_enabled', () => ({ kind: 'bool', value: true })],
  ['prim_requires_grad', () => ({ kind: 'bool', value: true })],
  ['prim_is_cuda', () => ({ kind: 'bool', value: false })],
  ['builtin_str', (ctx) => {
    const value = ctx.arg(0);
    if (value.kind === 'str') return value;
    if (value.kind === 'int' || value.kind === 'float') return { kind: 'str', value: String(value.value) };
    return ctx.fail(`str() of ${value.kind}`);
  }],
  ['all', (ctx) => {
    const list = ctx.arg(0);
    if (list.kind === 'tensor') return tensorAnyAll(ctx, list, 'all');
    if (list.kind !== 'list' && list.kind !== 'tuple') return ctx.fail(`all() of ${list.kind}`);
    return { kind: 'bool', value: list.items.every((item) => (item.kind === 'tensor' ? ctx.fail('all() over tensor values') : truthy(item))) };
  }],
  ['any', (ctx) => {
    const list = ctx.arg(0);
    if (list.kind === 'tensor') return tensorAnyAll(ctx, list, 'any');
    if (list.kind !== 'list' && list.kind !== 'tuple') return ctx.fail(`any() of ${list.kind}`);
    return { kind: 'bool', value: list.items.some((item) => (item.kind === 'tensor' ? ctx.fail('any() over tensor values') : truthy(item))) };
  }],
  ['find', (ctx) => {
    const haystack = ctx.arg(0);
    const needle = ctx.arg(1);
    if (haystack.kind !== 'str' || needle.kind !== 'str') return ctx.fail('find() needs known strings');
    return { kind: 'int', value: haystack.value.indexOf(needle.value) };
  }],
  ['is_scripting', () => ({ kind: 'bool', value: true })],
  ['_is_tracing', () => ({ kind: 'bool', value: false })],
  ['prim_NumToTensor', numToTensor],
  ['item', item],
  // Imported graphs hold dense tensors only: nested-tensor fast paths fold away.
  ['prim_is_nested', () => ({ kind: 'bool', value: false })],
  ['is_nested', () => ({ kind: 'bool', value: false })],
  ['is_autocast_enabled', () => ({ kind: 'bool', value: false })],
  ['is_autocast_cpu_enabled', () => ({ kind: 'bool', value: false })],
  ['prim_unchecked_cast', (ctx) => ctx.arg(0)],
  ['prim_data', (ctx) => ctx.arg(0)],
  ['prim_device', () => ({ kind: 'str', value: 'cpu' })],
  ['prim_dtype', (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    // An unknown dtype is taken as float32 (graph inputs default to it).
    const code = torchScalarTypeCode(x.dtype ?? 'float32');
    return code === undefined ? ctx.fail(`dtype ${x.dtype ?? 'unknown'} has no torch ScalarType`) : { kind: 'int', value: code };
  }],
  ['__and__', scalarOr('&', bitwise('And'))],
  ['__or__', scalarOr('|', bitwise('Or'))],
  ['__xor__', scalarOr('^', bitwise('Xor'))],
];
