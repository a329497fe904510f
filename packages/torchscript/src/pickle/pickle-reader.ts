/**
 * A pickle reader that never executes anything: opcodes build an inert `PickleValue` tree; every
 * global is resolved against the allow-list in `torch-globals.ts` and an unknown one is refused
 * by name where it appears. Protocols 2 to 5, binary opcodes (what torch and `pickle` write).
 */
import type { ModelpassError } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { PickleStorage, PickleValue } from './pickle-value.js';
import { PickleCallError, resolveGlobal, type GlobalMeaning } from './torch-globals.js';

export interface PickleReadOptions {
  /** Named in errors (e.g. `model.pt:model/data.pkl`). */
  source: string;
  /** Most opcodes to run (default 50 million). */
  maxOps?: number;
  /** The archive folder storages live in: `data` (default; data.pkl) or `constants` (constants.pkl). */
  storageFolder?: string;
}

type Mark = { kind: '$mark' };
type GlobalRef = { kind: '$global'; module: string; name: string; meaning: GlobalMeaning };
type Item = PickleValue | Mark | GlobalRef;
const MARK: Mark = { kind: '$mark' };
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads one pickle from `bytes`. */
export function readPickle(bytes: Uint8Array, options: PickleReadOptions): PickleValue {
  return new PickleReader(bytes, options).run();
}

/** A module torch.save(model) pickles classes from: torch.nn's layers, torchvision's models, a script's own (__main__). */
function pickledModuleClass(module: string): boolean {
  return /^(torch\.nn|torchvision|__main__)(\.|$)/.test(module);
}

class PickleReader {
  private at = 0;
  private readonly stack: Item[] = [];
  private readonly memo = new Map<number, Item>();
  private readonly view: DataView;
  private opStart = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: PickleReadOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(reason: string, extra: { expected?: string; hint?: string } = {}): ModelpassError {
    return torchscriptError({ reason: `${this.options.source}: pickle byte ${this.opStart}: ${reason}`, code: 'torchscript/pickle', ...extra });
  }

  private need(n: number): number {
    if (n < 0 || this.at + n > this.bytes.byteLength) throw this.fail('the pickle ends in the middle of an opcode (truncated)');
    const start = this.at;
    this.at += n;
    return start;
  }
  private u8(): number {
    return this.bytes[this.need(1)]!;
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private u64(): number {
    const value = this.view.getBigUint64(this.need(8), true);
    if (value > BigInt(this.bytes.byteLength)) throw this.fail(`a length of ${value} bytes is longer than the pickle`);
    return Number(value);
  }
  private take(n: number): Uint8Array {
    const start = this.need(n);
    return this.bytes.subarray(start, start + n);
  }
  private text(n: number): string {
    const bytes = this.take(n); // a length past the end is 'truncated', not a decoding error
    try {
      return decoder.decode(bytes);
    } catch {
      throw this.fail('a string is not valid UTF-8');
    }
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.at);
    if (end < 0) throw this.fail('a GLOBAL line has no end (truncated)');
    const value = Buffer.from(this.bytes.subarray(this.at, end)).toString('latin1');
    this.at = end + 1;
    return value;
  }

  private pop(): Item {
    const item = this.stack.pop();
    if (item === undefined) throw this.fail('the stack is empty');
    return item;
  }
  private popValue(): PickleValue {
    return this.value(this.pop());
  }
  private value(item: Item): PickleValue {
    if (item.kind === '$mark') throw this.fail('a MARK was used as a value');
    if (item.kind === '$global') {
      const m = item.meaning;
      if (m.kind === 'value') return m.value;
      return { kind: 'global', module: item.module, name: item.name };
    }
    return item;
  }
  private top(): Item {
    const item = this.stack[this.stack.length - 1];
    if (item === undefined) throw this.fail('the stack is empty');
    return item;
  }
  private popMark(): PickleValue[] {
    const items: Item[] = [];
    for (;;) {
      const item = this.stack.pop();
      if (item === undefined) throw this.fail('no MARK on the stack');
      if (item.kind === '$mark') break;
      items.push(item);
    }
    return items.reverse().map((i) => this.value(i));
  }

