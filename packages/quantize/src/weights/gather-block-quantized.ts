/**
 * int4 embedding tables for `quantize-weights{bits=4}`: a Gather of a constant float32 `[V, D]` table
 * along axis 0 becomes ONNX Runtime's `com.microsoft.GatherBlockQuantized`, which gathers the packed
 * 4-bit rows and dequantizes only those:
 *
 *   GatherBlockQuantized(table uint8 [V, D/2], ids, scales [V, ceil(D/bs)], zero_points?) {bits=4,
 *   block_size=bs, gather_axis=0, quantize_axis=1}
 *
 * The table is quantized as the MatMul weights are (groups of `block-size` along D, per row, RTN or
 * HQQ with integer zero points): it is read like an n-major `[N=V, K=D]` weight, tile by tile.
 * Codes are packed two a byte, low nibble first; zero points likewise, left out when every one is
 * the middle code 8 (ORT's default for uint8 data).
 */
import { Builder, type Model, type Node, type Value } from '@modelpass/ir';
import type { GatherTable } from '../gather-tables.js';
import type { SharedWeightConstants } from '../shared-weights.js';
import type { LinearLayer } from './linear-layers.js';
import { MICROSOFT_DOMAIN, packCodes } from './matmul-nbits.js';
import type { QuantizedWeight } from './quantized-weight.js';
import type { TensorMaker } from './spill-file.js';

export const GATHER_BLOCK_QUANTIZED = `${MICROSOFT_DOMAIN}.GatherBlockQuantized`;

/** The table seen as an n-major linear weight (N = rows, K = row length), or why it cannot be quantized in blocks. */
export function tableAsWeight(table: GatherTable): LinearLayer | string {
  const { node, tensor } = table;
  const axis = node.getAttribute('axis');
  const gatherAxis = axis?.kind === 'int' ? Number(axis.value) : 0;
  if (tensor.rank !== 2) return `its table '${table.table.name}' has rank ${tensor.rank}, not 2`;
  if (gatherAxis !== 0 && gatherAxis !== -2) return `it gathers along axis ${gatherAxis}, not along the table's rows`;
  const [rows, length] = tensor.shape as [number, number];
  if (length % 2 !== 0) return `its rows hold ${length} values, an odd count that 4-bit codes cannot pack two a byte`;
  return { node, weight: table.table, tensor, k: length, n: rows, layout: 'n-major', alpha: 1, beta: 1, bias: null };
}

/** The packed table, scales and (when not all 8) zero points of `weight`, a table of [n rows, k values]. */
function tableConstants(b: Builder, name: string, weight: QuantizedWeight, make: TensorMaker): Value[] {
  const { n, k, groups, scheme } = weight;
  const rowCodes = groups * scheme.groupSize;
  const packedRow = k / 2;
  const packed = new Uint8Array(n * packedRow);
  for (let row = 0; row < n; row++) packCodes(weight.codes, 4, row * rowCodes, k, packed, row * packedRow);
  const scales = weight.scales;
  const made = [
    b.constant(make('uint8', [n, packedRow], packed), `${name}_Q4`),
    b.constant(make('float32', [n, groups], new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength)), `${name}_scales`),
  ];
  if (weight.zeroPoints.some((z) => z !== 8)) {
    const perRow = Math.ceil(groups / 2);
    const zeros = new Uint8Array(n * perRow);
    const codes = Uint8Array.from(weight.zeroPoints);
    for (let row = 0; row < n; row++) packCodes(codes, 4, row * groups, groups, zeros, row * perRow);
    made.push(b.constant(make('uint8', [n, perRow], zeros), `${name}_zero_points`));
  }
  return made;
}

/** Replaces the table's Gather by GatherBlockQuantized reading `weight` (made once per table when `shared`). */
export function replaceWithGatherBlockQuantized(model: Model, table: GatherTable, weight: QuantizedWeight, make: TensorMaker, shared?: SharedWeightConstants): Node {
  const { node } = table;
  const b = Builder.before(node);
  const makeConstants = () => tableConstants(b, table.table.name, weight, make);
  const constants = shared ? shared.get(table.table, `gather-block:${weight.scheme.groupSize}`, makeConstants).value : makeConstants();
  const output = node.output(0);
  const gather = b.create(GATHER_BLOCK_QUANTIZED, [constants[0]!, node.input(1), ...constants.slice(1)], { bits: 4, block_size: weight.scheme.groupSize, gather_axis: 0, quantize_axis: 1 }, { name: `${node.name}_Q4`, types: [output.type] });
  model.opsetImports.set(MICROSOFT_DOMAIN, Math.max(1, model.opsetImports.get(MICROSOFT_DOMAIN) ?? 1));
  output.replaceAllUsesWith(gather.output(0));
  node.erase();
  return gather;
}

/** What quantizeTablesInBlocks reports through (a pass context). */
export interface BlockTableReporting {
  statistic(name: string, amount?: number): void;
  debug(message: string): void;
  /** A table left float32 although `gather` asked for it (a warning: the file stays larger than the user expects). */
  warn(message: string): void;
}

/**
 * Rewrites each table's Gather as GatherBlockQuantized (tables several Gathers read are quantized and
 * stored once); a table that cannot be (rank, axis, odd row length) stays float with a debug line.
 * `quantize(layer)` quantizes the table seen as an n-major weight with the pass's scheme and method.
 */
export function quantizeTablesInBlocks(
  model: Model,
  tables: readonly GatherTable[],
  quantize: (layer: LinearLayer) => QuantizedWeight,
  make: TensorMaker,
  shared: SharedWeightConstants,
  context: BlockTableReporting,
): void {
  const quantized = new Map<Value, QuantizedWeight>();
  const leftFloat: string[] = [];
  let count = 0;
  for (const table of tables) {
    const layer = tableAsWeight(table);
    if (typeof layer === 'string') {
      context.debug(`${table.node.name}: table left float (${layer})`);
      leftFloat.push(`'${table.node.name}' (${layer})`);
      continue;
    }
    const reused = quantized.has(table.table);
    const weight = quantized.get(table.table) ?? quantize(layer);
    quantized.set(table.table, weight);
    const node = replaceWithGatherBlockQuantized(model, table, weight, make, shared);
    count++;
    context.statistic('gather-tables-quantized');
    if (reused) context.statistic('weights-shared');
    else {
      context.statistic('weight-bytes-before', table.tensor.byteLength);
      context.statistic('weight-bytes-after', node.inputs.reduce((sum, value, i) => sum + (i === 1 ? 0 : (value?.constant?.byteLength ?? 0)), 0));
    }
    context.debug(`${table.node.name}: Gather of the [${layer.n}×${layer.k}] table '${table.table.name}' → GatherBlockQuantized, 4-bit groups of ${weight.scheme.groupSize}${reused ? ', reading the table an earlier Gather made' : ''}`);
  }
  if (count > 0) context.debug(`${count} embedding table Gather(s) quantized to 4 bits (option gather=false leaves them float)`);
  if (leftFloat.length > 0) context.warn(`${leftFloat.length} embedding table Gather(s) left float32, not 4-bit: ${leftFloat.join('; ')}; bits=8 stores such a table int8`);
}
