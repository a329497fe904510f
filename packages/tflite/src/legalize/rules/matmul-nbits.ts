import { Tensor, tensorType, type DiagnosticInit, type Graph, type Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, rankOfValue, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * `com.microsoft.MatMulNBits` (what `quantize-weights` writes for bits=4): Y = A · dequantize(B)ᵀ (+ bias), B an
 * [N, K] weight in blocks of `block_size` along K, each block with its own scale and zero point. TFLite 2.9 has
 * no 4-bit tensors and no block-wise quantization, so:
 * - integer zero points (packed uint8, or absent: 2^(bits−1)): the weight becomes int8 rows of shape
 *   [N · blocks, block_size] with one scale and zero point per row, that is per (output channel, block): `q − z` at
 *   zero point 0 where it fits int8 (always below 8 bits), else `q − 128` at zero point `z − 128` — TFLite's
 *   per-channel DEQUANTIZE gives scale · (q − z), the value ONNX Runtime dequantizes — then RESHAPE to [N, blocks · block_size] (SLICE to K when the last block is partial) and
 *   FULLY_CONNECTED. DEQUANTIZE of a constant runs once, when TFLite prepares the model; the file holds one byte
 *   per weight (twice the 4-bit codes);
 * - fractional zero points (float, HQQ's), or a scale that is not finite: float32 weights equal to
 *   ORT's dequantized ones (q·scale − z·scale, bit for bit), four bytes per weight. A warning names the node and the size.
 * g_idx (act-order, deprecated in ORT) is refused by node.
 */

const INPUTS = { A: 0, B: 1, scales: 2, zeroPoints: 3, groupIndex: 4, bias: 5 } as const;

interface Layout {
  readonly n: number;
  readonly k: number;
  readonly bits: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly blobSize: number;
}

/** The dequantized weight, in the form TFLite stores it. */
type Weights =
  | { readonly kind: 'int8'; readonly layout: Layout; readonly codes: Int8Array; readonly rowScales: number[]; readonly rowZeroPoints: number[] }
  | { readonly kind: 'float32'; readonly layout: Layout; readonly values: Float32Array; readonly why: string };

function layoutOf(node: Node): Layout | string {
  const k = node.optionalAttr('K', 'int');
  const n = node.optionalAttr('N', 'int');
  const blockSize = node.optionalAttr('block_size', 'int');
  const bits = node.optionalAttr('bits', 'int') ?? 4;
  if (k === undefined || n === undefined || blockSize === undefined) return 'MatMulNBits needs its K, N and block_size attributes';
  if (![2, 4, 8].includes(bits)) return `bits=${bits}: only 2, 4 and 8 (what ONNX Runtime runs) are unpacked`;
  if (k < 1 || n < 1 || blockSize < 1) return `K=${k}, N=${n} and block_size=${blockSize} must be positive`;
  const blocks = Math.ceil(k / blockSize);
  return { n, k, bits, blockSize, blocks, blobSize: (blockSize * bits) / 8 };
}

/** Why `node` cannot be lowered, or undefined. */
function problem(node: Node): string | undefined {
  const layout = layoutOf(node);
  if (typeof layout === 'string') return layout;
  const a = dimsOf(node.inputs[INPUTS.A]);
  if (!a || a.length < 2) return 'MatMulNBits needs A of a known rank ≥ 2';
  if (tensorTypeOf(node.inputs[INPUTS.A])?.dtype !== 'float32') return `MatMulNBits is lowered for float32 A only (A is ${tensorTypeOf(node.inputs[INPUTS.A])?.dtype ?? 'untyped'})`;
  if (node.inputs[INPUTS.groupIndex]) return 'g_idx (act-order block indices) is not supported: quantize without act-order';
  const b = constantOf(node.inputs[INPUTS.B]);
  if (!b || b.dtype !== 'uint8') return 'B must be a constant uint8 tensor (the packed codes)';
  if (b.size !== layout.n * layout.blocks * layout.blobSize) return `B has ${b.size} bytes; K=${layout.k}, N=${layout.n}, bits=${layout.bits}, block_size=${layout.blockSize} pack ${layout.n * layout.blocks * layout.blobSize}`;
  const scales = constantOf(node.inputs[INPUTS.scales]);
  if (!scales || (scales.dtype !== 'float32' && scales.dtype !== 'float16')) return 'scales must be a constant float tensor';
  if (scales.size !== layout.n * layout.blocks) return `scales has ${scales.size} values, one per block needs ${layout.n * layout.blocks}`;
  const zeroPointValue = node.inputs[INPUTS.zeroPoints];
  if (zeroPointValue) {
    const zeroPoints = constantOf(zeroPointValue);
    if (!zeroPoints) return 'zero_points must be a constant';
    const packed = zeroPoints.dtype === 'uint8';
    const want = packed ? layout.n * Math.ceil((layout.blocks * layout.bits) / 8) : layout.n * layout.blocks;
    if (zeroPoints.size !== want) return `zero_points has ${zeroPoints.size} values, expected ${want}`;
  }
  const bias = node.inputs[INPUTS.bias];
  if (bias) {
    const tensor = constantOf(bias);
    if (!tensor || tensor.dtype !== 'float32' || tensor.size !== layout.n) return `bias must be a constant float32 [${layout.n}]`;
  }
  return undefined;
}

/** Zero point of (row, block): packed uint8 codes, floats, or the middle code when absent. */
function zeroPointReader(node: Node, layout: Layout): (row: number, block: number) => number {
  const zeroPoints = constantOf(node.inputs[INPUTS.zeroPoints]);
  if (!zeroPoints) {
    const middle = 1 << (layout.bits - 1);
    return () => middle;
  }
  if (zeroPoints.dtype !== 'uint8') {
    const values = zeroPoints.toNumbers();
    return (row, block) => values[row * layout.blocks + block]!;
  }
  const bytes = zeroPoints.bytes();
  const perRow = Math.ceil((layout.blocks * layout.bits) / 8);
  const mask = (1 << layout.bits) - 1;
  return (row, block) => {
    const bit = block * layout.bits;
    return (bytes[row * perRow + (bit >> 3)]! >> (bit & 7)) & mask;
  };
}

/**
 * One row (a block of one output channel) as int8 with TFLite's per-channel parameters, so that
 * scale' · (stored − zero_point') = scale · (q − z) exactly: q − z at zero point 0 when it fits int8 (always below
 * 8 bits), else q − 128 at zero point z − 128 (uint8 shifted); a negative scale flips the signs, a zero scale is
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

const decoded = new WeakMap<Node, Weights>();

/** The node's weight as int8 rows with per-row scales when that is exact, else as ORT's float32 values [N, K]. */
function weightsOf(node: Node): Weights {
  const cached = decoded.get(node);
  if (cached) return cached;
  const layout = layoutOf(node) as Layout;
  const { n, k, bits, blockSize, blocks, blobSize } = layout;
  const codes = constantOf(node.inputs[INPUTS.B])!.bytes();
  const scales = constantOf(node.inputs[INPUTS.scales])!.toNumbers().map(Math.fround);
  const zeroPoint = zeroPointReader(node, layout);
  const mask = (1 << bits) - 1;
  const code = (row: number, block: number, j: number): number => {
    const bit = j * bits;
    return (codes[(row * blocks + block) * blobSize + (bit >> 3)]! >> (bit & 7)) & mask;
  };
  let weights: Weights | undefined;
  const out = new Int8Array(n * blocks * blockSize);
  const rowScales = new Array<number>(n * blocks);
  const rowZeroPoints = new Array<number>(n * blocks);
  let why: string | undefined;
  for (let row = 0; row < n && !why; row++) {
    for (let block = 0; block < blocks && !why; block++) {
      const index = row * blocks + block;
      const z = zeroPoint(row, block);
      const scale = scales[index]!;
      if (!Number.isInteger(z)) why = `fractional zero points (block ${block} of row ${row}: ${z})`;
      else if (!Number.isFinite(scale)) why = `a scale that is not finite (block ${block} of row ${row})`;
      else why = int8Row(out, index, scale, z, (j) => (block * blockSize + j < k ? code(row, block, j) : z), blockSize, rowScales, rowZeroPoints) ? undefined : `8-bit codes whose row needs more than int8 (block ${block} of row ${row})`;
    }
  }
  if (!why) weights = { kind: 'int8', layout, codes: out, rowScales, rowZeroPoints };
  else {
    const values = new Float32Array(n * k);
    for (let row = 0; row < n; row++) {
      for (let column = 0; column < k; column++) {
        const block = Math.floor(column / blockSize);
        // As ONNX Runtime (1.30) dequantizes with float zero points: q·scale − z·scale, each product rounded to float32.
        const scale = scales[row * blocks + block]!;
        values[row * k + column] = Math.fround(Math.fround(code(row, block, column % blockSize) * scale) - Math.fround(zeroPoint(row, block) * scale));
      }
    }
    weights = { kind: 'float32', layout, values, why };
  }
  decoded.set(node, weights);
  return weights;
}

const matMulNBits: LoweringRule = {
  ops: ['com.microsoft.MatMulNBits'],
  stage: 'lower',
  targets: ['DEQUANTIZE', 'RESHAPE', 'SLICE', 'FULLY_CONNECTED'],
  check: problem,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const weights = weightsOf(node);
    const { n, k, blockSize, blocks } = weights.layout;
    let matrix;
    if (weights.kind === 'int8') {
      const quant = { scale: weights.rowScales, zeroPoint: weights.rowZeroPoints, axis: 0, bits: 8 };
      const integers = emit.constant(Tensor.fromBytes('int8', [n * blocks, blockSize], new Uint8Array(weights.codes.buffer), quant), 'weights_int8');
      const rows = emit.op1('DEQUANTIZE', [integers], {}, tensorType('float32', [n * blocks, blockSize]));
      matrix = emit.op1('RESHAPE', [rows, emit.int32([n, blocks * blockSize], [2], 'weights_shape')], {}, tensorType('float32', [n, blocks * blockSize]));
      if (blocks * blockSize !== k) matrix = emit.op1('SLICE', [matrix, emit.int32([0, 0], [2], 'begin'), emit.int32([n, k], [2], 'size')], {}, tensorType('float32', [n, k]));
    } else {
      matrix = emit.constant(Tensor.fromBytes('float32', [n, k], new Uint8Array(weights.values.buffer)), 'weights');
    }
    const bias = node.inputs[INPUTS.bias] ? emit.constant(constantOf(node.inputs[INPUTS.bias])!.reshape([n]), 'bias') : null;
    const keep = rankOfValue(node.inputs[INPUTS.A])! > 2 ? 1 : 0;
    replaceNode(node, [emit.op1('FULLY_CONNECTED', [node.input(INPUTS.A), matrix, bias], { fused_activation_function: 'NONE', keep_num_dims: keep }, node.output(0).type)]);
  },
};

/**
 * What legalize-tflite tells the user about each MatMulNBits it will lower: the size its weight takes in the
 * .tflite file (TFLite 2.9 has no 4-bit tensors) — a note for int8 rows, a warning for float32 weights.
 */
export function matMulNBitsNotes(graph: Graph): DiagnosticInit[] {
  const notes: DiagnosticInit[] = [];
  for (const node of graph.nodes()) {
    if (node.op !== 'com.microsoft.MatMulNBits' || problem(node) !== undefined) continue;
    const weights = weightsOf(node);
    const { n, k, bits } = weights.layout;
    const packed = constantOf(node.inputs[INPUTS.B])!.size;
    const location = node.location;
    if (weights.kind === 'int8') {
      notes.push({
        severity: 'info',
        reason: `MatMulNBits '${node.name}': its ${bits}-bit codes are stored as int8 behind a DEQUANTIZE (TFLite 2.9 has no ${bits}-bit tensors; same values as ONNX Runtime's): ${n * weights.layout.blocks * weights.layout.blockSize} bytes instead of ${packed}`,
        source: '@modelpass/tflite',
        location,
      });
    } else {
      notes.push({
        severity: 'warning',
        reason: `MatMulNBits '${node.name}': ${weights.why} have no exact int8 form, so the weight is stored as float32 equal to ONNX Runtime's dequantized values: ${n * k * 4} bytes instead of ${packed}`,
        hint: 'quantize-weights with integer zero points (method=minmax, the default) keeps int8 weights in TFLite',
        source: '@modelpass/tflite',
        location,
      });
    }
    if ((node.optionalAttr('accuracy_level', 'int') ?? 0) === 4) {
      notes.push({
        severity: 'info',
        reason: `MatMulNBits '${node.name}' has accuracy_level=4: ONNX Runtime rounds A to int8 blocks before multiplying (where the CPU has that kernel), TFLite multiplies in float32, so their outputs differ by that rounding (TFLite's equal ONNX Runtime's at accuracy_level=0)`,
        source: '@modelpass/tflite',
        location,
      });
    }
  }
  return notes;
}

export const matMulNBitsRules: readonly LoweringRule[] = [matMulNBits];
