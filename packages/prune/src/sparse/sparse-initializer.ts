/**
 * Storing a pruned weight as an ONNX sparse initializer: COO form with linearized int64 indices
 * (`values` [NNZ] of the weight's dtype, `indices` [NNZ] ascending), which ONNX Runtime densifies on
 * load. The value keeps its dense tensor type, so nodes and the verifier see the same weight; passes
 * that read `value.constant` no longer see data, so store sparsely as the last step before export.
 */
import { byteLengthOf, Tensor, type SparseTensor, type Value } from '@modelpass/ir';

/** Bytes of the weight stored densely and as ONNX COO with linear int64 indices. */
export function storageBytes(dtype: Tensor['dtype'], elements: number, nonzeros: number): { dense: number; sparse: number } {
  return { dense: byteLengthOf(dtype, elements), sparse: byteLengthOf(dtype, nonzeros) + 8 * nonzeros };
}

/** The COO form of a dense float tensor (zeros of either sign left out). */
export function toSparseTensor(tensor: Tensor): SparseTensor {
  const values = tensor.toNumbers();
  const positions: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) positions.push(i);
  const width = byteLengthOf(tensor.dtype, 1);
  const source = tensor.bytes();
  const kept = new Uint8Array(positions.length * width);
  positions.forEach((position, j) => kept.set(source.subarray(position * width, (position + 1) * width), j * width));
  return {
    values: Tensor.fromBytes(tensor.dtype, [positions.length], kept),
    indices: Tensor.fromValues('int64', [positions.length], positions.map((p) => BigInt(p))),
    dims: [...tensor.shape],
  };
}

/**
 * Replaces the initializer's dense data by its sparse form when that is smaller; returns whether it
 * did. The declared (dense) type stays.
 */
export function storeSparselyIfSmaller(value: Value): boolean {
  const tensor = value.constant;
  if (!tensor) return false;
  const sparse = toSparseTensor(tensor);
  const bytes = storageBytes(tensor.dtype, tensor.size, sparse.values.size);
  if (bytes.sparse >= bytes.dense) return false;
  const type = value.type;
  value.constant = undefined;
  value.sparseConstant = sparse;
  value.type = type;
  return true;
}
