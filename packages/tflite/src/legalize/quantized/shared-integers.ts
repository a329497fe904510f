/**
 * One constant of integers read by DequantizeLinear nodes with different scales or zero points (quantize-static's
 * compact-qdq merges identical initializers: every positive scalar a full-integer model quantizes with its own range
 * is the code 255 at zero point 0 — a LayerNorm's ε, attention's 1/√d — so one `255` serves them all): fold-qdq can
 * give a value one quant<> type only, so it left those alone and fold-constants made them float32 constants, which
 * full-integer=true then refused ("a float constant, not quantized"). Each such DequantizeLinear gets its own copy
 * of the integers (the first keeps the original); the reals are unchanged. The same merge also makes the code a
 * QuantizeLinear's zero point (255 for a tensor that is never positive): then each gets a copy (PaddleOCR's HardSwish +3
 * and ×1/6 read the `255` that quantizes a Conv's output; fold-qdq refused to type a constant also read as a zero point).
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

/**
 * Gives each set of DequantizeLinear nodes that read a shared integer constant with their own parameters a copy of
 * the integers; returns how many copies. The first set keeps the original, unless something else reads it too (a
 * QuantizeLinear's zero point — compact-qdq also merges a zero point 255 with the code 255 —, another op, a graph
 * output): then every set gets a copy and the original stays with those readers.
 */
export function unshareDequantizedIntegers(graph: Graph): number {
  let copies = 0;
  const seen = new Set<Value>();
  for (const node of graph.nodesOf('onnx.DequantizeLinear')) {
    const integers = node.inputs[0];
    if (!integers?.constant || integers.isGraphInput || seen.has(integers)) continue;
    seen.add(integers);
    const sets = new Map<string, Node[]>();
    let readElsewhere = integers.isGraphOutput;
    for (const use of [...integers.uses]) {
      const reader = use.node;
      const key = reader?.op === 'onnx.DequantizeLinear' && use.index === 0 ? paramsKey(reader) : undefined;
      if (!reader || key === undefined) {
        readElsewhere = true;
        continue;
      }
      const set = sets.get(key);
      if (set) set.push(reader);
      else sets.set(key, [reader]);
    }
    if (sets.size === 0 || (sets.size === 1 && !readElsewhere)) continue;
    [...sets.values()].forEach((readers, index) => {
      if (index === 0 && !readElsewhere) return;
      const copy = graph.addConstant(graph.uniqueName(`${integers.name}_${index}`), integers.constant!);
      for (const reader of readers) reader.setInput(0, copy);
      copies++;
    });
  }
  return copies;
}
