import type { Model } from '@modelpass/ir';

/** Ops that already compute a layer on integers (ONNX and ORT's com.microsoft contrib ops). */
const INTEGER_LAYER_OPS: ReadonlySet<string> = new Set([
  'onnx.QLinearConv', 'onnx.QLinearMatMul', 'onnx.MatMulInteger', 'onnx.ConvInteger',
  'com.microsoft.QGemm', 'com.microsoft.MatMulIntegerToFloat', 'com.microsoft.MatMulNBits', 'com.microsoft.DynamicQuantizeMatMul',
]);
const WEIGHTED_OPS: ReadonlySet<string> = new Set(['onnx.Conv', 'onnx.ConvTranspose', 'onnx.MatMul', 'onnx.Gemm']);

/**
 * Layers of the main graph that are quantized already: integer ops, or Conv/MatMul/Gemm reading their weight
 * through a DequantizeLinear. A quantizer that finds nothing to do says so instead of "no Conv/MatMul/Gemm with
 * float32 weights" or "all N stay float32" (QA s12: quantize-static run twice; quantize-weights then
 * quantize-dynamic pointed at Constant nodes and `simplify`).
 */
export function quantizedLayerCount(model: Model): number {
  let count = 0;
  for (const node of model.graph.nodes()) {
    if (INTEGER_LAYER_OPS.has(node.op)) count++;
    else if (WEIGHTED_OPS.has(node.op) && node.inputs[1]?.producer?.op === 'onnx.DequantizeLinear') count++;
  }
  return count;
}

/** The clause a "found nothing to quantize" warning ends with when the model is quantized already, or ''. */
export function alreadyQuantizedClause(model: Model): string {
  const count = quantizedLayerCount(model);
  return count === 0 ? '' : `: the model is already quantized (${count} layer(s) run on integers or read their weights through DequantizeLinear)`;
}
