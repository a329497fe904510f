import type { OperandSpec } from '@modelpass/ir';

/**
 * Operand names of the builtin ops whose operand lists are fixed, in TFLite's order (the order the
 * kernels read them). `?` marks an optional operand (tensor index -1 in the file, a `null` input in
 * the IR); `...` a variadic tail. Ops not listed take any number of inputs and outputs.
 */
const OPERANDS: Readonly<Record<string, readonly [inputs: string, outputs: string]>> = {
  CONV_2D: ['input filter bias?', 'output'],
  DEPTHWISE_CONV_2D: ['input filter bias?', 'output'],
  CONV_3D: ['input filter bias?', 'output'],
  TRANSPOSE_CONV: ['output_shape weights input bias?', 'output'],
  FULLY_CONNECTED: ['input weights bias?', 'output...'],
  AVERAGE_POOL_2D: ['input', 'output'],
  MAX_POOL_2D: ['input', 'output'],
  L2_POOL_2D: ['input', 'output'],
  ADD: ['x y', 'output'],
  SUB: ['x y', 'output'],
  MUL: ['x y', 'output'],
  DIV: ['x y', 'output'],
  POW: ['x y', 'output'],
  MAXIMUM: ['x y', 'output'],
  MINIMUM: ['x y', 'output'],
  SQUARED_DIFFERENCE: ['x y', 'output'],
  FLOOR_DIV: ['x y', 'output'],
  FLOOR_MOD: ['x y', 'output'],
  LESS: ['x y', 'output'],
  LESS_EQUAL: ['x y', 'output'],
  GREATER: ['x y', 'output'],
  GREATER_EQUAL: ['x y', 'output'],
  EQUAL: ['x y', 'output'],
  NOT_EQUAL: ['x y', 'output'],
  LOGICAL_AND: ['x y', 'output'],
  LOGICAL_OR: ['x y', 'output'],
  BATCH_MATMUL: ['x y', 'output'],
  PRELU: ['input alpha', 'output'],
  RESHAPE: ['input shape?', 'output'],
  TRANSPOSE: ['input perm', 'output'],
  PAD: ['input paddings', 'output'],
  PADV2: ['input paddings constant_values', 'output'],
  MIRROR_PAD: ['input paddings', 'output'],
  MEAN: ['input axis', 'output'],
  SUM: ['input axis', 'output'],
  REDUCE_MAX: ['input axis', 'output'],
  REDUCE_MIN: ['input axis', 'output'],
  REDUCE_PROD: ['input axis', 'output'],
  REDUCE_ANY: ['input axis', 'output'],
  STRIDED_SLICE: ['input begin end strides', 'output'],
  SLICE: ['input begin size', 'output'],
  GATHER: ['params indices', 'output'],
  GATHER_ND: ['params indices', 'output'],
  RESIZE_BILINEAR: ['input size', 'output'],
  RESIZE_NEAREST_NEIGHBOR: ['input size', 'output'],
  SPLIT: ['axis input', 'outputs...'],
  SPLIT_V: ['input size_splits axis', 'outputs...'],
  CONCATENATION: ['inputs...', 'output'],
  PACK: ['inputs...', 'output'],
  UNPACK: ['input', 'outputs...'],
  SQUEEZE: ['input', 'output'],
  EXPAND_DIMS: ['input axis', 'output'],
  TILE: ['input multiples', 'output'],
  BROADCAST_TO: ['input shape', 'output'],
  ARG_MAX: ['input axis', 'output'],
  ARG_MIN: ['input axis', 'output'],
  SELECT: ['condition x y', 'output'],
  SELECT_V2: ['condition x y', 'output'],
  DEPTH_TO_SPACE: ['input', 'output'],
  SPACE_TO_DEPTH: ['input', 'output'],
  QUANTIZE: ['input', 'output'],
  DEQUANTIZE: ['input', 'output'],
  DENSIFY: ['input', 'output'],
  CAST: ['input', 'output'],
  SOFTMAX: ['input', 'output'],
  LOG_SOFTMAX: ['input', 'output'],
  LOGISTIC: ['input', 'output'],
  TANH: ['input', 'output'],
  RELU: ['input', 'output'],
  RELU6: ['input', 'output'],
  RELU_N1_TO_1: ['input', 'output'],
  RELU_0_TO_1: ['input', 'output'],
  LEAKY_RELU: ['input', 'output'],
  HARD_SWISH: ['input', 'output'],
  ELU: ['input', 'output'],
  GELU: ['input', 'output'],
  ABS: ['input', 'output'],
  NEG: ['input', 'output'],
  EXP: ['input', 'output'],
  LOG: ['input', 'output'],
  SQRT: ['input', 'output'],
  RSQRT: ['input', 'output'],
  SQUARE: ['input', 'output'],
  SIN: ['input', 'output'],
  COS: ['input', 'output'],
  FLOOR: ['input', 'output'],
  CEIL: ['input', 'output'],
  ROUND: ['input', 'output'],
  SIGN: ['input', 'output'],
  LOGICAL_NOT: ['input', 'output'],
  L2_NORMALIZATION: ['input', 'output'],
  LOCAL_RESPONSE_NORMALIZATION: ['input', 'output'],
  SHAPE: ['input', 'output'],
  RANK: ['input', 'output'],
  ZEROS_LIKE: ['input', 'output'],
  ONES_LIKE: ['input', 'output'],
  FILL: ['dims value', 'output'],
  RANGE: ['start limit delta', 'output'],
  CUMSUM: ['input axis', 'output'],
  TOPK_V2: ['input k', 'values indices'],
  ADD_N: ['inputs...', 'output'],
};

function parseOperands(text: string): OperandSpec[] {
  return text
    .split(' ')
    .filter((word) => word.length > 0)
    .map((word) => {
      if (word.endsWith('...')) return { name: word.slice(0, -3), variadic: true, minCount: 0 };
      if (word.endsWith('?')) return { name: word.slice(0, -1), optional: true };
      return { name: word };
    });
}

const VARIADIC_INPUTS: readonly OperandSpec[] = [{ name: 'inputs', variadic: true, minCount: 0 }];
const VARIADIC_OUTPUTS: readonly OperandSpec[] = [{ name: 'outputs', variadic: true, minCount: 0 }];

/** The operand specs of a builtin op (variadic `inputs`/`outputs` for ops without a fixed list). */
export function operandsOf(builtin: string): { inputs: readonly OperandSpec[]; outputs: readonly OperandSpec[] } {
  const entry = OPERANDS[builtin];
  if (!entry) return { inputs: VARIADIC_INPUTS, outputs: VARIADIC_OUTPUTS };
  return { inputs: parseOperands(entry[0]), outputs: parseOperands(entry[1]) };
}
