import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { elementwiseRules } from '../rules/elementwise.js';
import { shapeRules } from '../rules/shape.js';
import { int8AwareClip } from './clip-int8.js';
import { int8AwarePad } from './pad-int8.js';
import { quantOf } from './quant-values.js';

/** QuantizeLinear of reals into a quant<> value (after the int8 preparation) → QUANTIZE; of a quant<> value → QUANTIZE as a requantization. */
const quantizeLinear: LoweringRule = {
  ops: ['onnx.QuantizeLinear'],
  stage: 'lower',
  targets: ['QUANTIZE'],
  check(node) {
    if (!quantOf(node.outputs[0])) return 'a QuantizeLinear whose output has no quant<> type (a quantized model is prepared for int8 TFLite first: its scale and zero point must be constants)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('QUANTIZE', [node.input(0)], {}, node.output(0).type)]);
  },
};

/** DequantizeLinear of a quant<> activation → DEQUANTIZE (those of constants were folded into float32 weights before). */
const dequantizeLinear: LoweringRule = {
  ops: ['onnx.DequantizeLinear'],
  stage: 'lower',
  targets: ['DEQUANTIZE'],
  check(node) {
    if (!quantOf(node.inputs[0])) return 'a DequantizeLinear of integers with no quant<> type (only constants, and activations a QuantizeLinear quantized, map to TFLite)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('DEQUANTIZE', [node.input(0)], {}, node.output(0).type)]);
  },
};

const floatPad = shapeRules.find((rule) => rule.ops.includes('onnx.Pad'))!;
const floatClip = elementwiseRules.find((rule) => rule.ops.includes('onnx.Clip'))!;

/**
 * Registered after the shape and elementwise rules: the Pad and Clip rules take quant<> inputs too
 * (`pad-int8.ts`, also edge/wrap padding for any dtype; `clip-int8.ts`) and hand float ones to those rules.
 */
export const quantizedRules: readonly LoweringRule[] = [quantizeLinear, dequantizeLinear, int8AwarePad(floatPad), int8AwareClip(floatClip)];
