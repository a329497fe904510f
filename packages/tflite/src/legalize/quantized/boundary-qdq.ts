import { isTensorType, tensorType, type Graph, type Node, type QuantParams, type DType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { quantOf, sameQuant } from './quant-values.js';
import { returnDequantizedActivations } from './returned-activations.js';

/** The quant<> parameters a QuantizeLinear/DequantizeLinear node states, or why it states none. */
export function qdqNodeParams(node: Node): { storage: DType; quant: QuantParams } | string {
  if ((node.optionalAttr('block_size', 'int') ?? 0) > 0) return 'blocked quantization (block_size) has no TFLite equivalent';
  const scale = constantOf(node.inputs[1]);
  if (!scale || scale.dtype !== 'float32') return 'its scale must be a float32 constant';
  const zeroPoint = node.inputs[2] ? constantOf(node.inputs[2]) : undefined;
  if (node.inputs[2] && !zeroPoint) return 'its zero point must be a constant';
  const storage: DType = zeroPoint?.dtype ?? (node.op === 'onnx.DequantizeLinear' && node.inputs[0] && isTensorType(node.inputs[0].type) ? node.inputs[0]!.type.dtype : 'uint8');
  const scales = scale.toNumbers();
  const zeros = zeroPoint ? zeroPoint.toNumbers() : new Array<number>(scales.length).fill(0);
  const bits = storage === 'int16' || storage === 'uint16' ? 16 : storage === 'int32' ? 32 : storage === 'int4' || storage === 'uint4' ? 4 : 8;
  if (scale.size === 1) return { storage, quant: { scale: [scales[0]!], zeroPoint: [zeros[0]!], bits } };
  return { storage, quant: { scale: scales, zeroPoint: zeros, axis: node.optionalAttr('axis', 'int') ?? 1, bits } };
}

/**
 * fold-qdq leaves `QuantizeLinear(graph input) → q → DequantizeLinear` alone (the model takes reals):
 * here q gets its quant<> type, so the QuantizeLinear becomes TFLite's QUANTIZE and the readers of
 * the DequantizeLinear read q. Returns the QuantizeLinear nodes retyped.
 */
export function foldBoundaryQuantizers(graph: Graph): number {
  let count = returnDequantizedActivations(graph);
  count += foldOutputQuantizers(graph);
  count += readIntegersBesideOutputs(graph);
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.QuantizeLinear' || !node.outputs[0]) continue;
    const params = qdqNodeParams(node);
    if (typeof params === 'string') continue;
    const integers = node.output(0);
    const shape = isTensorType(integers.type) ? integers.type.shape : node.inputs[0] && isTensorType(node.inputs[0].type) ? node.inputs[0]!.type.shape : null;
    const readers = integers.users;
    const bypassable = readers.filter((reader) => {
      if (reader.op !== 'onnx.DequantizeLinear' || reader.inputs[0] !== integers || reader.output(0).isGraphOutput) return false;
      const other = qdqNodeParams(reader);
      return typeof other !== 'string' && other.storage === params.storage && sameQuant(other.quant, params.quant);
    });
    integers.type = tensorType(params.storage, shape, params.quant);
    for (const reader of bypassable) {
      reader.output(0).replaceAllUsesWith(integers);
      reader.erase();
    }
    count++;
  }
  return count;
}

/**
 * fold-qdq also leaves `op → reals → QuantizeLinear → q → DequantizeLinear → graph output` alone (the
 * model returns reals): here the op computes q's quant<> type itself (it becomes an int8 op, the
 * DequantizeLinear TFLite's DEQUANTIZE), as fold-qdq does for a pair inside the graph.
 */
function foldOutputQuantizers(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.QuantizeLinear' || !node.outputs[0]) continue;
    const reals = node.inputs[0];
    const producer = reals?.producer;
    if (!reals || !producer || producer.op === 'onnx.Constant' || reals.isGraphOutput || reals.useCount !== 1) continue;
    if (!isTensorType(reals.type) || reals.type.dtype !== 'float32') continue;
    const params = qdqNodeParams(node);
    if (typeof params === 'string' || params.quant.axis !== undefined) continue;
    const integers = node.output(0);
    if (integers.isGraphOutput || !integers.hasUses) continue;
    const onlyMatchingDequantizers = integers.users.every((reader) => {
      if (reader.op !== 'onnx.DequantizeLinear' || reader.inputs[0] !== integers) return false;
      const other = qdqNodeParams(reader);
      return typeof other !== 'string' && other.storage === params.storage && sameQuant(other.quant, params.quant);
    });
    if (!onlyMatchingDequantizers) continue;
    const shape = isTensorType(integers.type) && integers.type.shape ? integers.type.shape : reals.type.shape;
    integers.replaceAllUsesWith(reals);
    node.erase();
    reals.type = tensorType(params.storage, shape, params.quant);
    count++;
  }
  return count;
}

/**
 * A DequantizeLinear of computed integers into a graph output that other nodes read too (an intermediate the
 * model returns and goes on from, as in ORT's QDQ placement: `op → Q → DQ → output` and `DQ → next op`): those
 * readers read the integers, the same reals a pair inside the graph gives them, so they stay int8. They read the
 * float graph output before and ran in float between a DEQUANTIZE and a QUANTIZE (a float island per reader).
 */
function readIntegersBesideOutputs(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.DequantizeLinear') continue;
    const [integers, reals] = [node.inputs[0], node.outputs[0]];
    if (!integers || !reals || integers.isConstant || !reals.isGraphOutput || reals.useCount < 2) continue;
    const quant = quantOf(integers);
    const params = qdqNodeParams(node);
    if (!quant || typeof params === 'string' || !sameQuant(params.quant, quant)) continue;
    reals.replaceUsesWith(integers, (use) => !(use.isGraphOutput && use.user === graph));
    count++;
  }
  return count;
}
