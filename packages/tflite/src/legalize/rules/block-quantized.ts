import { Tensor, tensorType, type DiagnosticInit, type Node, type Tensor as TensorData, type Value } from '@modelpass/ir';
import { TfliteEmitter } from '../lowering-tools.js';

/**
 * Block-quantized tables (ONNX Runtime's MatMulNBits and GatherBlockQuantized): an [n, k] matrix quantized in blocks
 * of `blockSize` along k, one scale and zero point per (row, block). TFLite 2.9 has no 4-bit tensors and no block-wise
 * quantization, so:
 * - integer zero points: int8 rows of shape [n · blocks, blockSize], one scale and zero point per row — `q − z` at
 *   zero point 0 where it fits int8 (always below 8 bits), else `q − 128` at zero point `z − 128` (uint8 shifted) —
 *   which TFLite's per-channel DEQUANTIZE turns into scale · (q − z), the value ONNX Runtime dequantizes, bit for bit;
 *   then RESHAPE to [n, blocks · blockSize] and SLICE to k when the last block is partial. DEQUANTIZE of a constant
 *   runs once, when TFLite prepares the model; the file holds a byte per value plus a scale and zero point per row;
 * - fractional zero points (HQQ's), or a scale that is not finite: float32 values as ONNX Runtime (1.30) dequantizes
 *   them with float zero points, q·scale − z·scale with each product rounded to float32; four bytes per value.
 */

export interface BlockGrid {
  readonly n: number;
  readonly k: number;
  readonly blockSize: number;
  readonly blocks: number;
}

/** How to read one table's codes, scales and zero points. */
export interface BlockSource {
  /** The unsigned code at (row, column), column < k. */
  code(row: number, column: number): number;
  scale(row: number, block: number): number;
  zeroPoint(row: number, block: number): number;
}

export type BlockRows =
  | { readonly kind: 'int8'; readonly grid: BlockGrid; readonly codes: Int8Array; readonly rowScales: number[]; readonly rowZeroPoints: number[] }
  | { readonly kind: 'float32'; readonly grid: BlockGrid; readonly values: Float32Array; readonly why: string };

export function blockGrid(n: number, k: number, blockSize: number): BlockGrid {
  return { n, k, blockSize, blocks: Math.ceil(k / blockSize) };
}

/** Unsigned codes of `bits` bits packed low bits first from `start` (the element `index` of a row starting there). */
export function packedCode(bytes: Uint8Array, bits: number, start: number, index: number): number {
  const bit = index * bits;
  return (bytes[start + (bit >> 3)]! >> (bit & 7)) & ((1 << bits) - 1);
}

/**
 * Zero points of (row, block): absent → `absent`; uint8 → packed `bits` wide, ceil(blocks · bits / 8) bytes a row;
 * floats → one a block.
 */
export function zeroPointsOf(tensor: TensorData | undefined, grid: BlockGrid, bits: number, absent: number): (row: number, block: number) => number {
  if (!tensor) return () => absent;
  if (tensor.dtype !== 'uint8') {
    const values = tensor.toNumbers();
    return (row, block) => values[row * grid.blocks + block]!;
  }
  const bytes = tensor.bytes();
  const perRow = Math.ceil((grid.blocks * bits) / 8);
  return (row, block) => packedCode(bytes, bits, row * perRow, block);
}

/**
 * One row (a block of one table row) as int8 with TFLite's per-channel parameters, so that
 * scale' · (stored − zero_point') = scale · (q − z) exactly; a negative scale flips the signs, a zero scale is
 * zeros at scale 1. False when the row does not fit int8 either way.
 */
function int8Row(out: Int8Array, index: number, scale: number, z: number, codeAt: (j: number) => number, width: number, scales: number[], zeroPoints: number[]): boolean {
  const base = index * width;
  if (scale === 0) {
    out.fill(0, base, base + width);
    scales[index] = 1;
    zeroPoints[index] = 0;
    return true;
  }
  const sign = scale < 0 ? -1 : 1;
  let centred = true;
  let shifted = z >= 0 && z <= 255;
  for (let j = 0; j < width; j++) {
    const q = codeAt(j);
    if (Math.abs(q - z) > 127) centred = false;
    if (sign * (q - 128) > 127 || sign * (q - 128) < -128 || sign * (z - 128) > 127 || sign * (z - 128) < -128) shifted = false;
  }
  if (!centred && !shifted) return false;
  for (let j = 0; j < width; j++) out[base + j] = sign * (centred ? codeAt(j) - z : codeAt(j) - 128);
  scales[index] = sign * scale;
  zeroPoints[index] = centred ? 0 : sign * (z - 128);
  return true;
}

