import { constants as bufferConstants } from 'node:buffer';
import { byteLengthOf, dtypeInfo, type DType } from './dtype.js';
import { ModelpassError } from './diagnostic.js';
import { decodeElements, encodeElements, nativeArrayType, type ElementArray, type ElementValues } from './element-codec.js';
import { FileRangeStorage, MemoryStorage, type TensorStorage } from './tensor-storage.js';
import { isSmallIntegerRead, readSmallIntegers } from './small-elements.js';
import { elementCount } from './type.js';
import type { QuantParams } from './type.js';

/** Default chunk size of `byteChunks` / `elementChunks` (16 MiB). */
export const DEFAULT_TENSOR_CHUNK_BYTES = 16 << 20;

/**
 * A constant tensor: a dtype, a static shape and lazily loaded bytes.
 * String tensors keep their elements as `strings` instead of bytes.
 */
export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly storage: TensorStorage | undefined;
  readonly strings: readonly string[] | undefined;
  /** Quantization parameters when the stored integers are quantized reals. */
  readonly quant: QuantParams | undefined;
  /** The element count, computed once (`size` is asked many times per tensor by inference and lowering). */
  private readonly _size: number;

  private constructor(
    dtype: DType,
    shape: readonly number[],
    storage: TensorStorage | undefined,
    strings: readonly string[] | undefined,
    quant: QuantParams | undefined,
    size: number = elementCount(shape),
  ) {
    this.dtype = dtype;
    this.shape = frozenShape(shape);
    this._size = size;
    this.storage = storage;
    this.strings = strings;
    this.quant = quant;
  }

  /** A tensor over existing storage; the byte length must match dtype and shape. */
  static fromStorage(dtype: DType, shape: readonly number[], storage: TensorStorage, quant?: QuantParams): Tensor {
    if (dtype === 'string') throw new TypeError('string tensors are built with Tensor.fromStrings');
    const size = elementCount(shape);
    const expected = byteLengthOf(dtype, size);
    if (storage.byteLength !== expected) {
      throw new RangeError(
        `${dtype}[${shape.join(',')}] needs ${expected} bytes, storage ${storage.describe()} has ${storage.byteLength}`,
      );
    }
    return new Tensor(dtype, shape, storage, undefined, quant, size);
  }

  static fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array, quant?: QuantParams): Tensor {
    return Tensor.fromStorage(dtype, shape, new MemoryStorage(bytes), quant);
  }

  /**
   * From element values: numbers (any dtype but int64/uint64 accept bigints too), booleans.
   * Complex values are interleaved real/imaginary pairs.
   */
  static fromValues(dtype: DType, shape: readonly number[], values: ElementValues, quant?: QuantParams): Tensor {
    const count = elementCount(shape) * (dtype === 'complex64' || dtype === 'complex128' ? 2 : 1);
    if (values.length !== count) {
      throw new RangeError(`${dtype}[${shape.join(',')}] needs ${count} values, got ${values.length}`);
    }
    return Tensor.fromBytes(dtype, shape, encodeElements(dtype, values), quant);
  }

  static fromStrings(shape: readonly number[], values: readonly string[]): Tensor {
    if (values.length !== elementCount(shape)) {
      throw new RangeError(`string[${shape.join(',')}] needs ${elementCount(shape)} values, got ${values.length}`);
    }
    return new Tensor('string', shape, undefined, Object.freeze([...values]), undefined);
  }

  static scalar(dtype: DType, value: number | bigint | boolean): Tensor {
    return Tensor.fromValues(dtype, [], [value] as ElementValues);
  }

  get size(): number {
    return this._size;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Stored bytes without loading them (0 for strings: see `strings`). */
  get byteLength(): number {
    return this.storage?.byteLength ?? 0;
  }

  /** True when the bytes are already in memory (reading them costs nothing). */
  get isLoaded(): boolean {
    return this.storage?.kind === 'memory';
  }

  /**
   * Raw little-endian bytes (loads lazy storage). A tensor larger than one JavaScript buffer can
   * hold (4 GiB) cannot be loaded whole: that is a clear error; stream it with `byteChunks`.
   */
  bytes(): Uint8Array {
    if (!this.storage) throw new TypeError('string tensors have no byte storage; use .strings');
    if (this.storage.byteLength > bufferConstants.MAX_LENGTH) {
      throw new ModelpassError({
        reason: `tensor ${this.dtype}[${this.shape.join(',')}] of ${this.storage.byteLength} bytes is too large to load whole`,
        expected: `at most ${bufferConstants.MAX_LENGTH} bytes in one buffer`,
        actual: `${this.storage.byteLength} bytes (${this.storage.describe()})`,
        hint: 'read it in chunks with Tensor.byteChunks() or elementChunks()',
        source: '@modelpass/ir',
      });
    }
    return this.storage.read();
  }

  /**
   * The stored bytes in order, in chunks of at most `chunkBytes` (rounded down to whole bytes of
   * 8 elements, at least one such group), without loading the tensor whole when its storage has
   * `readChunk`. The chunk buffer is reused between steps: copy what you keep.
   */
  *byteChunks(chunkBytes = DEFAULT_TENSOR_CHUNK_BYTES): Generator<Uint8Array> {
    if (!this.storage) throw new TypeError('string tensors have no byte storage; use .strings');
    const storage = this.storage;
    const total = storage.byteLength;
    if (!storage.readChunk || total <= chunkBytes) {
      if (total > 0) yield this.bytes();
      return;
    }
    const group = Math.max(1, dtypeInfo(this.dtype).bits); // bytes in 8 elements
    const size = Math.max(group, chunkBytes - (chunkBytes % group));
    const buffer = new Uint8Array(size);
    for (let start = 0; start < total; start += size) {
      const chunk = buffer.subarray(0, Math.min(size, total - start));
      storage.readChunk(chunk, start);
      yield chunk;
    }
  }

  /**
   * The decoded elements in order, chunk by chunk (see `byteChunks`), with the index of each
   * chunk's first element: how a pass inspects a tensor larger than memory.
   */
  *elementChunks(chunkBytes = DEFAULT_TENSOR_CHUNK_BYTES): Generator<{ readonly start: number; readonly elements: ElementArray }> {
    if (this.dtype === 'string') {
      yield { start: 0, elements: this.data() };
      return;
    }
    const bits = dtypeInfo(this.dtype).bits;
    let start = 0;
    for (const chunk of this.byteChunks(chunkBytes)) {
      const count = Math.min(this.size - start, Math.floor((chunk.byteLength * 8) / bits));
      yield { start, elements: decodeElements(this.dtype, chunk, count) };
      start += count;
    }
  }

  /** Decoded elements; see `decodeElements` for the array type of each dtype. */
  data(): ElementArray {
    if (this.dtype === 'string') return [...(this.strings ?? [])];
    return decodeElements(this.dtype, this.bytes(), this.size);
  }

  /** Elements as plain numbers (int64 beyond 2^53 loses precision; complex is interleaved). */
  toNumbers(): number[] {
    // A shape-sized integer tensor (most reads of constants): its bytes read one by one, no typed array made.
    if (isSmallIntegerRead(this.dtype, this._size)) return readSmallIntegers(this.dtype, this.bytes(), this._size)!;
    if ((this.dtype === 'int64' || this.dtype === 'uint64') && nativeArrayType(this.dtype)) return wideIntegersAsNumbers(this.bytes(), this.size, this.dtype === 'int64');
    const data = this.data();
    if (Array.isArray(data)) throw new TypeError('string tensors have no numeric values');
    // A counted loop: Array.from with a mapping function costs several times more per element.
    const elements = data as ArrayLike<number | bigint>;
    const numbers = new Array<number>(elements.length);
    for (let i = 0; i < elements.length; i++) numbers[i] = Number(elements[i]);
    return numbers;
  }

  withQuant(quant: QuantParams | undefined): Tensor {
    return new Tensor(this.dtype, this.shape, this.storage, this.strings, quant, this._size);
  }

  /** Same bytes, new shape with the same element count. */
  reshape(shape: readonly number[]): Tensor {
    if (elementCount(shape) !== this.size) {
      throw new RangeError(`cannot reshape [${this.shape.join(',')}] to [${shape.join(',')}]`);
    }
    return new Tensor(this.dtype, shape, this.storage, this.strings, this.quant, this._size);
  }

  /**
   * Byte-wise equality of dtype, shape and contents. Tensors above one chunk are compared chunk
   * by chunk (stopping at the first difference), never loaded whole.
   */
  equals(other: Tensor): boolean {
    if (this.dtype !== other.dtype || this.shape.length !== other.shape.length) return false;
    if (!this.shape.every((d, i) => d === other.shape[i])) return false;
    if (this.dtype === 'string') {
      return this.strings!.every((s, i) => s === other.strings![i]);
    }
    if (this.byteLength !== other.byteLength) return false;
    if (this.storage === other.storage || sameFileRange(this.storage, other.storage)) return true;
    if (!this.storage?.readChunk || !other.storage?.readChunk) return sameBytes(this.bytes(), other.bytes());
    const theirs = other.byteChunks();
    for (const mine of this.byteChunks()) {
      const next = theirs.next();
      if (next.done) return false;
      if (!sameBytes(mine, next.value)) return false;
    }
    return true;
  }
}

