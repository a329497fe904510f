/**
 * Integer inputs that index a table: token ids read by a Gather (an ONNX Embedding is a Gather on a
 * weight), whose random values must stay within the table's rows or ONNX Runtime refuses the run
 * ("indices element out of data bounds"). The table tells the bound: the size of the Gather's data on
 * its axis. An input with several such readers takes the smallest bound.
 */
import { isFloatDType, type Model, type Node, type Value } from '@modelpass/ir';

/** Why an input's random values were held to a smaller range than the default. */
export interface IndexInputBound {
  /** Values drawn stay in `[0, size - 1]`. */
  readonly size: number;
  /** The reader that tells the bound, e.g. `Gather '/e/Gather' indexes axis 0 of size 5`. */
  readonly reader: string;
}

/**
 * Ops whose input `indices` indexes input `data`: along the `axis` attribute (default 0), or — `nd` — along the
 * data's leading dims after `batch_dims`, one per element of the indices' last dim (GatherND).
 */
const INDEXING_OPS: ReadonlyMap<string, { readonly indices: number; readonly data: number; readonly nd?: true }> = new Map([
  ['onnx.Gather', { indices: 1, data: 0 }],
  ['onnx.GatherElements', { indices: 1, data: 0 }],
  ['onnx.GatherND', { indices: 1, data: 0, nd: true }],
  ['tflite.GATHER', { indices: 1, data: 0 }],
  ['tflite.GATHER_ND', { indices: 1, data: 0, nd: true }],
  ['tflite.EMBEDDING_LOOKUP', { indices: 0, data: 1 }],
]);

/** Which inputs of an op carry values through to which outputs unchanged (`'all'`: every one). */
interface ValuePath {
  readonly inputs: readonly number[] | 'all';
  readonly outputs: readonly number[] | 'all';
}
const FIRST_TO_FIRST: ValuePath = { inputs: [0], outputs: [0] };

/**
 * Ops that pass values of an input through unchanged (rearranged, selected, repeated or retyped), which an id may
 * cross before its table: Cast, Reshape, Slice, a Gather's data (`ids[:, 0]`), Concat's operands, Split's parts, …;
 * Pad adds its pad value (0 by default); and Mod, which leaves ids below its divisor as they are (a TorchScript
 * nn.Embedding reads Mod(ids, rows), so negative ids wrap), so a bound found after it holds before it.
 */
const VALUE_PRESERVING_OPS: ReadonlyMap<string, ValuePath> = new Map([
  ...['Cast', 'Identity', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Transpose', 'Expand', 'Mod', 'Slice', 'Gather', 'GatherElements', 'GatherND', 'Tile', 'Pad']
    .map((op) => [`onnx.${op}`, FIRST_TO_FIRST] as const),
  ['onnx.Concat', { inputs: 'all', outputs: [0] }],
  ['onnx.Split', { inputs: [0], outputs: 'all' }],
  ...['CAST', 'RESHAPE', 'SQUEEZE', 'EXPAND_DIMS', 'TRANSPOSE', 'FLOOR_MOD', 'SLICE', 'STRIDED_SLICE', 'GATHER', 'GATHER_ND', 'TILE', 'PAD', 'PADV2', 'BROADCAST_TO']
    .map((op) => [`tflite.${op}`, FIRST_TO_FIRST] as const),
  ['tflite.CONCATENATION', { inputs: 'all', outputs: [0] }],
  ['tflite.SPLIT', { inputs: [1], outputs: 'all' }],
  ['tflite.SPLIT_V', { inputs: [0], outputs: 'all' }],
]);

/**
 * For each integer graph input whose values index a table, the table's size (the smallest over its readers),
 * found through value-preserving ops (Cast, Reshape, Unsqueeze, …). Inputs with no such reader, or whose
 * tables have no static size on the indexed axis, are absent.
 */
export function indexInputBounds(model: Model): Map<string, IndexInputBound> {
  const bounds = new Map<string, IndexInputBound>();
  for (const input of model.graph.inputs) {
    if (input.type.kind !== 'tensor' || isFloatDType(input.type.dtype) || input.type.dtype === 'bool' || input.type.dtype === 'string') continue;
    let best: IndexInputBound | undefined;
    for (const found of tableBounds(input, new Set())) if (!best || found.size < best.size) best = found;
    if (best) bounds.set(input.name, best);
  }
  return bounds;
}

function tableBounds(value: Value, seen: Set<Value>): IndexInputBound[] {
  if (seen.has(value)) return [];
  seen.add(value);
  const found: IndexInputBound[] = [];
  for (const use of value.uses) {
    const node = use.node;
    if (!node) continue;
    const indexing = INDEXING_OPS.get(node.op);
    if (indexing && use.index === indexing.indices) {
      const bound = indexing.nd ? gatherNdSize(node, indexing.data, indexing.indices) : indexedSize(node, indexing.data);
      if (bound) found.push(bound);
      continue;
    }
    const path = VALUE_PRESERVING_OPS.get(node.op);
    if (!path || (path.inputs !== 'all' && !path.inputs.includes(use.index))) continue;
    node.outputs.forEach((output, index) => {
      if (output && (path.outputs === 'all' || path.outputs.includes(index))) found.push(...tableBounds(output, seen));
    });
  }
  return found;
}

function indexedSize(node: Node, dataIndex: number): IndexInputBound | undefined {
  const data = node.inputs[dataIndex];
  if (!data || data.type.kind !== 'tensor' || !data.type.shape) return undefined;
  const rank = data.type.shape.length;
  const given = Number(node.optionalAttr('axis', 'int') ?? 0);
  const axis = given < 0 ? given + rank : given;
  const size = data.type.shape[axis];
  if (typeof size !== 'number' || size <= 0) return undefined;
  const op = node.op.slice(node.op.indexOf('.') + 1);
  return { size, reader: `${op} '${node.name || node.outputs[0]?.name || '?'}' indexes axis ${axis} of size ${size}` };
}

/**
 * GatherND: each index row of the indices' last dim (k, static) picks data dims batch_dims … batch_dims + k - 1,
 * so every id stays below the smallest of them.
 */
function gatherNdSize(node: Node, dataIndex: number, indicesIndex: number): IndexInputBound | undefined {
  const data = node.inputs[dataIndex];
  const indices = node.inputs[indicesIndex];
  if (!data || data.type.kind !== 'tensor' || !data.type.shape || !indices) return undefined;
  const batchDims = node.op === 'onnx.GatherND' ? Number(node.optionalAttr('batch_dims', 'int') ?? 0) : 0;
  // Indices of unknown shape (a file without value_info): every data dim after batch_dims may be picked.
  const lastDim = indices.type.kind === 'tensor' && indices.type.shape ? indices.type.shape[indices.type.shape.length - 1] : undefined;
  const depth = typeof lastDim === 'number' && lastDim > 0 ? lastDim : data.type.shape.length - batchDims;
  let best: { size: number; axis: number } | undefined;
  for (let axis = batchDims; axis < Math.min(batchDims + depth, data.type.shape.length); axis++) {
    const size = data.type.shape[axis];
    if (typeof size !== 'number' || size <= 0) return undefined;
    if (!best || size < best.size) best = { size, axis };
  }
  if (!best) return undefined;
  const op = node.op.slice(node.op.indexOf('.') + 1);
  return { size: best.size, reader: `${op} '${node.name || node.outputs[0]?.name || '?'}' indexes axis ${best.axis} of size ${best.size}` };
}
