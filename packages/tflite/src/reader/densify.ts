/**
 * TFLite sparse tensors (SparsityParameters) to dense bytes. The stored values are visited in the
 * traversal order of the expanded dimensions (the tensor's own dims, then one per block dim): a
 * DENSE level enumerates `dense_size` coordinates, a SPARSE_CSR level the coordinates listed in
 * `array_indices` between `array_segments[p]` and `array_segments[p + 1]` for parent position p.
 * A block dim j refines dim `block_map[j]`: coordinate = block index · block size + offset in block.
 */
export interface DimensionLevel {
  readonly format: 'DENSE' | 'SPARSE_CSR';
  readonly denseSize: number;
  readonly segments: readonly number[];
  readonly indices: readonly number[];
}

export interface Sparsity {
  readonly traversalOrder: readonly number[];
  readonly blockMap: readonly number[];
  readonly levels: readonly DimensionLevel[];
}

/** Why a sparsity description cannot be densified (the reader wraps it with the tensor's name). */
export class SparsityError extends Error {}

export function densify(values: Uint8Array, elementBytes: number, shape: readonly number[], sparsity: Sparsity): Uint8Array {
  const rank = shape.length;
  const blocks = sparsity.blockMap.length;
  const expanded = rank + blocks;
  const { traversalOrder, levels, blockMap } = sparsity;
  if (traversalOrder.length !== expanded || levels.length !== expanded) {
    throw new SparsityError(`traversal_order (${traversalOrder.length}) and dim_metadata (${levels.length}) must both have ${expanded} entries (rank ${rank} + ${blocks} block dims)`);
  }
  if ([...traversalOrder].sort((a, b) => a - b).some((dim, i) => dim !== i)) throw new SparsityError(`traversal_order ${JSON.stringify(traversalOrder)} is not a permutation of 0..${expanded - 1}`);
  blockMap.forEach((dim) => {
    if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new SparsityError(`block_map entry ${dim} is not a dimension of the rank-${rank} tensor`);
  });
  // Expanded dim d: its level is the one that traverses it; block dims' sizes are their dense_size.
  const levelOfDim = new Array<DimensionLevel>(expanded);
  traversalOrder.forEach((dim, level) => (levelOfDim[dim] = levels[level]!));
  const blockSize = blockMap.map((_, j) => levelOfDim[rank + j]!.denseSize);
  // A DENSE level enumerates every coordinate of its dim: a blocked dim has shape / block size of them.
  traversalOrder.forEach((dim, level) => {
    const meta = levels[level]!;
    if (meta.format !== 'DENSE' || dim >= rank) return;
    const j = blockMap.indexOf(dim);
    const size = j >= 0 ? shape[dim]! / blockSize[j]! : shape[dim]!;
    if (meta.denseSize !== size) throw new SparsityError(`dim_metadata[${level}] (DENSE, dim ${dim}) has dense_size ${meta.denseSize}, but the dim has ${size} ${j >= 0 ? 'blocks' : 'coordinates'}`);
  });
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  const count = shape.reduce((a, b) => a * b, 1);
  const dense = new Uint8Array(count * elementBytes);
  const filled = new Uint8Array(count);
  const coords = new Array<number>(expanded).fill(0);
  let next = 0;
  const totalValues = values.byteLength / elementBytes;

  const place = (): void => {
    let offset = 0;
    const position: number[] = [];
    for (let d = 0; d < rank; d++) {
      let coordinate = coords[d]!;
      const j = blockMap.indexOf(d);
      if (j >= 0) {
        const inBlock = coords[rank + j]!;
        if (!Number.isInteger(inBlock) || inBlock < 0 || inBlock >= blockSize[j]!) throw new SparsityError(`a stored value lands at offset ${inBlock} of a block of dim ${d}, outside the block size ${blockSize[j]}`);
        coordinate = coordinate * blockSize[j]! + inBlock;
      }
      if (!Number.isInteger(coordinate) || coordinate < 0 || coordinate >= shape[d]!) {
        throw new SparsityError(`a stored value lands at coordinate ${coordinate} of dim ${d}, outside its size ${shape[d]} (expected 0..${shape[d]! - 1})`);
      }
      offset += coordinate * strides[d]!;
      position.push(coordinate);
    }
    if (next >= totalValues) throw new SparsityError(`the sparsity structure addresses more than the ${totalValues} stored values`);
    // Two stored values at one position: which one the tensor holds would be a guess (TFLite keeps the last).
    if (filled[offset]) throw new SparsityError(`stored value ${next} lands at [${position.join(',')}], where an earlier one is already: array_indices repeat a coordinate`);
    filled[offset] = 1;
    dense.set(values.subarray(next * elementBytes, (next + 1) * elementBytes), offset * elementBytes);
    next++;
  };

  const visit = (level: number, parent: number): void => {
    if (level === expanded) {
      place();
      return;
    }
    const meta = levels[level]!;
    const dim = traversalOrder[level]!;
    if (meta.format === 'DENSE') {
      for (let i = 0; i < meta.denseSize; i++) {
        coords[dim] = i;
        visit(level + 1, parent * meta.denseSize + i);
      }
      return;
    }
    const start = meta.segments[parent];
    const end = meta.segments[parent + 1];
    if (start === undefined || end === undefined || start > end || end > meta.indices.length) {
      throw new SparsityError(`array_segments of level ${level} do not cover position ${parent} (segments ${meta.segments.length}, indices ${meta.indices.length})`);
    }
    for (let i = start; i < end; i++) {
      coords[dim] = meta.indices[i]!;
      visit(level + 1, i);
    }
  };

  visit(0, 0);
  if (next !== totalValues) throw new SparsityError(`the sparsity structure addresses ${next} values but ${totalValues} are stored`);
  return dense;
}
