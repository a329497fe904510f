/**
 * float32 → float16 / bfloat16 tensors. Finite values beyond the target's range are clamped to
 * its largest finite value (float16: ±65504) instead of becoming infinities; rounding is to
 * nearest even. A tensor still in its file (external data) is converted lazily, chunk by chunk,
 * when the writer streams it, so a large model is never held in memory.
 */
import { ComputedStorage, numberToBfloat16Bits, numberToFloat16Bits, Tensor } from '@modelpass/ir';

export type HalfType = 'float16' | 'bfloat16';

const LARGEST: Readonly<Record<HalfType, number>> = { float16: 65504, bfloat16: 3.3895313892515355e38 };
const TO_BITS: Readonly<Record<HalfType, (value: number) => number>> = { float16: numberToFloat16Bits, bfloat16: numberToBfloat16Bits };

/** Converts `source` float32 elements into `target` 16-bit patterns; returns how many were clamped. */
function convert(source: Float32Array, target: Uint16Array, type: HalfType): number {
  const largest = LARGEST[type];
  const toBits = TO_BITS[type];
  let clamped = 0;
  for (let i = 0; i < source.length; i++) {
    let value = source[i]!;
    if (value > largest && value !== Infinity) {
      value = largest;
      clamped++;
    } else if (value < -largest && value !== -Infinity) {
      value = -largest;
      clamped++;
    }
    target[i] = toBits(value);
  }
  return clamped;
}

function floats(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  // A copy of exactly these bytes: `bytes.slice()` is a view, not a copy, when the bytes are a Node Buffer (protobufjs
  // hands raw_data out as one), and its `.buffer` is then the whole pool — a RangeError or other values.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export interface HalfTensor {
  readonly tensor: Tensor;
  /** Elements clamped to the largest finite value (undefined when converted lazily). */
  readonly clamped: number | undefined;
}

export function toHalfTensor(tensor: Tensor, type: HalfType): HalfTensor {
  const count = tensor.size;
  if (tensor.isLoaded || !tensor.storage?.readChunk) {
    const target = new Uint16Array(count);
    const clamped = convert(floats(tensor.bytes()), target, type);
    return { tensor: Tensor.fromBytes(type, tensor.shape, new Uint8Array(target.buffer)), clamped };
  }
  const storage = tensor.storage;
  const computeChunk = (target: Uint8Array, start: number) => {
    // 2 bytes per element here, 4 in the source
    const first = start / 2;
    const source = new Uint8Array(target.byteLength * 2);
    storage.readChunk!(source, first * 4);
    const out = new Uint16Array(target.byteLength / 2);
    convert(floats(source), out, type);
    target.set(new Uint8Array(out.buffer));
  };
  const compute = () => {
    const all = new Uint8Array(count * 2);
    for (let start = 0; start < all.byteLength; start += 1 << 24) computeChunk(all.subarray(start, Math.min(all.byteLength, start + (1 << 24))), start);
    return all;
  };
  return { tensor: Tensor.fromStorage(type, tensor.shape, new ComputedStorage(count * 2, compute, `${type}(${storage.describe()})`, computeChunk)), clamped: undefined };
}
