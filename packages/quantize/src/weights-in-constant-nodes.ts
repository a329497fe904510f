import type { Model } from '@modelpass/ir';

/**
 * The hint for "found nothing to quantize" when the model holds its weights in `Constant` nodes (as
 * tf2onnx and paddle2onnx exports do), which the weight passes do not read as initializers.
 */
export function constantNodesHint(model: Model): { readonly hint?: string } {
  const count = [...model.graph.nodesOf('onnx.Constant')].length;
  if (count === 0) return {};
  return { hint: `the model holds ${count} value(s) in Constant nodes, which are not read as weights: run simplify first (e.g. -p 'simplify,…') to make them initializers` };
}
