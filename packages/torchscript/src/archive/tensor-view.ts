/**
 * A tensor over a storage record: the view `_rebuild_tensor_v2` describes (element offset, shape,
 * strides). A contiguous view of a stored record is a lazy file range; any other view is gathered
 * on first read. Every index the view can reach is checked to lie inside the storage, and a gathered
 * view (one that repeats its storage: stride 0, as `expand()` makes) may not grow past `maxBytes`.
 */
import { constants as bufferConstants } from 'node:buffer';
import { byteLengthOf, ComputedStorage, FileRangeStorage, SourceRangeStorage, Tensor, type TensorStorage } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { PickleTensor } from '../pickle/pickle-value.js';

/**
 * @param maxBytes the most bytes a gathered (non-contiguous) view may take once read: the archive's
 * limit on one record (`maxEntryBytes`), and never more than one buffer can hold.
 */
export function tensorView(ref: PickleTensor, storage: TensorStorage, where: string, maxBytes: number): Tensor {
  const elementBytes = byteLengthOf(ref.dtype, 1);
  const storageElements = Math.floor(storage.byteLength / elementBytes);
  const fail = (reason: string): never => {
    throw torchscriptError({ reason: `${where}: tensor ${ref.dtype}[${ref.shape.join(',')}] over storage '${ref.storageKey}': ${reason}`, code: 'torchscript/tensor' });
  };
  if (ref.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail('a dimension is negative');
  if (ref.strides.some((s) => !Number.isSafeInteger(s) || s < 0)) fail('a stride is negative');
  if (!Number.isSafeInteger(ref.offset) || ref.offset < 0) fail('the storage offset is negative');
  const count = ref.shape.reduce((a, b) => a * b, 1);
  if (count > 0) {
    const last = ref.offset + ref.shape.reduce((sum, d, i) => sum + (d - 1) * ref.strides[i]!, 0);
    if (last >= storageElements) fail(`it reaches element ${last}, but the storage holds ${storageElements} elements`);
  }
  const byteLength = count * elementBytes;
  if (isContiguous(ref.shape, ref.strides)) {
    if (storage instanceof SourceRangeStorage) {
      return Tensor.fromStorage(ref.dtype, ref.shape, storage.source.range(storage.offset + ref.offset * elementBytes, byteLength));
    }
    if (storage instanceof FileRangeStorage) {
      return Tensor.fromStorage(ref.dtype, ref.shape, new FileRangeStorage(storage.path, storage.offset + ref.offset * elementBytes, byteLength));
    }
    const start = ref.offset * elementBytes;
    return Tensor.fromStorage(ref.dtype, ref.shape, new ComputedStorage(byteLength, () => storage.read().slice(start, start + byteLength), `${where} view`));
  }
  // Only a view that repeats elements can be larger than its record: 16 bytes of storage can claim
  // terabytes with stride 0. It is gathered into memory on read, so it is held to one record's limit.
  const limit = Math.min(maxBytes, bufferConstants.MAX_LENGTH);
  if (byteLength > limit) {
    throw torchscriptError({
      reason: `${where}: tensor ${ref.dtype}[${ref.shape.join(',')}] over storage '${ref.storageKey}' (${storage.byteLength} bytes) repeats its storage (strides ${ref.strides.join(',')}) into ${byteLength} bytes, more than one tensor may take`,
      expected: `at most ${limit} bytes`,
      actual: `${byteLength} bytes`,
      hint: 'torch archives store parameters contiguously; an archive you trust can raise the limit (TorchArchiveLimits.maxEntryBytes)',
      code: 'torchscript/tensor',
    });
  }
  return Tensor.fromStorage(
    ref.dtype,
    ref.shape,
    new ComputedStorage(byteLength, () => gather(storage.read(), ref, elementBytes, count), `${where} strided view`),
  );
}

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

function gather(source: Uint8Array, ref: PickleTensor, elementBytes: number, count: number): Uint8Array {
  const out = new Uint8Array(count * elementBytes);
  const rank = ref.shape.length;
  const index = new Array<number>(rank).fill(0);
  let from = ref.offset;
  for (let n = 0; n < count; n++) {
    out.set(source.subarray(from * elementBytes, (from + 1) * elementBytes), n * elementBytes);
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      from += ref.strides[axis]!;
      if (index[axis]! < ref.shape[axis]!) break;
      from -= index[axis]! * ref.strides[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}
