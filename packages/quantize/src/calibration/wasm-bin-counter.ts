/**
 * Counting the in-graph histogram's int16 bin indices in WebAssembly (issue 9, s15): the same counts
 * as `countBinIndices` (index v counts at v & (length − 1)), about twice as fast.
 *
 * Why: the JavaScript loop does one table increment per index, and on a Relu output half the indices
 * are 0, so consecutive increments hit the same counter and each waits for the previous store (~1.3
 * ns per index here). The WebAssembly loop reads 8 indices per 16-byte SIMD load, masks and scales
 * them to byte offsets in two vector operations, and increments two tables alternately (indices at even
 * positions in one, odd in the other), which halves that wait; the tables are added at the end. On
 * 1.15 M indices (the size of a fashion-resnet run of 8 samples, half of them 0): 0.64 ms plus 0.16 ms to copy them into the
 * module's memory, against 1.5–1.6 ms for `countBinIndices` (s15).
 *
 * The module is assembled here from its instructions (495 bytes; no toolchain, no
 * generated file to keep in step). It needs WebAssembly SIMD (Node ≥ 16.4); where it does not
 * validate, `WasmBinCounter.create` returns undefined and callers count in JavaScript.
 *
 * Memory layout: per tensor two tables of `length` int32 counts, one after the other; then one data
 * region the indices of the tensor being counted are copied into (grown to the largest run seen).
 *
 * A calibration (s16) keeps each tensor's counts in its tables from run to run (`add`) while the
 * tensor's width stays, and reads them back once (`take`: folded, handed on, cleared) instead of
 * clearing, folding and reading 2·4,096 counts per tensor and run; and a load of eight 0 indices
 * (Relu zeros come in runs) is counted with one test instead of eight increments of one counter.
 */

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (text: string): number[] => [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
const vector = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: readonly number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

const I32 = 0x7f;
const V128 = 0x7b;
/** The instructions used (WebAssembly 2.0 core and SIMD opcodes). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  and: [0x71],
  shl: [0x74],
  geU: [0x4f],
  /** i32.load / i32.store with 4-byte alignment; i32.load16_u with 2-byte alignment. */
  load: [0x28, 2, 0],
  store: [0x36, 2, 0],
  load16U: [0x2f, 1, 0],
  eqz: [0x45],
  block: [0x02, 0x40],
  if: [0x04, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  end: [0x0b],
  v128Load: [0xfd, 0x00, 4, 0],
  v128Store: [0xfd, 0x0b, 4, 0],
  i32x4Splat: [0xfd, 0x11],
  i32x4ExtractLane: (lane: number) => [0xfd, 0x1b, lane],
  v128And: [0xfd, ...uleb(0x4e)],
  v128AnyTrue: [0xfd, ...uleb(0x53)],
  i32x4Shl: [0xfd, ...uleb(0xab)],
  i32x4ShrU: [0xfd, ...uleb(0xad)],
  i32x4Add: [0xfd, ...uleb(0xae)],
};

/** One function body: its locals (count, type) and code. */
function body(locals: readonly [number, number][], code: readonly number[][]): number[] {
  const bytes = [...vector(locals.map(([count, type]) => [...uleb(count), type])), ...code.flat(), 0x0b];
  return [...uleb(bytes.length), ...bytes];
}

/** Increments the int32 at the byte address on the stack: (addr) → (). Uses local `scratch`. */
const increment = (scratch: number) => [op.tee(scratch), op.get(scratch), op.load, op.i32(1), op.add, op.store];

/**
 * count(p, n, tables, mask): for each of the n int16 indices at byte address p (4-byte aligned),
 * adds 1 to the int32 at index & mask of the first table (even positions: the low half of each
 * 32-bit word) or of the second, 4·(mask + 1) bytes further (odd positions), so consecutive
 * increments alternate tables; eight indices that are all 0 are counted in a local (one test per
 * load instead of eight increments of one counter), added to the first table's bin 0 at the end.
 * Locals: 4 end, 5 vectorEnd, 6 address (i32); 7 words, 8 mask, 9 first table, 10 second table,
 * 11 even addresses, 12 odd addresses (v128); 13 zeros (i32).
 */
const COUNT = body([[3, I32], [6, V128], [1, I32]], [
  op.get(0), op.get(1), op.i32(1), op.shl, op.add, op.set(4),
  op.get(0), op.get(1), op.i32(-8), op.and, op.i32(1), op.shl, op.add, op.set(5),
  op.get(3), op.i32x4Splat, op.set(8),
  op.get(2), op.i32x4Splat, op.set(9),
  op.get(2), op.get(3), op.i32(1), op.add, op.i32(2), op.shl, op.add, op.i32x4Splat, op.set(10),
  op.block, op.loop,
  op.get(0), op.get(5), op.geU, op.brIf(1),
  op.get(0), op.v128Load, op.set(7),
  // Eight indices of 0 (a Relu output's zeros come in runs): counted in a local, added to bin 0 at the end.
  op.get(7), op.v128AnyTrue, op.eqz, op.if,
  op.get(13), op.i32(8), op.add, op.set(13),
  op.get(0), op.i32(16), op.add, op.set(0),
  op.br(1), op.end,
  op.get(7), op.get(8), op.v128And, op.i32(2), op.i32x4Shl, op.get(9), op.i32x4Add, op.set(11),
  op.get(7), op.i32(16), op.i32x4ShrU, op.get(8), op.v128And, op.i32(2), op.i32x4Shl, op.get(10), op.i32x4Add, op.set(12),
  ...[0, 1, 2, 3].flatMap((lane) => [op.get(11), op.i32x4ExtractLane(lane), ...increment(6), op.get(12), op.i32x4ExtractLane(lane), ...increment(6)]),
  op.get(0), op.i32(16), op.add, op.set(0),
  op.br(0), op.end, op.end,
  op.block, op.loop,
  op.get(0), op.get(4), op.geU, op.brIf(1),
  op.get(2), op.get(0), op.load16U, op.get(3), op.and, op.i32(2), op.shl, op.add, ...increment(6),
  op.get(0), op.i32(2), op.add, op.set(0),
  op.br(0), op.end, op.end,
  op.get(2), op.get(2), op.load, op.get(13), op.add, op.store,
]);

/** fold(tables, length): adds the second table into the first (length a multiple of 4). Locals: 2 end, 3 second. */
const FOLD = body([[2, I32]], [
  op.get(0), op.get(1), op.i32(2), op.shl, op.add, op.tee(2), op.set(3),
  op.block, op.loop,
  op.get(0), op.get(2), op.geU, op.brIf(1),
  op.get(0), op.get(0), op.v128Load, op.get(3), op.v128Load, op.i32x4Add, op.v128Store,
  op.get(0), op.i32(16), op.add, op.set(0), op.get(3), op.i32(16), op.add, op.set(3),
  op.br(0), op.end, op.end,
]);

const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32]]), 0], [0x60, ...vector([[I32], [I32]]), 0]])),
  ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
  ...section(3, vector([[0], [1]])),
  ...section(7, vector([[...name('count'), 0x00, 0], [...name('fold'), 0x00, 1]])),
  ...section(10, vector([COUNT, FOLD])),
]);

