import { Tensor, isTensorType, type DType, type Node, type Value } from '@modelpass/ir';

/**
 * The constant data behind a value: an initializer that is not an overridable graph input, or the
 * output of an `onnx.Constant` node. Undefined when the value is computed at run time.
 */
export function constantOf(value: Value | null | undefined): Tensor | undefined {
  if (!value) return undefined;
  if (value.isConstant) return value.constant;
  const producer = value.producer;
  if (producer && producer.op === 'onnx.Constant') return constantNodeTensor(producer);
  return undefined;
}

/** The tensor an `onnx.Constant` node produces, for every attribute spelling it accepts. */
export function constantNodeTensor(node: Node): Tensor | undefined {
  const attributes = node.attributes;
  const tensor = attributes.get('value');
  if (tensor?.kind === 'tensor') return tensor.value;
  const float = attributes.get('value_float');
  if (float?.kind === 'float') return Tensor.scalar('float32', float.value);
  const int = attributes.get('value_int');
  if (int?.kind === 'int') return Tensor.scalar('int64', BigInt(int.value));
  const floats = attributes.get('value_floats');
  if (floats?.kind === 'floats') return Tensor.fromValues('float32', [floats.value.length], [...floats.value]);
  const ints = attributes.get('value_ints');
  if (ints?.kind === 'ints') return Tensor.fromValues('int64', [ints.value.length], ints.value.map((v) => BigInt(v)));
  const strings = attributes.get('value_strings');
  if (strings?.kind === 'strings') return Tensor.fromStrings([strings.value.length], strings.value);
  const string = attributes.get('value_string');
  if (string?.kind === 'string') return Tensor.fromStrings([], [string.value]);
  return undefined;
}

/**
 * Most elements `numbersOf` and `intsOf` turn into a plain array (1 Mi): what patterns read as
 * numbers are shapes, axes, pads and small operands; larger constants are left alone (they are
 * never such operands, and an array of them could exceed memory).
 */
export const MAX_NUMBERS_OF_ELEMENTS = 1 << 20;

/** The elements of a numeric tensor as plain numbers (undefined for strings and for tensors over `MAX_NUMBERS_OF_ELEMENTS`). */
export function numbersOf(tensor: Tensor): number[] | undefined {
  if (tensor.dtype === 'string' || tensor.size > MAX_NUMBERS_OF_ELEMENTS) return undefined;
  return tensor.toNumbers();
}

/** Integer elements of a constant int32/int64 tensor (e.g. a shape, axes, pads). */
export function intsOf(value: Value | null | undefined): number[] | undefined {
  const tensor = constantOf(value);
  if (!tensor || (tensor.dtype !== 'int64' && tensor.dtype !== 'int32')) return undefined;
  return numbersOf(tensor);
}

const splatMemo = new WeakMap<Tensor, Map<number, boolean>>();

/**
 * True when every element of the constant equals `expected` (exactly, as a number). Elements are
 * read chunk by chunk and the scan stops at the first other value, so a large weight costs one
 * chunk unless it really is a splat; the answer is remembered per tensor.
 */
export function isSplat(tensor: Tensor, expected: number): boolean {
  if (tensor.dtype === 'string' || tensor.size === 0) return false;
  let memo = splatMemo.get(tensor);
  if (!memo) splatMemo.set(tensor, (memo = new Map()));
  let answer = memo.get(expected);
  if (answer === undefined) memo.set(expected, (answer = scanSplat(tensor, expected)));
  return answer;
}

function scanSplat(tensor: Tensor, expected: number): boolean {
  for (const { elements } of tensor.elementChunks()) {
    const values = elements as ArrayLike<number | bigint | boolean>;
    for (let i = 0; i < values.length; i++) if (Number(values[i]) !== expected) return false;
  }
  return true;
}

/** The dtype of a value, when its type says so. */
export function dtypeOf(value: Value | null | undefined): DType | undefined {
  if (!value) return undefined;
  const constant = constantOf(value);
  if (constant) return constant.dtype;
  return isTensorType(value.type) ? value.type.dtype : undefined;
}

/**
 * The shape of a value as far as it is known: a constant's shape, or the type's dims (numbers,
 * symbols or null). Undefined when the rank is unknown.
 */
export function shapeOf(value: Value | null | undefined): readonly (number | string | null)[] | undefined {
  if (!value) return undefined;
  const constant = constantOf(value);
  if (constant) return constant.shape;
  if (!isTensorType(value.type) || value.type.shape === null) return undefined;
  return value.type.shape;
}

export function rankOf(value: Value | null | undefined): number | undefined {
  return shapeOf(value)?.length;
}