/** Frozen one-dimension shapes `[1]` … `[RANK1_SHAPES - 1]`, made on first use and shared by every tensor of that shape. */
const RANK1_SHAPES = 1024;
const rank1Shapes: (readonly number[] | undefined)[] = [];
const SCALAR_SHAPE: readonly number[] = Object.freeze([]);

/**
 * `shape` as a frozen array, which cannot change under the tensor: a frozen one as it is (reshape, withQuant and
 * kernels pass one on); a scalar's and a short vector's (the shape of nearly every constant that inference and
 * lowering make) shared, since freezing a fresh array costs more than the rest of making a small tensor.
 */
function frozenShape(shape: readonly number[]): readonly number[] {
  if (shape.length === 0) return SCALAR_SHAPE;
  if (shape.length === 1) {
    const dim = shape[0]!;
    if (dim > 0 && dim < RANK1_SHAPES && Number.isInteger(dim)) return (rank1Shapes[dim] ??= Object.freeze([dim]));
  }
  return Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Two views of the very same bytes of one file (its readers check that the file is unchanged). */
function sameFileRange(a: TensorStorage | undefined, b: TensorStorage | undefined): boolean {
  return a instanceof FileRangeStorage && b instanceof FileRangeStorage && a.path === b.path && a.offset === b.offset && a.byteLength === b.byteLength;
}

const TWO_TO_32 = 4294967296;

/**
 * `count` little-endian 64-bit integers (signed when `signed`) as numbers, read as two 32-bit words each: the high
 * word times 2^32 is exact and adding the low word rounds once, to nearest and ties to even, as `Number(bigint)` does,
 * so the result equals decoding to BigInts and converting each — without a BigInt array and a heap BigInt per element
 * (shape inference reads thousands of int64 axes, indices and shapes a conversion). Little-endian hosts only.
 */
function wideIntegersAsNumbers(bytes: Uint8Array, count: number, signed: boolean): number[] {
  const numbers = new Array<number>(count);
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, count * 2);
    for (let i = 0; i < count; i++) {
      const high = words[2 * i + 1]!;
      numbers[i] = (signed ? high | 0 : high) * TWO_TO_32 + words[2 * i]!;
    }
    return numbers;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 8);
  for (let i = 0; i < count; i++) {
    const high = signed ? view.getInt32(8 * i + 4, true) : view.getUint32(8 * i + 4, true);
    numbers[i] = high * TWO_TO_32 + view.getUint32(8 * i, true);
  }
  return numbers;
}