interface Exports {
  count(pointer: number, count: number, tables: number, mask: number): void;
  fold(tables: number, length: number): void;
}

/** The part of the WebAssembly JavaScript API used here (the workspace's `lib` declares none of it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE = 65536;
let compiled: object | null | undefined;

/** The compiled module, or null where this engine lacks WebAssembly SIMD. */
function compiledModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm?.validate(MODULE) ? new wasm.Module(MODULE) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Counts of int16 bin indices for a fixed number of tensors, each into `length` counts (a power of two ≤ 65536). */
export class WasmBinCounter {
  private readonly tableBytes: number;
  private readonly dataStart: number;
  /** Per tensor: both tables, and the first one (the counts handed out), over the memory's current buffer. */
  private views: Int32Array[] = [];
  private counts: Int32Array[] = [];

  private constructor(
    private readonly memory: WasmMemory,
    private readonly exports: Exports,
    readonly tensors: number,
    readonly length: number,
  ) {
    this.tableBytes = 4 * length;
    this.dataStart = 2 * this.tableBytes * tensors;
  }

  /** A counter for `tensors` tensors of `length` counts each, or undefined without WebAssembly SIMD. */
  static create(tensors: number, length: number): WasmBinCounter | undefined {
    if (!Number.isInteger(length) || length < 4 || length > 65536 || (length & (length - 1)) !== 0) return undefined;
    const module = compiledModule();
    if (!module) return undefined;
    const bytes = 8 * length * tensors;
    const memory = new wasm!.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    const instance = new wasm!.Instance(module, { env: { memory } });
    return new WasmBinCounter(memory, instance.exports as unknown as Exports, tensors, length);
  }

