import { byteLengthOf, type DType } from './dtype.js';
import { decodeElements, encodeElements, type ElementArray, type ElementValues } from './element-codec.js';
import { MemoryStorage, type TensorStorage } from './tensor-storage.js';
import { elementCount } from './type.js';
import type { QuantParams } from './type.js';

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

  private constructor(
    dtype: DType,
    shape: readonly number[],
    storage: TensorStorage | undefined,
    strings: readonly string[] | undefined,
    quant: QuantParams | undefined,
  ) {
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.storage = storage;
    this.strings = strings;
    this.quant = quant;
  }

  /** A tensor over existing storage; the byte length must match dtype and shape. */
  static fromStorage(dtype: DType, shape: readonly number[], storage: TensorStorage, quant?: QuantParams): Tensor {
    if (dtype === 'string') throw new TypeError('string tensors are built with Tensor.fromStrings');
    const expected = byteLengthOf(dtype, elementCount(shape));
    if (storage.byteLength !== expected) {
      throw new RangeError(
        `${dtype}[${shape.join(',')}] needs ${expected} bytes, storage ${storage.describe()} has ${storage.byteLength}`,
      );
    }
    return new Tensor(dtype, shape, storage, undefined, quant);
  }

  static fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array, quant?: QuantParams): Tensor {
    return Tensor.fromStorage(dtype, shape, new MemoryStorage(bytes), quant);
  }

  /**
   * From element values: numbers (any dtype but int64/uint64 accept bigints too), booleans.
   * Complex values are interleaved real/imaginary pairs.
   */
  static fromValues(dtype: DType, shape: readonly number[], values: ElementValues, quant?: QuantParams): Tensor {
    const count = elementCount(shape) * (dtype.startsWith('complex') ? 2 : 1);
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
    return elementCount(this.shape);
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

  /** Raw little-endian bytes (loads lazy storage). */
  bytes(): Uint8Array {
    if (!this.storage) throw new TypeError('string tensors have no byte storage; use .strings');
    return this.storage.read();
  }

  /** Decoded elements; see `decodeElements` for the array type of each dtype. */
  data(): ElementArray {
    if (this.dtype === 'string') return [...(this.strings ?? [])];
    return decodeElements(this.dtype, this.bytes(), this.size);
  }

  /** Elements as plain numbers (int64 beyond 2^53 loses precision; complex is interleaved). */
  toNumbers(): number[] {
    const data = this.data();
    if (Array.isArray(data)) throw new TypeError('string tensors have no numeric values');
    return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  withQuant(quant: QuantParams | undefined): Tensor {
    return new Tensor(this.dtype, this.shape, this.storage, this.strings, quant);
  }

  /** Same bytes, new shape with the same element count. */
  reshape(shape: readonly number[]): Tensor {
    if (elementCount(shape) !== this.size) {
      throw new RangeError(`cannot reshape [${this.shape.join(',')}] to [${shape.join(',')}]`);
    }
    return new Tensor(this.dtype, shape, this.storage, this.strings, this.quant);
  }

  /** Byte-wise equality of dtype, shape and contents (loads both). */
  equals(other: Tensor): boolean {
    if (this.dtype !== other.dtype || this.shape.length !== other.shape.length) return false;
    if (!this.shape.every((d, i) => d === other.shape[i])) return false;
    if (this.dtype === 'string') {
      return this.strings!.every((s, i) => s === other.strings![i]);
    }
    const a = this.bytes();
    const b = other.bytes();
    if (a.byteLength !== b.byteLength) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
}
