/**
 * Data movement at the float edges of an int8 graph runs on the integers: `TRANSPOSE/RESHAPE (float32) → QUANTIZE`
 * becomes `QUANTIZE → TRANSPOSE/RESHAPE (int8)`, and `DEQUANTIZE → TRANSPOSE/RESHAPE (float32)` becomes
 * `TRANSPOSE/RESHAPE (int8) → DEQUANTIZE`. Quantizing per tensor is elementwise, so it commutes with moving
 * elements: the same integers, the same reals. With io-layout=nchw the NCHW → NHWC transpose of an image input
 * was otherwise a float32 op before the first QUANTIZE (and one after the last DEQUANTIZE for an image output),
 * the only float op left in a full-integer model with float io (`full-integer.ts`).
 */
import { tensorType, type Graph, type Node, type TensorType, type Value } from '@modelpass/ir';
import { quantOf } from './quant-values.js';

const DATA_MOVEMENT = new Set(['tflite.TRANSPOSE', 'tflite.RESHAPE']);

const typeOf = (value: Value) => value.type as TensorType;
const isFloat32 = (value: Value | null | undefined): value is Value => !!value && value.type.kind === 'tensor' && typeOf(value).dtype === 'float32' && !quantOf(value);

/** `mover (float) → QUANTIZE`, the mover's output read by the QUANTIZE alone: the QUANTIZE goes first. */
function quantizeFirst(graph: Graph, quantize: Node): boolean {
  const moved = quantize.inputs[0];
  const mover = moved?.producer;
  const integers = quantize.outputs[0];
  if (!moved || !mover || !integers || !DATA_MOVEMENT.has(mover.op) || !isFloat32(moved) || !isFloat32(mover.inputs[0])) return false;
  const quant = quantOf(integers);
  if (!quant || quant.axis !== undefined || moved.uses.size !== 1 || moved.isGraphOutput || integers.isGraphOutput) return false;
  const source = mover.input(0);
  const early = graph.createNode({
    op: 'tflite.QUANTIZE',
    name: graph.uniqueNodeName(quantize.name || `${source.name}_quantize`),
    inputs: [source],
    outputs: [{ name: graph.uniqueName(`${source.name}_int8`), type: tensorType(typeOf(integers).dtype, typeOf(source).shape, quant) }],
    before: mover,
  });
  mover.setInput(0, early.output(0));
  moved.type = tensorType(typeOf(integers).dtype, typeOf(moved).shape, quant);
  integers.replaceAllUsesWith(moved);
  quantize.erase();
  return true;
}

/** `DEQUANTIZE → mover (float)`, the DEQUANTIZE's output read by the mover alone: the mover reads the integers. */
function dequantizeLast(graph: Graph, dequantize: Node): boolean {
  const integers = dequantize.inputs[0];
  const reals = dequantize.outputs[0];
  if (!integers || !reals || integers.isConstant || reals.uses.size !== 1 || reals.isGraphOutput) return false;
  const quant = quantOf(integers);
  const mover = [...reals.uses][0]!.node;
  if (!quant || quant.axis !== undefined || !mover || !DATA_MOVEMENT.has(mover.op) || mover.inputs[0] !== reals || !isFloat32(mover.outputs[0])) return false;
  const moved = mover.output(0);
  mover.setInput(0, integers);
  moved.type = tensorType(typeOf(integers).dtype, typeOf(moved).shape, quant);
  const late = graph.createNode({
    op: 'tflite.DEQUANTIZE',
    name: graph.uniqueNodeName(dequantize.name || `${moved.name}_dequantize`),
    inputs: [moved],
    outputs: [{ name: graph.uniqueName(`${moved.name}_float`), type: tensorType('float32', typeOf(moved).shape) }],
    after: mover,
  });
  moved.replaceAllUsesWith(late.output(0), { except: late });
  dequantize.erase();
  return true;
}

/** Moves QUANTIZE before and DEQUANTIZE after the float TRANSPOSE/RESHAPE next to them (chains too); returns how many moved. */
export function dataMovementOnIntegerEdges(graph: Graph): number {
  let moved = 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of graph.nodeList()) {
      if (!node.graph) continue;
      if ((node.op === 'tflite.QUANTIZE' && quantizeFirst(graph, node)) || (node.op === 'tflite.DEQUANTIZE' && dequantizeLast(graph, node))) {
        moved++;
        changed = true;
      }
    }
  }
  return moved;
}