  /**
   * Counts each tensor's indices (`indices[t]` for tensor t; index v counts at v & (length − 1)) and
   * returns each tensor's counts: views into the module's memory (the same array each call until the
   * memory grows), valid until the next call. Whatever tensor t had counted before is cleared first.
   */
  countAll(indices: readonly Int16Array[]): Int32Array[] {
    if (indices.length !== this.tensors) throw new Error(`WasmBinCounter: ${indices.length} index arrays for ${this.tensors} tensors`);
    let largest = 0;
    for (const part of indices) largest = Math.max(largest, part.length);
    // Grow once, before any view is taken (growing detaches the views of the old buffer).
    this.reserve(largest);
    for (let t = 0; t < this.tensors; t++) {
      this.clear(t);
      this.add(t, indices[t]!);
      this.exports.fold(2 * this.tableBytes * t, this.length);
    }
    return this.counts;
  }

  /**
   * Adds tensor t's indices to what it has counted since its last `take` (or `clear`), without
   * reading the counts back: a calibration keeps counting a tensor across runs while its width stays
   * (`StatisticsGraph`). Each table holds at most the indices added since then, so the caller takes
   * the counts before 2^31 − 1 indices. Throws a RangeError where the memory cannot grow to `indices`
   * (what was counted before stays).
   */
  add(t: number, indices: Int16Array): void {
    this.reserve(indices.length);
    const data = new Int16Array(this.memory.buffer, this.dataStart, indices.length);
    data.set(indices);
    this.exports.count(this.dataStart, indices.length, 2 * this.tableBytes * t, this.length - 1);
  }

  /** Tensor t's counts since its last `take` or `clear`, handed to `read` (a view, valid inside it); then cleared. */
  take(t: number, read: (counts: Int32Array) => void): void {
    this.exports.fold(2 * this.tableBytes * t, this.length);
    read(this.tablesOf(t).subarray(0, this.length));
    this.clear(t);
  }

  /** Forgets what tensor t has counted. */
  clear(t: number): void {
    this.tablesOf(t).fill(0);
  }

  /** Grows the memory to hold `count` indices past the tables. */
  private reserve(count: number): void {
    const needed = this.dataStart + 2 * count + 16;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / PAGE));
  }

  /** Both of tensor t's tables, over the memory's current buffer. */
  private tablesOf(t: number): Int32Array {
    const buffer = this.memory.buffer;
    if (this.views.length === 0 || this.views[0]!.buffer !== buffer) {
      this.views = Array.from({ length: this.tensors }, (_, k) => new Int32Array(buffer, 2 * this.tableBytes * k, 2 * this.length));
      this.counts = this.views.map((tables) => tables.subarray(0, this.length));
    }
    return this.views[t]!;
  }
}
