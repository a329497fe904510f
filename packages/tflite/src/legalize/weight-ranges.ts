import { FileRangeStorage, SourceRangeStorage, type Tensor, type TensorStorage } from '@modelpass/ir';

/**
 * Bytes `[start, start + byteLength)` of a weight still in its file, as storage over that part of the file: nothing is
 * read now, and a rule that cuts a weight into contiguous parts (the head rows of an attention out-projection) leaves
 * each part lazy — the lowering then transposes it as it is written (`transposeTensor` of a file range), instead of
 * reading the weight, copying each part and transposing that copy. Undefined when the weight is not a plain file range
 * (in memory, computed) or the range is outside it.
 */
export function fileByteRange(weight: Tensor, start: number, byteLength: number): TensorStorage | undefined {
  const storage = weight.storage;
  if (!storage || storage.kind !== 'file-range' || start < 0 || byteLength < 0 || start + byteLength > storage.byteLength) return undefined;
  if (storage instanceof SourceRangeStorage) return storage.source.range(storage.offset + start, byteLength);
  if (storage instanceof FileRangeStorage) return new FileRangeStorage(storage.path, storage.offset + start, byteLength);
  return undefined;
}
