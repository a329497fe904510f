import { isTensorType, type Graph, type Node } from '@modelpass/ir';
import { qdqNodeParams } from './boundary-qdq.js';
import { sameQuant } from './quant-values.js';

/**
 * An activation the model returns and also quantizes for the next op (quantize-static on a feature map that is a
 * graph output, as SSDlite's backbone features): `op → reals (graph output) → QuantizeLinear → q → DequantizeLinear
 * → next op`. fold-qdq leaves the pair alone (the reals are returned), so `op` ran in float and so did the next op,
 * between a DEQUANTIZE and a QUANTIZE. Here the graph output becomes the DequantizeLinear of q (its readers share one,
 * the output keeps its name): `op` computes q (int8), the next op reads q (int8), and the output is q's reals — within
 * half a step of q's scale of ORT's float output (ORT's next op reads those same reals). Returns the outputs moved.
 */
export function returnDequantizedActivations(graph: Graph): number {
  let count = 0;
  for (const quantize of graph.nodeList()) {
    if (quantize.op !== 'onnx.QuantizeLinear' || !quantize.outputs[0]) continue;
    const reals = quantize.inputs[0];
    const producer = reals?.producer;
    if (!reals || !producer || producer.op === 'onnx.Constant' || !reals.isGraphOutput || reals.isGraphInput) continue;
    if (!isTensorType(reals.type) || reals.type.dtype !== 'float32' || reals.users.some((user) => user !== quantize)) continue;
    const params = qdqNodeParams(quantize);
    if (typeof params === 'string' || params.quant.axis !== undefined) continue;
    const integers = quantize.output(0);
    if (integers.isGraphOutput || !integers.hasUses) continue;
    const dequantizers = integers.users;
    const matching = dequantizers.every((reader) => {
      if (reader.op !== 'onnx.DequantizeLinear' || reader.inputs[0] !== integers || reader.output(0).isGraphOutput) return false;
      const other = qdqNodeParams(reader);
      return typeof other !== 'string' && other.storage === params.storage && sameQuant(other.quant, params.quant);
    });
    if (!matching) continue;
    const [kept, ...duplicates] = [...new Set(dequantizers)] as [Node, ...Node[]];
    for (const duplicate of duplicates) {
      duplicate.output(0).replaceAllUsesWith(kept.output(0));
      duplicate.erase();
    }
    const name = reals.name;
    const returned = kept.output(0);
    reals.replaceUsesWith(returned, (use) => use.isGraphOutput && use.user === graph);
    reals.rename(graph.uniqueName(`${name}_before_quantize`));
    returned.rename(name);
    if (!isTensorType(returned.type)) returned.type = reals.type;
    count++;
  }
  return count;
}
