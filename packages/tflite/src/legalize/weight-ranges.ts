import { FileRangeStorage, SourceRangeStorage, type Tensor, type TensorStorage } from '@modelpass/ir';

/**
 * Bytes `[start, start + byteLength)` of a weight still in its file, as storage over that part of the file: nothing is
 * read now, and a rule that cuts a weight into contiguous parts (the head rows of an attention out-projection) leaves
 * each part lazy — the lowering then transposes it as it is written (`transposeTensor` of a file range), instead of
 * reading the weight, copying each part and transposing that copy. Undefined when the weight is not a plain file range
 * (in memory, computed, a storage class of its own) or the range is outside it.
 */
export function fileByteRange(weight: Tensor, start: number, byteLength: number): TensorStorage | undefined {
  const storage = weight.storage;
  if (!storage || storage.kind !== 'file-range' || start < 0 || byteLength < 0 || start + byteLength > storage.byteLength) return undefined;
  // These two classes exactly: a subclass may read its range otherwise (its bytes need not be the file's at that offset).
  if (storage.constructor === SourceRangeStorage) return (storage as SourceRangeStorage).source.range((storage as SourceRangeStorage).offset + start, byteLength);
  if (storage.constructor === FileRangeStorage) return new FileRangeStorage((storage as FileRangeStorage).path, (storage as FileRangeStorage).offset + start, byteLength);
  return undefined;
}
