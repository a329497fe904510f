/**
 * One constant of integers read by DequantizeLinear nodes with different scales or zero points (quantize-static's
 * compact-qdq merges identical initializers: every positive scalar a full-integer model quantizes with its own range
 * is the code 255 at zero point 0 — a LayerNorm's ε, attention's 1/√d — so one `255` serves them all): fold-qdq can
 * give a value one quant<> type only, so it left those alone and fold-constants made them float32 constants, which
 * full-integer=true then refused ("a float constant, not quantized"). Each such DequantizeLinear gets its own copy
 * of the integers (the first keeps the original); the reals are unchanged.
 */
import type { Graph, Node, Value } from '@modelpass/ir';

/** The scale and zero point a DequantizeLinear reads, as text (constants only; undefined otherwise). */
function paramsKey(node: Node): string | undefined {
  const scale = node.inputs[1]?.constant;
  if (!scale) return undefined;
  const zeroPoint = node.inputs[2];
  if (zeroPoint && !zeroPoint.constant) return undefined;
  const axis = node.optionalAttr('axis', 'int') ?? 1;
  return JSON.stringify([scale.toNumbers(), zeroPoint?.constant?.dtype ?? '', zeroPoint?.constant?.toNumbers() ?? [], axis]);
}

/** Gives each DequantizeLinear of a shared integer constant with other parameters its own copy; returns how many copies. */
export function unshareDequantizedIntegers(graph: Graph): number {
  let copies = 0;
  const seen = new Set<Value>();
  for (const node of graph.nodesOf('onnx.DequantizeLinear')) {
    const integers = node.inputs[0];
    if (!integers?.constant || integers.isGraphInput || seen.has(integers)) continue;
    seen.add(integers);
    const readers = integers.users;
    if (readers.length < 2 || !readers.every((reader) => reader.op === 'onnx.DequantizeLinear' && reader.inputs[0] === integers)) continue;
    const keys = readers.map(paramsKey);
    if (keys.some((key) => key === undefined) || new Set(keys).size === 1) continue;
    const firstKey = keys[0];
    readers.forEach((reader, index) => {
      if (keys[index] === firstKey) return;
      reader.setInput(0, graph.addConstant(graph.uniqueName(`${integers.name}_${index}`), integers.constant!));
      copies++;
    });
  }
  return copies;
}