  private global(module: string, name: string): GlobalRef {
    const meaning = resolveGlobal(module, name);
    if (!meaning) {
      throw this.fail(`global '${module}.${name}' is not allowed: loading it could run code, so this reader refuses it (nothing was executed)`, {
        expected: 'only the globals torch writes (torch._utils._rebuild_tensor_v2, torch.*Storage, collections.OrderedDict, __torch__.* classes, torch.jit._pickle.*)',
        ...(pickledModuleClass(module) ? { hint: `'${module}.${name}' is a Python class: the file looks like torch.save(model), which stores the module's classes by name, not its code; save a TorchScript archive instead, torch.jit.save(torch.jit.script(model), PATH) (or torch.jit.trace), or export ONNX with torch.onnx.export` } : {}),
      });
    }
    return { kind: '$global', module, name, meaning };
  }

  private call(callee: Item, args: PickleValue, how: string): PickleValue {
    if (callee.kind !== '$global') throw this.fail(`${how} of a ${callee.kind} (only allowed globals can be called)`);
    const argList = args.kind === 'tuple' ? args.items : [];
    if (args.kind !== 'tuple') throw this.fail(`${how} arguments must be a tuple, got ${args.kind}`);
    const m = callee.meaning;
    if (m.kind === 'class') return { kind: 'object', className: m.className, state: { kind: 'none' } };
    if (m.kind !== 'call') throw this.fail(`global '${callee.module}.${callee.name}' cannot be called`);
    try {
      return m.handler(argList);
    } catch (cause) {
      if (cause instanceof PickleCallError) throw this.fail(`${m.qualifiedName}: ${cause.message}`);
      throw cause;
    }
  }

  private persistent(pid: PickleValue): PickleStorage {
    if (pid.kind !== 'tuple' || pid.items.length < 5) throw this.fail(`a persistent id must be ('storage', type, key, device, numel), got ${pid.kind}`);
    const [tag, type, key, device, numel] = pid.items;
    if (tag?.kind !== 'string' || tag.value !== 'storage') throw this.fail("a persistent id must start with 'storage'");
    if (type?.kind !== 'global' || type.module !== 'torch') throw this.fail('a persistent id must name a torch.*Storage type');
    const meaning = resolveGlobal(type.module, type.name);
    if (meaning?.kind !== 'storage-type') throw this.fail(`'torch.${type.name}' is not a storage type`);
    if (key?.kind !== 'string' || !/^[A-Za-z0-9_]+$/.test(key.value)) throw this.fail('a storage key must be a plain name (letters, digits, _)');
    if (device?.kind !== 'string') throw this.fail('a storage device must be a string');
    if (numel?.kind !== 'int' || numel.value < 0n) throw this.fail(`storage '${key.value}': its size must be a non-negative int, got ${numel?.kind === 'int' ? numel.value : numel?.kind}`);
    if (numel.value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.fail(`storage '${key.value}' declares ${numel.value} elements, more than any file holds`, { expected: `at most 2^53 - 1 elements (the record's bytes bound it further)` });
    }
    return { kind: 'storage', key: key.value, record: `${this.options.storageFolder ?? 'data'}/${key.value}`, dtype: meaning.dtype, device: device.value, elements: Number(numel.value) };
  }

