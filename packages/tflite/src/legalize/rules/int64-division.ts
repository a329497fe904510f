import { tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * int64 Div. TFLite 2.9's DIV takes float32 and int32 only ("Div only supports FLOAT32, INT32 and
 * quantized UINT8"), and models exported with a symbolic batch compute shapes in int64 at run time
 * (swin's `padded_height // window_size`). When both operands are sizes — read from a SHAPE (TFLite
 * dims are int32) or int32-range constants, through selections and joins — the division is done in
 * int32 between CASTs: exact, as every value and the quotient fit int32. Any other int64 Div is
 * refused by name.
 */

const INT32_LIMIT = 2 ** 31 - 1;
/** Ops (canonical, or already lowered: rules run in graph order) that only select or re-type the elements of their data input. */
const SELECTING = new Set([
  'onnx.Gather', 'onnx.Slice', 'onnx.Squeeze', 'onnx.Unsqueeze', 'onnx.Reshape', 'onnx.Identity', 'onnx.Flatten',
  'tflite.GATHER', 'tflite.STRIDED_SLICE', 'tflite.SLICE', 'tflite.SQUEEZE', 'tflite.EXPAND_DIMS', 'tflite.RESHAPE',
]);

/** Whether every element of `value` is known to lie strictly within ±(2^31 − 1). */
export function holdsInt32Sizes(value: Value | null | undefined, depth = 0): boolean {
  if (!value || depth > 32) return false;
  const constant = constantOf(value);
  if (constant) return constant.toNumbers().every((v) => Math.abs(v) < INT32_LIMIT);
  const producer = value.producer;
  if (!producer) return false;
  switch (producer.op) {
    case 'onnx.Shape':
    case 'onnx.Size':
    case 'tflite.SHAPE':
      return true;
    case 'onnx.Cast':
    case 'tflite.CAST': {
      const from = tensorTypeOf(producer.inputs[0])?.dtype;
      return from === 'int32' || from === 'int16' || from === 'int8' || from === 'uint8' || from === 'uint16' || holdsInt32Sizes(producer.inputs[0], depth + 1);
    }
    case 'onnx.Div':
    case 'onnx.Max':
    case 'onnx.Min':
    case 'tflite.DIV':
    case 'tflite.MAXIMUM':
    case 'tflite.MINIMUM':
      // |a / b| <= |a| for integers; a max or min is one of its operands.
      return producer.inputs.every((input) => holdsInt32Sizes(input, depth + 1));
    case 'onnx.Concat':
    case 'tflite.CONCATENATION':
      return producer.inputs.every((input) => holdsInt32Sizes(input, depth + 1));
    default:
      return SELECTING.has(producer.op) && holdsInt32Sizes(producer.inputs[0], depth + 1);
  }
}

function isInt64Division(node: Node): boolean {
  return node.inputs.some((input) => tensorTypeOf(input)?.dtype === 'int64');
}

/** `rule` (the Div rule) with int64 operands divided in int32 when they hold sizes, refused otherwise. */
export function withInt64Division(rule: LoweringRule): LoweringRule {
  return {
    ...rule,
    targets: [...rule.targets, 'CAST'],
    check(node, context) {
      if (!isInt64Division(node)) return rule.check(node, context);
      if (node.inputs.every((input) => holdsInt32Sizes(input))) return undefined;
      return "int64 Div has no TFLite 2.9 kernel (DIV takes float32 and int32); it is done in int32 only when both operands are sizes (from Shape, or constants within int32's range), and these are not";
    },
    lower(node, context) {
      if (!isInt64Division(node)) return rule.lower(node, context);
      const emit = new TfliteEmitter(node, context);
      const toInt32 = (value: Value): Value => emit.op1('CAST', [value], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', dimsOf(value) ?? null));
      const quotient = emit.op1('DIV', [toInt32(node.input(0)), toInt32(node.input(1))], { fused_activation_function: 'NONE' }, tensorType('int32', dimsOf(node.outputs[0]) ?? null));
      replaceNode(node, [emit.op1('CAST', [quotient], { in_data_type: 'INT32', out_data_type: 'INT64' }, node.output(0).type)]);
    },
  };
}
