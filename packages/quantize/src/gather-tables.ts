/**
 * Embedding tables: a Gather whose data is a constant float32 table (an nn.Embedding's weight read by
 * int64 ids). `quantize-dynamic` and `quantize-weights{bits=8}` store the table as int8 (per tensor,
 * symmetric, zero point 0) and gather the int8 rows, then dequantize only those:
 *
 *   Gather(table_q, ids) ─ DequantizeLinear(·, scale, 0) ─ (what read the Gather)
 *
 * — ONNX Runtime's own `quantize_dynamic` does the same for Gather. A DequantizeLinear before the
 * Gather would dequantize the whole table on every run (ORT does not constant-fold DequantizeLinear).
 */
import { Builder, quantizeSymmetric, tensorType, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';
import { constantBytes, type SharedWeightConstants } from './shared-weights.js';

/** Tables smaller than this stay float (position tables of a few rows, tiny lookups). */
export const GATHER_TABLE_MIN_ELEMENTS = 1024;

export interface GatherTable {
  readonly node: Node;
  readonly table: Value;
  readonly tensor: Tensor;
}

/** Gathers reading a constant float32 table of at least `minElements` values, in graph order. */
export function findGatherTables(model: Model, minElements = GATHER_TABLE_MIN_ELEMENTS): GatherTable[] {
  const tables: GatherTable[] = [];
  for (const node of model.graph.nodesOf('onnx.Gather')) {
    const table = node.inputs[0];
    const tensor = table?.isConstant ? table.constant : undefined;
    if (!table || !tensor || tensor.dtype !== 'float32' || tensor.size < minElements) continue;
    tables.push({ node, table, tensor });
  }
  return tables;
}

/**
 * The int8 codes, scale and zero point of `table`'s tensor, per tensor: made once per table (several
 * Gathers of one table read the same constants). The key is the one quantize-dynamic's QDQ form
 * gives an n-major (`[N, K]`) per-tensor int8 weight, so a tied LM head (Gemm transB=1 on the same
 * table) with the same grid reads these constants too.
 */
function tableConstants(entry: GatherTable, b: Builder, shared: SharedWeightConstants): { constants: readonly Value[]; reused: boolean } {
  const name = entry.table.name;
  const { value, reused } = shared.get(entry.table, 'qdq:n-major:int8:tensor', () => {
    const q = quantizeSymmetric(entry.tensor, { bits: 8 });
    return [b.constant(q.values, `${name}_quantized`), b.constant(q.scale, `${name}_scale`), b.constant(q.zeroPoint, `${name}_zero_point`)];
  });
  return { constants: value, reused };
}

/** Rewrites one Gather as int8 Gather → DequantizeLinear; returns whether its constants were already made. */
export function quantizeGatherTable(entry: GatherTable, shared: SharedWeightConstants): { reused: boolean; constants: readonly Value[] } {
  const { node } = entry;
  const b = Builder.before(node);
  const { constants, reused } = tableConstants(entry, b, shared);
  const [values, scale, zeroPoint] = constants as [Value, Value, Value];
  const output = node.output(0);
  const shape = output.type.kind === 'tensor' ? output.type.shape : null;
  const attributes = Object.fromEntries([...node.attributes]);
  const gathered = b.op1('onnx.Gather', [values, node.input(1)], attributes, { name: `${node.name}_quantized`, types: [tensorType('int8', shape)] });
  const dq = b.op1('onnx.DequantizeLinear', [gathered, scale, zeroPoint], {}, { name: `${node.name}_DequantizeLinear`, types: [output.type] });
  output.replaceAllUsesWith(dq);
  node.erase();
  return { reused, constants };
}

/** What quantizeGatherTables reports through: a pass context's statistics and debug lines. */
export interface GatherTableReporting {
  statistic(name: string, amount?: number): void;
  debug(message: string): void;
}

/**
 * Rewrites every table (see quantizeGatherTable) and says so: statistics `gather-tables-quantized`,
 * `weights-shared` (a table an earlier Gather made) and the weight bytes before/after, one debug line
 * per table and a summary line.
 */
export function quantizeGatherTables(tables: readonly GatherTable[], shared: SharedWeightConstants, context: GatherTableReporting): void {
  for (const table of tables) {
    const { reused, constants } = quantizeGatherTable(table, shared);
    context.statistic('gather-tables-quantized');
    if (reused) context.statistic('weights-shared');
    else {
      context.statistic('weight-bytes-before', table.tensor.byteLength);
      context.statistic('weight-bytes-after', constantBytes(constants));
    }
    context.debug(`${table.node.name}: Gather of the [${table.tensor.shape.join('×')}] table '${table.table.name}' → int8 Gather → DequantizeLinear (per tensor)${reused ? ', reading the int8 table an earlier Gather made' : ''}`);
  }
  if (tables.length > 0) context.debug(`${tables.length} embedding table Gather(s) quantized (option gather=false leaves them float)`);
}
