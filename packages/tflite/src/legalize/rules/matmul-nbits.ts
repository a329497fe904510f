import type { DiagnosticInit, Graph, Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, rankOfValue, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { blockGrid, decodeBlockRows, dequantizedMatrix, packedCode, storageNote, zeroPointsOf, type BlockRows } from './block-quantized.js';

/**
 * `com.microsoft.MatMulNBits` (what `quantize-weights` writes for bits=4): Y = A · dequantize(B)ᵀ (+ bias), B an
 * [N, K] weight in blocks of `block_size` along K, each block with its own scale and zero point. B becomes the
 * float32 [N, K] matrix `block-quantized.ts` makes (int8 rows behind a per-channel DEQUANTIZE, bit for bit what
 * ONNX Runtime dequantizes, or float32 values for fractional zero points) and FULLY_CONNECTED multiplies by it.
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

const decoded = new WeakMap<Node, BlockRows>();

/** B as `block-quantized.ts` stores it (decoded once per node). */
function weightsOf(node: Node): BlockRows {
  const cached = decoded.get(node);
  if (cached) return cached;
  const { n, k, bits, blockSize, blocks, blobSize } = layoutOf(node) as Layout;
  const grid = blockGrid(n, k, blockSize);
  const codes = constantOf(node.inputs[INPUTS.B])!.bytes();
  const scales = constantOf(node.inputs[INPUTS.scales])!.toNumbers();
  const rows = decodeBlockRows(grid, {
    // Each block is a blob of its own: a partial last block is padded to block_size codes.
    code: (row, column) => packedCode(codes, bits, (row * blocks + Math.floor(column / blockSize)) * blobSize, column % blockSize),
    scale: (row, block) => scales[row * blocks + block]!,
    zeroPoint: zeroPointsOf(constantOf(node.inputs[INPUTS.zeroPoints]), grid, bits, 1 << (bits - 1)),
  });
  decoded.set(node, rows);
  return rows;
}

const matMulNBits: LoweringRule = {
  ops: ['com.microsoft.MatMulNBits'],
  stage: 'lower',
  targets: ['DEQUANTIZE', 'RESHAPE', 'SLICE', 'FULLY_CONNECTED'],
  check: problem,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const weights = weightsOf(node);
    const n = weights.grid.n;
    const matrix = dequantizedMatrix(emit, weights);
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
    const location = node.location;
    notes.push(storageNote(node, weightsOf(node), (layoutOf(node) as Layout).bits, constantOf(node.inputs[INPUTS.B])!.size));
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
