import { attrs, type DiagnosticInit, type Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { blockGrid, decodeBlockRows, dequantizedMatrix, packedCode, storageNote, zeroPointsOf, type BlockGrid, type BlockRows } from './block-quantized.js';

/**
 * `com.microsoft.GatherBlockQuantized` (what `quantize-weights{bits=4}` writes for an embedding table): rows of a
 * [V, D] table quantized in blocks along D, gathered by run-time ids. The table becomes the float32 [V, D] matrix
 * `block-quantized.ts` makes (int8 rows behind a per-channel DEQUANTIZE that TFLite runs once, at preparation, bit
 * for bit what ONNX Runtime dequantizes), then the ids are gathered from it as onnx.Gather (lowered like any Gather:
 * negative ids too). Rank-2 tables gathered along axis 0 and quantized along axis 1, uint8 data (4 or 8 bits).
 */

const INPUTS = { data: 0, indices: 1, scales: 2, zeroPoints: 3 } as const;

interface Table {
  readonly grid: BlockGrid;
  readonly bits: number;
  /** Bytes of one stored row. */
  readonly rowBytes: number;
}

function tableOf(node: Node): Table | string {
  const data = constantOf(node.inputs[INPUTS.data]);
  if (!data) return 'the table (data) must be a constant';
  if (data.dtype !== 'uint8') return `data of dtype ${data.dtype} is not supported (uint8 codes, what quantize-weights writes)`;
  if (data.rank !== 2) return `the table has rank ${data.rank}; rank 2 ([rows, packed row]) is supported`;
  if (normalizeAxis(node.optionalAttr('gather_axis', 'int') ?? 0, 2) !== 0) return 'only gather_axis 0 (rows) is supported';
  if (normalizeAxis(node.optionalAttr('quantize_axis', 'int') ?? 1, 2) !== 1) return 'only quantize_axis 1 (blocks along each row) is supported';
  const bits = node.optionalAttr('bits', 'int') ?? 4;
  if (bits !== 4 && bits !== 8) return `bits=${bits}: 4 or 8`;
  const blockSize = node.optionalAttr('block_size', 'int') ?? 128;
  if (blockSize < 1) return `block_size ${blockSize} must be positive`;
  const [rows, rowBytes] = data.shape as [number, number];
  const grid = blockGrid(rows, (rowBytes * 8) / bits, blockSize);
  const scales = constantOf(node.inputs[INPUTS.scales]);
  if (!scales || (scales.dtype !== 'float32' && scales.dtype !== 'float16')) return 'scales must be a constant float tensor';
  if (scales.size !== grid.n * grid.blocks) return `scales has ${scales.size} values, one per block needs ${grid.n * grid.blocks}`;
  if (node.inputs[INPUTS.zeroPoints]) {
    const zeroPoints = constantOf(node.inputs[INPUTS.zeroPoints]);
    if (!zeroPoints) return 'zero_points must be a constant';
    const want = zeroPoints.dtype === 'uint8' ? grid.n * Math.ceil((grid.blocks * bits) / 8) : grid.n * grid.blocks;
    if (zeroPoints.size !== want) return `zero_points has ${zeroPoints.size} values, expected ${want}`;
  }
  if (tensorTypeOf(node.outputs[0])?.dtype !== 'float32') return 'GatherBlockQuantized is lowered for a float32 output only';
  if (!dimsOf(node.inputs[INPUTS.indices])) return 'needs the indices shape';
  return { grid, bits, rowBytes };
}

const decoded = new WeakMap<Node, BlockRows>();

function rowsOf(node: Node): BlockRows {
  const cached = decoded.get(node);
  if (cached) return cached;
  const { grid, bits, rowBytes } = tableOf(node) as Table;
  const codes = constantOf(node.inputs[INPUTS.data])!.bytes();
  const scales = constantOf(node.inputs[INPUTS.scales])!.toNumbers();
  const rows = decodeBlockRows(grid, {
    // Rows are packed whole (no padding per block): element `column` of row `row`.
    code: (row, column) => packedCode(codes, bits, row * rowBytes, column),
    scale: (row, block) => scales[row * grid.blocks + block]!,
    zeroPoint: zeroPointsOf(constantOf(node.inputs[INPUTS.zeroPoints]), grid, bits, 1 << (bits - 1)),
  });
  decoded.set(node, rows);
  return rows;
}

const gatherBlockQuantized: LoweringRule = {
  ops: ['com.microsoft.GatherBlockQuantized'],
  stage: 'lower',
  targets: ['DEQUANTIZE', 'RESHAPE', 'SLICE', 'GATHER'],
  check(node) {
    const table = tableOf(node);
    return typeof table === 'string' ? table : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const matrix = dequantizedMatrix(emit, rowsOf(node));
    replaceNode(node, [emit.at.op1('onnx.Gather', [matrix, node.input(INPUTS.indices)], { axis: attrs.int(0) }, { types: [node.output(0).type], name: `${node.name}_gather` })]);
  },
};

/** The size note of each GatherBlockQuantized legalize-tflite will lower (see `storageNote`). */
export function gatherBlockQuantizedNote(node: Node): DiagnosticInit | undefined {
  const table = tableOf(node);
  if (typeof table === 'string') return undefined;
  return storageNote(node, rowsOf(node), table.bits, constantOf(node.inputs[INPUTS.data])!.size);
}

export const gatherBlockQuantizedRules: readonly LoweringRule[] = [gatherBlockQuantized];
