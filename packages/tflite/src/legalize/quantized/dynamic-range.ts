import { attrs, Builder, Tensor, tensorType, type Graph, type Node, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { fullyConnectedResultShape, fullyConnectedRows, rewriteFullyConnectedAsConv } from './fc-as-conv.js';
import { quantOf } from './quant-values.js';

const FLOAT32 = { dtype: 'float32', quant: undefined } as const;

/**
 * Dynamic-range quantization (ORT's `quantize-dynamic`: DynamicQuantizeLinear → MatMulInteger →
 * Cast → Mul by `x_scale · w_scale`) → TFLite's hybrid kernels: a MatMul of the float input by the
 * int8 weights as a quant<> constant, which lowers to FULLY_CONNECTED with float input and int8
 * weights; TFLite then quantizes the input on the fly (asymmetric, per batch row) as ORT does.
 */

function singleUser(value: Value | null | undefined, op: string): Node | undefined {
  if (!value || value.useCount !== 1 || value.isGraphOutput) return undefined;
  const user = value.users[0];
  return user?.op === op ? user : undefined;
}

function otherInput(node: Node, value: Value): Value | null | undefined {
  return node.inputs[0] === value ? node.inputs[1] : node.inputs[1] === value ? node.inputs[0] : undefined;
}

/** Why the MatMulInteger chain at `matmul` cannot be a hybrid op (or the rewrite), or undefined when it is not such a chain. */
function rewriteChain(matmul: Node): boolean {
  const dynamic = matmul.inputs[0]?.producer;
  if (!dynamic || dynamic.op !== 'onnx.DynamicQuantizeLinear' || matmul.inputs[2] !== dynamic.outputs[2]) return false;
  const weights = constantOf(matmul.inputs[1]);
  if (!weights || weights.dtype !== 'int8' || weights.rank !== 2) return false;
  const weightZero = matmul.inputs[3] ? constantOf(matmul.inputs[3]) : undefined;
  if (matmul.inputs[3] && (!weightZero || weightZero.toNumbers().some((z) => z !== 0))) return false;
  const cast = singleUser(matmul.outputs[0], 'onnx.Cast');
  const scaled = singleUser(cast?.outputs[0], 'onnx.Mul');
  if (!cast || !scaled) return false;
  const scaleProduct = otherInput(scaled, cast.output(0))?.producer;
  if (!scaleProduct || scaleProduct.op !== 'onnx.Mul') return false;
  const weightScale = constantOf(otherInput(scaleProduct, dynamic.output(1)));
  if (!weightScale || weightScale.dtype !== 'float32') return false;
  const units = weights.shape[1]!;
  const scales = weightScale.toNumbers();
  if (scales.length !== 1 && scales.length !== units) return false;
  const quant = scales.length === 1 ? { scale: scales, zeroPoint: [0], bits: 8 } : { scale: scales, zeroPoint: scales.map(() => 0), axis: 1, bits: 8 };
  const graph = matmul.graph!;
  const w = graph.addConstant(graph.uniqueName(`${matmul.name}_weights_int8`), Tensor.fromBytes('int8', weights.shape, weights.bytes(), quant));
  const output = scaled.output(0);
  const reals = Builder.before(scaled).op1('onnx.MatMul', [dynamic.input(0), w], {}, { types: [tensorType('float32', (output.type as TensorType).shape ?? null)], name: `${matmul.name}_hybrid` });
  output.replaceAllUsesWith(reals);
  for (const node of [scaled, cast, matmul]) if (node.outputs.every((v) => !v?.hasUses)) node.erase();
  if (!scaleProduct.output(0).hasUses) scaleProduct.erase();
  if (dynamic.outputs.every((v) => !v?.hasUses)) dynamic.erase();
  return true;
}

/** Rewrites every dynamic-range MatMulInteger chain of the main graph; returns how many. */
export function dynamicRangeAsHybrid(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) if (node.graph && node.op === 'onnx.MatMulInteger' && rewriteChain(node)) count++;
  return count;
}

/**
 * FULLY_CONNECTED with float input and int8 weights (after the lowering): TFLite 2.9's hybrid
 * FULLY_CONNECTED takes one weight scale (per-channel weights give the bias alone, measured), so
 * per-channel weights become RESHAPE → hybrid 1×1 CONV_2D (per-channel, inputs quantized per batch)
 * → RESHAPE; per-tensor weights keep FULLY_CONNECTED with `asymmetric_quantize_inputs` (ORT's
 * DynamicQuantizeLinear is asymmetric too). Returns the ops written.
 */
export function hybridFullyConnected(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'tflite.FULLY_CONNECTED') continue;
    const input = node.inputs[0];
    const quant = quantOf(node.inputs[1]);
    if (!input || !quant || (input.type as TensorType).dtype !== 'float32') continue;
    count++;
    const perChannel = quant.axis !== undefined && quant.scale.some((s) => s !== quant.scale[0]);
    if (!perChannel) {
      node.setAttribute('asymmetric_quantize_inputs', attrs.int(1));
      continue;
    }
    const shape = (input.type as TensorType).shape;
    const outputShape = fullyConnectedResultShape(node);
    if (!shape || !outputShape) throw node.error('a hybrid FULLY_CONNECTED with per-channel weights needs static dims but one (it becomes a 1x1 CONV_2D for TFLite 2.9)');
    rewriteFullyConnectedAsConv(node, { rows: fullyConnectedRows(shape), input: FLOAT32, output: FLOAT32, unitsShape: outputShape, zeroBiasIfMissing: true });
  }
  return count;
}
