import type { Graph, Node } from '@modelpass/ir';

/** Ops with a `fused_activation_function` option that TFLite's kernels apply. */
export const FUSING_OPS: ReadonlySet<string> = new Set(
  ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL', 'DIV', 'AVERAGE_POOL_2D', 'MAX_POOL_2D'].map(
    (op) => `tflite.${op}`,
  ),
);

/** Activation builtins → their ActivationFunctionType name. */
export const FUSIBLE_ACTIVATIONS: ReadonlyMap<string, string> = new Map([
  ['tflite.RELU', 'RELU'],
  ['tflite.RELU6', 'RELU6'],
  ['tflite.RELU_N1_TO_1', 'RELU_N1_TO_1'],
]);

/**
 * Folds RELU/RELU6/RELU_N1_TO_1 into the op before it (`fused_activation_function`) when that op
 * has no fused activation yet and the activation is the only reader of its output. Returns how many.
 */
export function fuseActivations(graph: Graph): number {
  let fused = 0;
  for (const activation of graph.nodes()) {
    const kind = FUSIBLE_ACTIVATIONS.get(activation.op);
    const input = activation.inputs[0];
    const producer: Node | null | undefined = input?.producer;
    if (!kind || !input || !producer || !FUSING_OPS.has(producer.op)) continue;
    if (input.useCount !== 1 || input.isGraphOutput) continue;
    if ((producer.optionalAttr('fused_activation_function', 'string') ?? 'NONE') !== 'NONE') continue;
    if (producer.outputs.length !== 1) continue;
    // int8: the activation's output may carry other quantization parameters than its input.
    if (JSON.stringify((input.type as { quant?: unknown }).quant) !== JSON.stringify((activation.output(0).type as { quant?: unknown }).quant)) continue;
    producer.setAttribute('fused_activation_function', { kind: 'string', value: kind });
    const output = activation.output(0);
    output.replaceAllUsesWith(input);
    if (!output.hasUses) activation.erase();
    fused++;
  }
  return fused;
}
