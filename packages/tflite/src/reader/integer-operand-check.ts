/**
 * The reader refuses a builtin operator whose index-like operand (a shape, permutation, paddings,
 * axis, begin/end/strides, size, indices, multiples, block shape, k) is not an integer tensor: every
 * TFLite kernel reads these as int32/int64 and refuses anything else when it prepares the operator,
 * and the conversions read them as integers (a float32 size tensor raised to ONNX ended in a raw
 * RangeError, 'cannot be converted to a BigInt'). Any integer dtype passes; the kernels' finer
 * int32-versus-int64 rules are theirs to enforce.
 */
import { isTensorType, type Location, type Value } from '@modelpass/ir';
import { tfliteError } from '../io/errors.js';

/** Builtin op → positions of its inputs that must be integer tensors (as the kernels read them). */
const INTEGER_INPUTS: Readonly<Record<string, readonly number[]>> = {
  TRANSPOSE_CONV: [0],
  RESHAPE: [1],
  TRANSPOSE: [1],
  PAD: [1],
  PADV2: [1],
  MIRROR_PAD: [1],
  MEAN: [1],
  SUM: [1],
  REDUCE_MAX: [1],
  REDUCE_MIN: [1],
  REDUCE_PROD: [1],
  REDUCE_ANY: [1],
  STRIDED_SLICE: [1, 2, 3],
  SLICE: [1, 2],
  GATHER: [1],
  GATHER_ND: [1],
  RESIZE_BILINEAR: [1],
  RESIZE_NEAREST_NEIGHBOR: [1],
  SPLIT: [0],
  SPLIT_V: [1, 2],
  EXPAND_DIMS: [1],
  TILE: [1],
  BROADCAST_TO: [1],
  ARG_MAX: [1],
  ARG_MIN: [1],
  FILL: [0],
  CUMSUM: [1],
  TOPK_V2: [1],
  SPACE_TO_BATCH_ND: [1, 2],
  BATCH_TO_SPACE_ND: [1, 2],
  REVERSE_V2: [1],
};

const INTEGER_DTYPE = /^u?int\d+$/;

export function checkIntegerOperands(builtin: string, inputs: readonly (Value | null)[], location: Location): void {
  const positions = INTEGER_INPUTS[builtin];
  if (!positions) return;
  for (const position of positions) {
    const value = inputs[position];
    if (!value || !isTensorType(value.type) || INTEGER_DTYPE.test(value.type.dtype)) continue;
    throw tfliteError({
      reason: `${builtin}'s input #${position} '${value.name}' is a ${value.type.dtype} tensor; TFLite reads it as integers`,
      expected: 'an int32 or int64 tensor',
      actual: value.type.dtype,
      location,
      code: 'tflite/malformed',
      hint: 'TFLite refuses this file too when it prepares the operator; fix the type of that tensor in the file',
    });
  }
}
