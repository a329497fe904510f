import type { Tensor, Value } from '@modelpass/ir';

/** The data behind a value: an initializer (not an overridable graph input) or an `onnx.Constant`'s `value`. */
export function constantOf(value: Value | null | undefined): Tensor | undefined {
  if (!value) return undefined;
  if (value.isConstant) return value.constant;
  const producer = value.producer;
  // torch.onnx's deduplicated initializers reach their second reader through an Identity.
  if (producer?.op === 'onnx.Identity') return constantOf(producer.inputs[0]);
  if (producer?.op === 'onnx.Constant') {
    const attribute = producer.getAttribute('value');
    if (attribute?.kind === 'tensor') return attribute.value;
  }
  return undefined;
}

/** Whether `numbersOf(value, limit)` gives numbers, without decoding them. */
export function hasNumbers(value: Value | null | undefined, limit = 1 << 16): boolean {
  const tensor = constantOf(value);
  return tensor !== undefined && tensor.dtype !== 'string' && tensor.size <= limit;
}

/** The elements of a constant integer or float operand as numbers (undefined when not constant or too large). */
export function numbersOf(value: Value | null | undefined, limit = 1 << 16): number[] | undefined {
  const tensor = constantOf(value);
  if (!tensor || tensor.dtype === 'string' || tensor.size > limit) return undefined;
  return tensor.toNumbers();
}
