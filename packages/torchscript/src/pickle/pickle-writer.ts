/**
 * A protocol-2 pickle writer that emits only opcodes torch's own unpickler accepts: PROTO, MARK,
 * NONE, NEWTRUE/NEWFALSE, BININT1/BININT2/BININT, LONG1 (always 8 bytes), BINFLOAT, BINUNICODE,
 * EMPTY_TUPLE/TUPLE/TUPLE1-3, EMPTY_LIST/APPENDS, EMPTY_DICT/SETITEMS, GLOBAL, REDUCE, NEWOBJ,
 * BUILD, BINPERSID, STOP. Tensors become `torch._utils._rebuild_tensor_v2` calls over a storage
 * persistent id, as `torch.jit.save` writes them.
 */
import type { DType } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { PickleTensor, PickleValue } from './pickle-value.js';
import { STORAGE_DTYPES } from './torch-globals.js';

const STORAGE_BY_DTYPE = new Map<DType, string>([...STORAGE_DTYPES].map(([name, dtype]) => [dtype, name]));

class ByteSink {
  private chunks: Uint8Array[] = [];
  private current = new Uint8Array(4096);
  private used = 0;
  byte(value: number): void {
    if (this.used === this.current.length) this.flush();
    this.current[this.used++] = value;
  }
  bytes(values: Uint8Array): void {
    for (const v of values) this.byte(v);
  }
  private flush(): void {
    this.chunks.push(this.current.subarray(0, this.used));
    this.current = new Uint8Array(4096);
    this.used = 0;
  }
  result(): Uint8Array {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}

/** Serializes `value` as a protocol-2 pickle torch can read. */
export function writePickle(value: PickleValue): Uint8Array {
  const out = new ByteSink();
  emitted = 0;
  out.byte(0x80);
  out.byte(2);
  emit(out, value);
  out.byte(0x2e);
  return out.result();
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function emitGlobal(out: ByteSink, module: string, name: string): void {
  out.byte(0x63);
  out.bytes(Buffer.from(`${module}\n${name}\n`, 'latin1'));
}

function emitInt(out: ByteSink, value: bigint): void {
  if (value >= 0n && value < 256n) {
    out.byte(0x4b);
    out.byte(Number(value));
  } else if (value >= 0n && value < 65536n) {
    out.byte(0x4d);
    out.byte(Number(value) & 0xff);
    out.byte(Number(value) >> 8);
  } else if (value >= -(2n ** 31n) && value < 2n ** 31n) {
    out.byte(0x4a);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, Number(value), true);
    out.bytes(b);
  } else if (value >= -(2n ** 63n) && value < 2n ** 63n) {
    out.byte(0x8a);
    out.byte(8);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, value, true);
    out.bytes(b);
  } else {
    throw torchscriptError({ reason: `integer ${value} does not fit in 64 bits; TorchScript ints are int64`, code: 'torchscript/pickle-write' });
  }
}

function emitString(out: ByteSink, value: string): void {
  const encoded = Buffer.from(value, 'utf8');
  out.byte(0x58);
  out.bytes(u32(encoded.length));
  out.bytes(encoded);
}

function emitTuple(out: ByteSink, items: readonly PickleValue[]): void {
  if (items.length === 0) {
    out.byte(0x29);
    return;
  }
  if (items.length <= 3) {
    for (const item of items) emit(out, item);
    out.byte(0x84 + items.length);
    return;
  }
  out.byte(0x28);
  for (const item of items) emit(out, item);
  out.byte(0x74);
}

function emitList(out: ByteSink, items: readonly PickleValue[]): void {
  out.byte(0x5d);
  if (items.length === 0) return;
  out.byte(0x28);
  for (const item of items) emit(out, item);
  out.byte(0x65);
}

