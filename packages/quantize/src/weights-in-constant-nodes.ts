import type { Model } from '@modelpass/ir';

/**
 * The hint for "found nothing to quantize" when the model holds its weights in `Constant` nodes (as
 * tf2onnx and paddle2onnx exports do), which the weight passes do not read as initializers.
 */
export function constantNodesHint(model: Model): { readonly hint?: string } {
  const count = [...model.graph.nodesOf('onnx.Constant')].length;
  if (count === 0) return sixteenBitWeightsHint(model);
  return { hint: `the model holds ${count} value(s) in Constant nodes, which are not read as weights: run simplify first (e.g. -p 'simplify,…') to make them initializers` };
}

/**
 * The hint for "found nothing to quantize" when the layers' weights are float16/bfloat16 (a model
 * already converted, or exported in half precision): the quantizers read float32 weights.
 */
export function sixteenBitWeightsHint(model: Model): { readonly hint?: string } {
  const dtypes = new Map<string, number>();
  for (const node of model.graph.nodesOf('onnx.Conv', 'onnx.MatMul', 'onnx.Gemm')) {
    const weight = node.inputs[1];
    const dtype = weight?.constant?.dtype ?? (weight?.producer?.op === 'onnx.Cast' ? weight.producer.inputs[0]?.constant?.dtype : undefined);
    if (dtype === 'float16' || dtype === 'bfloat16') dtypes.set(dtype, (dtypes.get(dtype) ?? 0) + 1);
  }
  if (dtypes.size === 0) return {};
  const spelled = [...dtypes].map(([dtype, n]) => `${n} ${dtype}`).join(' and ');
  return { hint: `the model's Conv/MatMul/Gemm weights are 16-bit (${spelled}): quantize the float32 model it came from (int8 from float16 weights adds a second rounding; ORT's quantizer takes float32 models only)` };
}
