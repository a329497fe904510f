import type { Model, Node } from '@modelpass/ir';
import { constantOf } from './constants.js';

/**
 * Why `node` (an `onnx.Dropout`) is not the identity, or undefined when it is: in inference mode
 * (`training_mode` a constant false, `is_test` not 0), or with a constant ratio of 0 — ONNX's
 * `output = data * mask / (1 - ratio)` keeps every element then, whatever the mode (torch exports
 * `F.dropout(p=0.0, training=True)` this way: swin_t's attention). The mask output is not judged here.
 */
export function whyDropoutIsNotIdentity(node: Node, model?: Model): string | undefined {
  if (zeroRatio(node, model)) return undefined;
  const isTest = node.getAttribute('is_test');
  if (isTest?.kind === 'int' && isTest.value === 0) return 'is_test=0 (training mode)';
  const trainingMode = node.inputs[2];
  if (!trainingMode) return undefined;
  const flag = constantOf(trainingMode);
  if (!flag || flag.toNumbers().some((v) => v !== 0)) return 'training_mode is not a constant false and the ratio is not a constant 0';
  return undefined;
}

/** Whether the drop ratio is a constant 0 (the `ratio` input from opset 12, the attribute before). */
function zeroRatio(node: Node, model?: Model): boolean {
  const input = node.inputs[1];
  if (input) {
    const ratio = constantOf(input);
    return ratio !== undefined && ratio.size === 1 && ratio.toNumbers()[0] === 0;
  }
  const opset = model?.opset('onnx');
  if (opset !== undefined && opset >= 12) return false;
  const attribute = node.getAttribute('ratio');
  return attribute?.kind === 'float' && attribute.value === 0;
}
