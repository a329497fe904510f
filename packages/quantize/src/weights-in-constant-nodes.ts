import type { Model, Node } from '@modelpass/ir';

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

/**
 * Conv/ConvTranspose/MatMul/Gemm nodes of the main graph whose weight (input 1) is the output of a `Constant` node
 * (tf2onnx and paddle2onnx exports): the weight passes read initializers only, so these stay float unless simplify
 * (or fold-constants) runs first. QA s17 round 13: PaddleOCR v4 det through quantize-static alone quantized 1 of its
 * 62 Convs (the one whose weight a folded BatchNormalization had rewritten), said nothing and wrote 0.985× the file.
 */
export function layersWithWeightsInConstantNodes(model: Model): Node[] {
  return [...model.graph.nodesOf('onnx.Conv', 'onnx.ConvTranspose', 'onnx.MatMul', 'onnx.Gemm')].filter((node) => node.inputs[1]?.producer?.op === 'onnx.Constant');
}

/** The warning for layers left float because their weights are in Constant nodes, or undefined when there are none. */
export function weightsInConstantNodesWarning(model: Model, pass: string): { severity: 'warning'; reason: string; hint: string } | undefined {
  const layers = layersWithWeightsInConstantNodes(model);
  if (layers.length === 0) return undefined;
  const shown = layers.slice(0, 3).map((node) => `${node.opType} '${node.name}'`).join(', ');
  return {
    severity: 'warning',
    reason: `${pass} leaves ${layers.length} layer(s) float32 whose weights come from Constant nodes, which it does not read as weights: ${shown}${layers.length > 3 ? `, and ${layers.length - 3} more` : ''}`,
    hint: `run simplify first (e.g. -p 'simplify,${pass}{…}') to make them initializers`,
  };
}
