/**
 * A ConstantOfShape of a constant shape whose output the model quantizes (tf2onnx's channel padding
 * in BlazeFace: ConstantOfShape → QuantizeLinear → DequantizeLinear → Concat) is a constant: it
 * becomes the filled constant of integers, its value quantized with the output's own scale and zero
 * point (ONNX's QuantizeLinear rounding, as ONNX Runtime computes the QuantizeLinear after it). The
 * int8 lowering then reads it like any quantized constant; without this, ConstantOfShape has no int8
 * TFLite kernel. The float path folds the same node in `prepare.ts` (constantOfShapeAsInitializer).
 */
import { isTensorType, quantizeLinear, Tensor, type Graph, type Node } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';

/** Above this, a quantized ConstantOfShape stays an op (and is refused by name) rather than growing the file. */
const MAX_FILLED_BYTES = 16 * 1024 * 1024;

function foldQuantizedConstantOfShape(node: Node): boolean {
  const output = node.outputs[0];
  if (!output || output.isGraphOutput || !isTensorType(output.type)) return false;
  const { dtype, quant } = output.type;
  // Per-tensor 8/16-bit activations only (the storage TFLite's int8 and 16x8 kernels take).
  if (!quant || quant.axis !== undefined || quant.scale.length !== 1 || !['int8', 'uint8', 'int16'].includes(dtype)) return false;
  const dims = numbersOf(node.inputs[0]);
  if (!dims || dims.some((d) => !Number.isInteger(d) || d < 0)) return false;
  const given = node.getAttribute('value');
  const element = given?.kind === 'tensor' ? given.value : Tensor.fromValues('float32', [1], [0]);
  if (element.size !== 1 || (element.dtype !== 'float32' && element.dtype !== 'float16')) return false;
  const count = dims.reduce((n, d) => n * d, 1);
  const scale = Tensor.scalar('float32', quant.scale[0]!);
  const zeroPoint = Tensor.scalar(dtype, quant.zeroPoint[0]!);
  const integer = quantizeLinear(Tensor.fromValues('float32', [], element.toNumbers()), scale, zeroPoint);
  const elementBytes = integer.bytes();
  if (count * elementBytes.byteLength > MAX_FILLED_BYTES) return false;
  const bytes = new Uint8Array(count * elementBytes.byteLength);
  for (let offset = 0; offset < bytes.byteLength; offset += elementBytes.byteLength) bytes.set(elementBytes, offset);
  const graph = node.graph!;
  const filled = graph.addConstant(graph.uniqueName(`${output.name}_filled`), Tensor.fromBytes(dtype, dims, bytes, quant));
  output.replaceAllUsesWith(filled);
  node.erase();
  return true;
}

/** Folds every quantized ConstantOfShape of a constant shape in `graph` into its integers; returns how many. */
export function foldQuantizedConstantOfShapes(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) if (node.op === 'onnx.ConstantOfShape' && foldQuantizedConstantOfShape(node)) count++;
  return count;
}