function emitTensor(out: ByteSink, t: PickleTensor): void {
  const storage = STORAGE_BY_DTYPE.get(t.dtype);
  if (!storage) throw torchscriptError({ reason: `a ${t.dtype} tensor has no torch storage type`, code: 'torchscript/pickle-write' });
  const elements = t.storageElements ?? t.shape.reduce((a, b) => a * b, 1);
  emitGlobal(out, 'torch._utils', '_rebuild_tensor_v2');
  out.byte(0x28); // MARK: the argument tuple
  // persistent id ('storage', torch.<T>Storage, key, device, numel)
  out.byte(0x28);
  emitString(out, 'storage');
  emitGlobal(out, 'torch', storage);
  emitString(out, t.storageKey);
  emitString(out, t.device ?? 'cpu');
  emitInt(out, BigInt(elements));
  out.byte(0x74);
  out.byte(0x51); // BINPERSID
  emitInt(out, BigInt(t.offset));
  emitTuple(out, t.shape.map((d) => ({ kind: 'int', value: BigInt(d) })));
  emitTuple(out, t.strides.map((d) => ({ kind: 'int', value: BigInt(d) })));
  emit(out, { kind: 'bool', value: t.requiresGrad });
  emitGlobal(out, 'collections', 'OrderedDict');
  out.byte(0x29);
  out.byte(0x52); // OrderedDict() for backward hooks
  out.byte(0x74);
  out.byte(0x52); // REDUCE
}

/** Values written so far: a tree that shares nodes is written out in full, so it is bounded. */
let emitted = 0;
const MAX_VALUES = 10_000_000;

function emit(out: ByteSink, value: PickleValue): void {
  if (++emitted > MAX_VALUES) {
    throw torchscriptError({ reason: `the pickle would hold more than ${MAX_VALUES} values (shared containers are written out in full)`, code: 'torchscript/pickle-write' });
  }
  switch (value.kind) {
    case 'none':
      out.byte(0x4e);
      return;
    case 'bool':
      out.byte(value.value ? 0x88 : 0x89);
      return;
    case 'int':
      emitInt(out, value.value);
      return;
    case 'float': {
      out.byte(0x47);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value.value, false);
      out.bytes(b);
      return;
    }
    case 'string':
      emitString(out, value.value);
      return;
    case 'tuple':
      emitTuple(out, value.items);
      return;
    case 'list':
      emitList(out, value.items);
      return;
    case 'typed-list': {
      const builder = { int: 'build_intlist', float: 'build_doublelist', bool: 'build_boollist', tensor: 'build_tensorlist' }[value.elementType];
      emitGlobal(out, 'torch.jit._pickle', builder);
      emitList(out, value.items);
      out.byte(0x85);
      out.byte(0x52);
      return;
    }
    case 'dict':
      if (value.ordered) {
        emitGlobal(out, 'collections', 'OrderedDict');
        out.byte(0x29);
        out.byte(0x52);
      } else {
        out.byte(0x7d);
      }
      if (value.entries.length > 0) {
        out.byte(0x28);
        for (const [k, v] of value.entries) {
          emit(out, k);
          emit(out, v);
        }
        out.byte(0x75);
      }
      if (value.state !== undefined) {
        emit(out, value.state);
        out.byte(0x62); // BUILD: attributes of the dict object (e.g. a state dict's _metadata)
      }
      return;
    case 'tensor':
      if (!value.parameter) {
        emitTensor(out, value);
        return;
      }
      // torch._utils._rebuild_parameter(data, requires_grad, OrderedDict()), as torch.save writes it
      emitGlobal(out, 'torch._utils', '_rebuild_parameter');
      out.byte(0x28);
      emitTensor(out, { ...value, requiresGrad: false });
      out.byte(value.requiresGrad ? 0x88 : 0x89);
      emitGlobal(out, 'collections', 'OrderedDict');
      out.byte(0x29);
      out.byte(0x52);
      out.byte(0x74);
      out.byte(0x52);
      return;
    case 'object': {
      const dot = value.className.lastIndexOf('.');
      if (dot <= 0) throw torchscriptError({ reason: `class name '${value.className}' needs a module (e.g. '__torch__.Model')`, code: 'torchscript/pickle-write' });
      emitGlobal(out, value.className.slice(0, dot), value.className.slice(dot + 1));
      out.byte(0x29);
      out.byte(0x81); // NEWOBJ
      emit(out, value.state);
      out.byte(0x62); // BUILD
      return;
    }
    case 'global':
      emitGlobal(out, value.module, value.name);
      return;
    case 'bytes':
    case 'storage':
      throw torchscriptError({ reason: `a pickle ${value.kind} value cannot be written into a TorchScript archive`, code: 'torchscript/pickle-write' });
  }
}
