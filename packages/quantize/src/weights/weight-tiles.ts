/**
 * Reads a linear layer's weight in tiles laid out per output feature (`[n][k]`), one tile at a
 * time, without loading the whole weight when its storage can be read in parts (external data).
 *
 * - k-major weights (`[K, N]`) are read `groupSize` rows at a time: a tile holds every output
 *   feature and one group of the reduction axis.
 * - n-major weights (`[N, K]`) are read a few whole rows at a time: a tile holds whole rows.
 *
 * Either way each tile covers whole quantization groups, so a group quantizer never needs more.
 */
import type { Tensor } from '@modelpass/ir';
import type { LinearLayer } from './linear-layers.js';

export interface WeightTile {
  /** First output feature of the tile. */
  readonly n0: number;
  readonly nCount: number;
  /** First reduction index of the tile (a multiple of the group size). */
  readonly k0: number;
  readonly kCount: number;
  /**
   * Element (j, kk) of the tile (output feature n0 + j, reduction index k0 + kk) is
   * `values[j · rowStride + kk · elementStride]`. Reused between tiles: copy what you keep.
   */
  readonly values: Float32Array;
  readonly rowStride: number;
  readonly elementStride: number;
}

/** Rows per tile of an n-major weight: about this many bytes. */
const TILE_BYTES = 8 << 20;

function readFloats(tensor: Tensor, firstElement: number, target: Float32Array): void {
  const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  const storage = tensor.storage!;
  if (storage.readChunk) storage.readChunk(bytes, firstElement * 4);
  else bytes.set(storage.read().subarray(firstElement * 4, firstElement * 4 + bytes.byteLength));
}

/** Visits the tiles of `layer`'s weight in order; `groupSize` is the quantization group along K. */
export function forEachWeightTile(layer: LinearLayer, groupSize: number, visit: (tile: WeightTile) => void): void {
  const { k, n, tensor } = layer;
  if (layer.layout === 'n-major') {
    const rowsPerTile = Math.max(1, Math.floor(TILE_BYTES / (4 * k)));
    const buffer = new Float32Array(Math.min(n, rowsPerTile) * k);
    for (let n0 = 0; n0 < n; n0 += rowsPerTile) {
      const nCount = Math.min(rowsPerTile, n - n0);
      const values = buffer.subarray(0, nCount * k);
      readFloats(tensor, n0 * k, values);
      visit({ n0, nCount, k0: 0, kCount: k, values, rowStride: k, elementStride: 1 });
    }
    return;
  }
  // k-major rows are read as stored ([kCount][n]) and walked with strides: no transpose.
  const rows = Math.min(groupSize, k);
  const raw = new Float32Array(rows * n);
  for (let k0 = 0; k0 < k; k0 += rows) {
    const kCount = Math.min(rows, k - k0);
    const values = raw.subarray(0, kCount * n);
    readFloats(tensor, k0 * n, values);
    visit({ n0: 0, nCount: n, k0, kCount, values, rowStride: 1, elementStride: n });
  }
}

/** The whole weight as `[N][K]` float64 (GPTQ needs all of it at once). */
export function readWeightMatrix(layer: LinearLayer): Float64Array {
  const matrix = new Float64Array(layer.n * layer.k);
  forEachWeightTile(layer, layer.k, (tile) => {
    for (let j = 0; j < tile.nCount; j++) {
      const target = (tile.n0 + j) * layer.k + tile.k0;
      for (let kk = 0; kk < tile.kCount; kk++) matrix[target + kk] = tile.values[j * tile.rowStride + kk * tile.elementStride]!;
    }
  });
  return matrix;
}