  run(): PickleValue {
    const maxOps = this.options.maxOps ?? 50_000_000;
    let ops = 0;
    const s = this.stack;
    for (;;) {
      if (++ops > maxOps) throw this.fail(`more than ${maxOps} opcodes`, { expected: `at most ${maxOps} opcodes` });
      this.opStart = this.at;
      if (this.at >= this.bytes.byteLength) throw this.fail('the pickle ends without a STOP opcode (truncated)');
      const op = this.u8();
      switch (op) {
        case 0x80: { // PROTO
          const protocol = this.u8();
          if (protocol < 2 || protocol > 5) throw this.fail(`pickle protocol ${protocol} is not supported`, { expected: 'protocol 2 to 5' });
          break;
        }
        case 0x95: this.need(8); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          const result = this.popValue();
          return result;
        }
        case 0x28: s.push(MARK); break;
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: s.push(this.top()); break; // DUP
        case 0x4e: s.push({ kind: 'none' }); break;
        case 0x88: s.push({ kind: 'bool', value: true }); break;
        case 0x89: s.push({ kind: 'bool', value: false }); break;
        case 0x4b: s.push({ kind: 'int', value: BigInt(this.u8()) }); break; // BININT1
        case 0x4d: s.push({ kind: 'int', value: BigInt(this.u16()) }); break; // BININT2
        case 0x4a: s.push({ kind: 'int', value: BigInt(this.view.getInt32(this.need(4), true)) }); break; // BININT
        case 0x8a: s.push({ kind: 'int', value: this.long(this.u8()) }); break; // LONG1
        case 0x8b: { // LONG4
          const n = this.u32();
          if (n > 64) throw this.fail(`a ${n}-byte integer is too large`);
          s.push({ kind: 'int', value: this.long(n) });
          break;
        }
        case 0x47: s.push({ kind: 'float', value: this.view.getFloat64(this.need(8), false) }); break; // BINFLOAT
        case 0x58: s.push({ kind: 'string', value: this.text(this.u32()) }); break; // BINUNICODE
        case 0x8c: s.push({ kind: 'string', value: this.text(this.u8()) }); break; // SHORT_BINUNICODE
        case 0x8d: s.push({ kind: 'string', value: this.text(this.u64()) }); break; // BINUNICODE8
        case 0x55: s.push({ kind: 'string', value: Buffer.from(this.take(this.u8())).toString('latin1') }); break; // SHORT_BINSTRING
        case 0x54: s.push({ kind: 'string', value: Buffer.from(this.take(this.u32())).toString('latin1') }); break; // BINSTRING
        case 0x43: s.push({ kind: 'bytes', value: this.take(this.u8()).slice() }); break; // SHORT_BINBYTES
        case 0x42: s.push({ kind: 'bytes', value: this.take(this.u32()).slice() }); break; // BINBYTES
        case 0x8e: case 0x96: s.push({ kind: 'bytes', value: this.take(this.u64()).slice() }); break; // BINBYTES8, BYTEARRAY8
        case 0x29: s.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x74: s.push({ kind: 'tuple', items: this.popMark() }); break; // TUPLE
        case 0x85: case 0x86: case 0x87: { // TUPLE1..3
          const n = op - 0x84;
          const items: PickleValue[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.popValue());
          s.push({ kind: 'tuple', items });
          break;
        }
        case 0x5d: s.push({ kind: 'list', items: [] }); break; // EMPTY_LIST
        case 0x6c: s.push({ kind: 'list', items: this.popMark() }); break; // LIST
        case 0x61: { // APPEND
          const item = this.popValue();
          this.listAt(this.top()).push(item);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          this.listAt(this.top()).push(...items);
          break;
        }
        case 0x7d: s.push({ kind: 'dict', entries: [] }); break; // EMPTY_DICT
        case 0x64: { // DICT
          const items = this.popMark();
          s.push({ kind: 'dict', entries: pairs(items, () => this.fail('DICT needs key/value pairs')) });
          break;
        }
        case 0x73: { // SETITEM
          const value = this.popValue();
          const key = this.popValue();
          this.dictAt(this.top()).push([key, value]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          this.dictAt(this.top()).push(...pairs(items, () => this.fail('SETITEMS needs key/value pairs')));
          break;
        }
        case 0x8f: s.push({ kind: 'list', items: [] }); break; // EMPTY_SET (kept as a list)
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          this.listAt(this.top()).push(...items);
          break;
        }
        case 0x91: s.push({ kind: 'tuple', items: this.popMark() }); break; // FROZENSET (as a tuple)
        case 0x70: throw this.fail('text-mode PUT (protocol 0) is not supported');
        case 0x67: throw this.fail('text-mode GET (protocol 0) is not supported');
        case 0x71: this.memo.set(this.u8(), this.top()); break; // BINPUT
        case 0x72: this.memo.set(this.u32(), this.top()); break; // LONG_BINPUT
        case 0x94: this.memo.set(this.memo.size, this.top()); break; // MEMOIZE
        case 0x68: s.push(this.memoGet(this.u8())); break; // BINGET
        case 0x6a: s.push(this.memoGet(this.u32())); break; // LONG_BINGET
        case 0x63: { // GLOBAL
          const module = this.line();
          const name = this.line();
          s.push(this.global(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.popValue();
          const module = this.popValue();
          if (module.kind !== 'string' || name.kind !== 'string') throw this.fail('STACK_GLOBAL needs two strings');
          s.push(this.global(module.value, name.value));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.popValue();
          const callee = this.pop();
          s.push(this.call(callee, args, 'REDUCE'));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.popValue();
          const cls = this.pop();
          s.push(this.call(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          this.popValue(); // kwargs
          const args = this.popValue();
          const cls = this.pop();
          s.push(this.call(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case 0x62: { // BUILD
          const state = this.popValue();
          const target = this.top();
          if (target.kind === 'object') target.state = state;
          else if (target.kind === 'dict') target.state = state;
          else if (target.kind === 'tensor') { /* tensor state (e.g. hooks) carries nothing we use */ }
          else throw this.fail(`BUILD on a ${target.kind} is not supported`);
          break;
        }
        case 0x51: { // BINPERSID
          s.push(this.persistent(this.popValue()));
          break;
        }
        case 0x50:
          // 'P' is also how a zip starts ('PK\x03\x04'): an archive stored where a pickle belongs is said so.
          if (this.opStart === 0 && this.bytes[1] === 0x4b && this.bytes[2] === 0x03 && this.bytes[3] === 0x04) {
            throw this.fail('this record is a zip archive (nested inside the archive), not a pickle', { expected: 'a pickle (protocol 2 or later, starting with PROTO 0x80)' });
          }
          throw this.fail('text-mode PERSID is not supported', { expected: 'BINPERSID' });
        case 0x69: case 0x6f: throw this.fail(`opcode ${op === 0x69 ? 'INST' : 'OBJ'} (old-style object creation) is not allowed`);
        case 0x82: case 0x83: case 0x84: throw this.fail('extension-registry opcodes (EXT1/2/4) are not allowed');
        case 0x97: case 0x98: throw this.fail('out-of-band buffers (protocol 5) are not supported');
        default:
          throw this.fail(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  private long(n: number): bigint {
    const bytes = this.take(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (n > 0 && bytes[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
    return value;
  }
  private memoGet(index: number): Item {
    const item = this.memo.get(index);
    if (item === undefined) throw this.fail(`memo entry ${index} was never stored`);
    return item;
  }
  private listAt(item: Item): PickleValue[] {
    if (item.kind === 'list' || item.kind === 'typed-list') return item.items;
    throw this.fail(`APPEND to a ${item.kind}`);
  }
  private dictAt(item: Item): Array<[PickleValue, PickleValue]> {
    if (item.kind === 'dict') return item.entries;
    throw this.fail(`SETITEM on a ${item.kind}`);
  }
}

function pairs(items: PickleValue[], fail: () => Error): Array<[PickleValue, PickleValue]> {
  if (items.length % 2 !== 0) throw fail();
  const out: Array<[PickleValue, PickleValue]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}
