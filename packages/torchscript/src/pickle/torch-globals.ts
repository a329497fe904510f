/**
 * The allow-list: every global a torch pickle may name, and what calling it means as data. A
 * global not listed here is refused where it is named (GLOBAL / STACK_GLOBAL), so nothing a
 * pickle names is ever looked up, imported or called.
 */
import type { DType } from '@modelpass/ir';
import type { PickleTensor, PickleValue } from './pickle-value.js';

/** Storage classes (`torch.FloatStorage`, …) by element type. */
export const STORAGE_DTYPES: ReadonlyMap<string, DType> = new Map<string, DType>([
  ['FloatStorage', 'float32'],
  ['DoubleStorage', 'float64'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
  ['ComplexFloatStorage', 'complex64'],
  ['ComplexDoubleStorage', 'complex128'],
]);

/** `torch.<name>` dtype objects a pickle may reference. */
const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int',
  'int16', 'short', 'int8', 'uint8', 'bool', 'complex64', 'complex128',
]);

/** Thrown by a call handler for bad arguments; the reader adds the file and position. */
export class PickleCallError extends Error {}

export type CallHandler = (args: PickleValue[]) => PickleValue;

function int(value: PickleValue | undefined, what: string): number {
  if (value?.kind === 'int') return Number(value.value);
  if (value?.kind === 'bool') return value.value ? 1 : 0;
  throw new PickleCallError(`${what} must be an int, got ${value?.kind ?? 'nothing'}`);
}

function intTuple(value: PickleValue | undefined, what: string): number[] {
  if (value?.kind !== 'tuple' && value?.kind !== 'list') throw new PickleCallError(`${what} must be a tuple of ints, got ${value?.kind ?? 'nothing'}`);
  return value.items.map((v, i) => int(v, `${what}[${i}]`));
}

function rebuildTensor(args: PickleValue[]): PickleTensor {
  const storage = args[0];
  if (storage?.kind !== 'storage') throw new PickleCallError(`_rebuild_tensor_v2's first argument must be a storage, got ${storage?.kind ?? 'nothing'}`);
  const shape = intTuple(args[2], 'size');
  const strides = intTuple(args[3], 'stride');
  if (shape.length !== strides.length) throw new PickleCallError(`size has ${shape.length} dims but stride has ${strides.length}`);
  return {
    kind: 'tensor',
    storageKey: storage.key,
    ...(storage.record !== `data/${storage.key}` ? { storageRecord: storage.record } : {}),
    dtype: storage.dtype,
    offset: int(args[1], 'storage_offset'),
    shape,
    strides,
    requiresGrad: args[4]?.kind === 'bool' ? args[4].value : false,
    device: storage.device,
    storageElements: storage.elements,
  };
}

function asParameter(args: PickleValue[]): PickleValue {
  const data = args[0];
  if (data?.kind !== 'tensor') throw new PickleCallError(`_rebuild_parameter's first argument must be a tensor, got ${data?.kind ?? 'nothing'}`);
  return { ...data, parameter: true, requiresGrad: args[1]?.kind === 'bool' ? args[1].value : data.requiresGrad };
}

function typedList(elementType: 'int' | 'float' | 'bool' | 'tensor'): CallHandler {
  return (args) => {
    const list = args[0];
    if (list?.kind !== 'list') throw new PickleCallError(`build_${elementType}list expects a list, got ${list?.kind ?? 'nothing'}`);
    return { kind: 'typed-list', elementType, items: list.items };
  };
}

function refuse(what: string): CallHandler {
  return () => {
    throw new PickleCallError(`${what} is not supported`);
  };
}

/** Callables (targets of REDUCE / NEWOBJ) by `module.name`. */
export const ALLOWED_CALLS: ReadonlyMap<string, CallHandler> = new Map<string, CallHandler>([
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_tensor', rebuildTensor],
  ['torch._utils._rebuild_parameter', asParameter],
  ['torch._utils._rebuild_parameter_with_state', asParameter],
  ['torch._utils._rebuild_qtensor', refuse('a quantized tensor (torch._utils._rebuild_qtensor)')],
  ['torch._utils._rebuild_sparse_tensor', refuse('a sparse tensor (torch._utils._rebuild_sparse_tensor)')],
  ['collections.OrderedDict', (args) => ({ kind: 'dict', entries: dictEntriesOf(args[0]), ordered: true })],
  ['builtins.dict', (args) => ({ kind: 'dict', entries: dictEntriesOf(args[0]) })],
  ['torch.jit._pickle.build_intlist', typedList('int')],
  ['torch.jit._pickle.build_doublelist', typedList('float')],
  ['torch.jit._pickle.build_boollist', typedList('bool')],
  ['torch.jit._pickle.build_tensorlist', typedList('tensor')],
  ['torch.jit._pickle.build_tensor_from_id', refuse('a tensor by id (torch.jit._pickle.build_tensor_from_id)')],
  ['torch.jit._pickle.restore_type_tag', (args) => args[0] ?? { kind: 'none' }],
  ['torch.Size', (args) => ({ kind: 'tuple', items: intTuple(args[0] ?? { kind: 'tuple', items: [] }, 'torch.Size').map((v) => ({ kind: 'int', value: BigInt(v) })) })],
  ['torch.device', (args) => ({ kind: 'object', className: 'torch.device', state: { kind: 'tuple', items: args } })],
  [
    '_codecs.encode',
    (args) => {
      const [text, encoding] = args;
      if (text?.kind !== 'string' || encoding?.kind !== 'string' || !['latin1', 'latin-1'].includes(encoding.value)) {
        throw new PickleCallError('_codecs.encode is allowed only as (str, "latin1"), the way protocol 2 writes bytes');
      }
      return { kind: 'bytes', value: Uint8Array.from(text.value, (c) => c.charCodeAt(0) & 0xff) };
    },
  ],
]);

function dictEntriesOf(value: PickleValue | undefined): Array<[PickleValue, PickleValue]> {
  if (value === undefined) return [];
  if (value.kind === 'dict') return [...value.entries];
  if (value.kind === 'list' || value.kind === 'tuple') {
    return value.items.map((item) => {
      if ((item.kind === 'tuple' || item.kind === 'list') && item.items.length === 2) return [item.items[0]!, item.items[1]!];
      throw new PickleCallError('OrderedDict items must be (key, value) pairs');
    });
  }
  throw new PickleCallError(`a dict cannot be built from ${value.kind}`);
}

/** What a named global is, or undefined when it is not allowed. */
export type GlobalMeaning =
  | { kind: 'call'; qualifiedName: string; handler: CallHandler }
  | { kind: 'storage-type'; dtype: DType }
  | { kind: 'class'; className: string }
  | { kind: 'value'; value: PickleValue };

export function resolveGlobal(module: string, name: string): GlobalMeaning | undefined {
  const qualified = `${module}.${name}`;
  const handler = ALLOWED_CALLS.get(qualified);
  if (handler) return { kind: 'call', qualifiedName: qualified, handler };
  if (module === 'torch' && STORAGE_DTYPES.has(name)) return { kind: 'storage-type', dtype: STORAGE_DTYPES.get(name)! };
  if (module === 'torch' && TORCH_DTYPE_NAMES.has(name)) return { kind: 'value', value: { kind: 'global', module, name } };
  // TorchScript classes and modules are data here: an inert object with a class name and a state.
  if ((module === '__torch__' || module.startsWith('__torch__.')) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return { kind: 'class', className: qualified };
  }
  return undefined;
}
