import type { SparseTensor } from './attribute.js';
import { byteLengthOf, dtypeInfo } from './dtype.js';
import { Tensor } from './tensor.js';

/**
 * The dense tensor a sparse one stands for (ONNX SparseTensorProto semantics): zeros but at the
 * indices, which are linearized `[NNZ]` or coordinates `[NNZ, rank]`. Throws a RangeError naming the
 * index when one lies outside `dims`.
 */
export function denseOfSparse(sparse: SparseTensor): Tensor {
  const { values, indices, dims } = sparse;
  const size = dims.reduce((n, d) => n * d, 1);
  const bits = dtypeInfo(values.dtype).bits;
  if (bits === 0 || bits % 8 !== 0) throw new RangeError(`sparse tensors of ${values.dtype} cannot be densified here`);
  const elementBytes = bits / 8;
  const out = new Uint8Array(byteLengthOf(values.dtype, size));
  const stored = values.bytes();
  const positions = indices.toNumbers();
  const count = values.size;
  const coordinates = indices.rank === 2;
  const strides = dims.map((_, axis) => dims.slice(axis + 1).reduce((n, d) => n * d, 1));
  for (let i = 0; i < count; i++) {
    let offset = 0;
    if (coordinates) {
      for (let axis = 0; axis < dims.length; axis++) {
        const coordinate = positions[i * dims.length + axis]!;
        if (!(coordinate >= 0 && coordinate < dims[axis]!)) throw new RangeError(`sparse index ${i} is outside dims [${dims.join(',')}] (axis ${axis}: ${coordinate})`);
        offset += coordinate * strides[axis]!;
      }
    } else {
      offset = positions[i]!;
      if (!(offset >= 0 && offset < size)) throw new RangeError(`sparse index ${i} (${offset}) is outside the ${size} elements of [${dims.join(',')}]`);
    }
    out.set(stored.subarray(i * elementBytes, (i + 1) * elementBytes), offset * elementBytes);
  }
  return Tensor.fromBytes(values.dtype, dims, out);
}