/** The table as int8 rows when that is exact, else as ONNX Runtime's float32 values [n, k]. */
export function decodeBlockRows(grid: BlockGrid, source: BlockSource): BlockRows {
  const { n, k, blockSize, blocks } = grid;
  const codes = new Int8Array(n * blocks * blockSize);
  const rowScales = new Array<number>(n * blocks);
  const rowZeroPoints = new Array<number>(n * blocks);
  let why: string | undefined;
  for (let row = 0; row < n && !why; row++) {
    for (let block = 0; block < blocks && !why; block++) {
      const z = source.zeroPoint(row, block);
      const scale = Math.fround(source.scale(row, block));
      if (!Number.isInteger(z)) why = `fractional zero points (block ${block} of row ${row}: ${z})`;
      else if (!Number.isFinite(scale)) why = `a scale that is not finite (block ${block} of row ${row})`;
      else {
        // Past k (a partial last block) the codes are padding: the zero point's, sliced off after the RESHAPE.
        const codeAt = (j: number): number => (block * blockSize + j < k ? source.code(row, block * blockSize + j) : z);
        if (!int8Row(codes, row * blocks + block, scale, z, codeAt, blockSize, rowScales, rowZeroPoints)) why = `8-bit codes whose row needs more than int8 (block ${block} of row ${row})`;
      }
    }
  }
  if (!why) return { kind: 'int8', grid, codes, rowScales, rowZeroPoints };
  const values = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let column = 0; column < k; column++) {
      const block = Math.floor(column / blockSize);
      const scale = Math.fround(source.scale(row, block));
      values[row * k + column] = Math.fround(Math.fround(source.code(row, column) * scale) - Math.fround(source.zeroPoint(row, block) * scale));
    }
  }
  return { kind: 'float32', grid, values, why };
}

/** The float32 [n, k] matrix: DEQUANTIZE of the int8 rows → RESHAPE (→ SLICE), or the float32 constant. */
export function dequantizedMatrix(emit: TfliteEmitter, rows: BlockRows): Value {
  const { n, k, blockSize, blocks } = rows.grid;
  if (rows.kind === 'float32') return emit.constant(Tensor.fromBytes('float32', [n, k], new Uint8Array(rows.values.buffer)), 'weights');
  const quant = { scale: rows.rowScales, zeroPoint: rows.rowZeroPoints, axis: 0, bits: 8 };
  const integers = emit.constant(Tensor.fromBytes('int8', [n * blocks, blockSize], new Uint8Array(rows.codes.buffer), quant), 'weights_int8');
  const dequantized = emit.op1('DEQUANTIZE', [integers], {}, tensorType('float32', [n * blocks, blockSize]));
  const matrix = emit.op1('RESHAPE', [dequantized, emit.int32([n, blocks * blockSize], [2], 'weights_shape')], {}, tensorType('float32', [n, blocks * blockSize]));
  if (blocks * blockSize === k) return matrix;
  return emit.op1('SLICE', [matrix, emit.int32([0, 0], [2], 'begin'), emit.int32([n, k], [2], 'size')], {}, tensorType('float32', [n, k]));
}

/** The size note for one node: `info` for int8 rows, a `warning` for float32 values. */
export function storageNote(node: Node, rows: BlockRows, bits: number, packedBytes: number): DiagnosticInit {
  const { n, k, blockSize, blocks } = rows.grid;
  const what = `${node.op.replace(/^com\.microsoft\./, '')} '${node.name}'`;
  if (rows.kind === 'int8') {
    return {
      severity: 'info',
      reason: `${what}: its ${bits}-bit codes are stored as int8 behind a DEQUANTIZE (TFLite 2.9 has no ${bits}-bit tensors; same values as ONNX Runtime's): ${n * blocks * blockSize} bytes instead of ${packedBytes}`,
      source: '@modelpass/tflite',
      location: node.location,
    };
  }
  return {
    severity: 'warning',
    reason: `${what}: ${rows.why} have no exact int8 form, so the table is stored as float32 equal to ONNX Runtime's dequantized values: ${n * k * 4} bytes instead of ${packedBytes}`,
    hint: 'quantize-weights with integer zero points (method=rtn, the default) keeps int8 values in TFLite',
    source: '@modelpass/tflite',
    location: node.location,
  };
}
