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

/** Ops whose input `indices` indexes input `data` along the `axis` attribute (default 0). */
const INDEXING_OPS: ReadonlyMap<string, { readonly indices: number; readonly data: number }> = new Map([
  ['onnx.Gather', { indices: 1, data: 0 }],
  ['onnx.GatherElements', { indices: 1, data: 0 }],
  ['tflite.GATHER', { indices: 1, data: 0 }],
  ['tflite.EMBEDDING_LOOKUP', { indices: 0, data: 1 }],
]);

/**
 * Ops that pass their first input's values through unchanged (rearranged or retyped), which an id may cross first;
 * and Mod, which leaves ids below its divisor as they are (a TorchScript nn.Embedding reads Mod(ids, rows), so
 * negative ids wrap), so a bound found after it holds before it.
 */
const VALUE_PRESERVING_OPS: ReadonlySet<string> = new Set([
  'onnx.Cast', 'onnx.Identity', 'onnx.Reshape', 'onnx.Squeeze', 'onnx.Unsqueeze', 'onnx.Flatten', 'onnx.Transpose', 'onnx.Expand', 'onnx.Mod',
  'tflite.CAST', 'tflite.RESHAPE', 'tflite.SQUEEZE', 'tflite.EXPAND_DIMS', 'tflite.TRANSPOSE', 'tflite.FLOOR_MOD',
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
      const bound = indexedSize(node, indexing.data);
      if (bound) found.push(bound);
    } else if (VALUE_PRESERVING_OPS.has(node.op) && use.index === 0 && node.outputs[0]) {
      found.push(...tableBounds(node.outputs[0], seen));
    }
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
