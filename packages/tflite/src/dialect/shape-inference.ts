import { tensorType, type Dim, type InferenceContext, type Type, type TypeInference } from '@modelpass/ir';

/**
 * Cheap type inference for the common builtin ops (NHWC activations, OHWI / 1HWC / [out,in] weights).
 * The reader takes every tensor's type from the file; inference serves passes that create tflite ops
 * (legalization) and the verifier. Each entry returns `undefined` where it cannot tell.
 */

function tensorInput(context: InferenceContext, index: number): { dtype: Type & { kind: 'tensor' }; shape: readonly Dim[] } | undefined {
  const type = context.inputType(index);
  if (!type || type.kind !== 'tensor' || type.shape === null) return undefined;
  return { dtype: type, shape: type.shape };
}

/** A concrete attribute's value, or undefined (absent, or a function-attribute reference). */
function attributeValue(node: InferenceContext['node'], name: string): unknown {
  const attribute = node.getAttribute(name);
  return attribute && attribute.kind !== 'ref' ? attribute.value : undefined;
}

const sameAsInput: TypeInference = (context) => [context.inputType(0)];

function broadcastDims(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') return undefined;
    else out.push(null);
  }
  return out;
}

const broadcastBinary: TypeInference = (context) => {
  const a = tensorInput(context, 0);
  const b = tensorInput(context, 1);
  if (!a || !b) return [undefined];
  const shape = broadcastDims(a.shape, b.shape);
  return [shape ? tensorType(a.dtype.dtype, shape) : undefined];
};

const comparison: TypeInference = (context) => {
  const [type] = broadcastBinary(context);
  return [type?.kind === 'tensor' ? tensorType('bool', type.shape) : undefined];
};

function windowOutput(size: Dim, window: number, stride: number, dilation: number, padding: string | undefined): Dim {
  if (typeof size !== 'number') return null;
  const effective = (window - 1) * dilation + 1;
  if (padding === 'SAME') return Math.ceil(size / stride);
  if (padding === 'VALID') return Math.floor((size - effective) / stride) + 1;
  return null;
}

function spatial(context: InferenceContext, kernelH: Dim, kernelW: Dim, channels: Dim): Type | undefined {
  const input = tensorInput(context, 0);
  if (!input || input.shape.length !== 4 || typeof kernelH !== 'number' || typeof kernelW !== 'number') return undefined;
  const node = context.node;
  const padding = attributeValue(node, 'padding') as string | undefined;
  const int = (name: string, fallback: number): number => (attributeValue(node, name) as number | undefined) ?? fallback;
  const h = windowOutput(input.shape[1]!, kernelH, int('stride_h', 1), int('dilation_h_factor', 1), padding);
  const w = windowOutput(input.shape[2]!, kernelW, int('stride_w', 1), int('dilation_w_factor', 1), padding);
  return tensorType(input.dtype.dtype, [input.shape[0]!, h, w, channels]);
}

const conv2d: TypeInference = (context) => {
  const filter = tensorInput(context, 1);
  if (!filter || filter.shape.length !== 4) return [undefined];
  return [spatial(context, filter.shape[1]!, filter.shape[2]!, filter.shape[0]!)];
};

const depthwiseConv2d: TypeInference = (context) => {
  const filter = tensorInput(context, 1);
  if (!filter || filter.shape.length !== 4) return [undefined];
  return [spatial(context, filter.shape[1]!, filter.shape[2]!, filter.shape[3]!)];
};

const pool2d: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const node = context.node;
  const h = attributeValue(node, 'filter_height') as number | undefined;
  const w = attributeValue(node, 'filter_width') as number | undefined;
  if (!input || h === undefined || w === undefined) return [undefined];
  return [spatial(context, h, w, input.shape[3] ?? null)];
};

const fullyConnected: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const weights = tensorInput(context, 1);
  if (!input || !weights || weights.shape.length !== 2) return [undefined];
  const keep = attributeValue(context.node, 'keep_num_dims') === 1;
  const units = weights.shape[0]!;
  if (keep) return [tensorType(input.dtype.dtype, [...input.shape.slice(0, -1), units])];
  const depth = weights.shape[1];
  const total = input.shape.every((d) => typeof d === 'number') ? (input.shape as number[]).reduce((a, b) => a * b, 1) : undefined;
  const batch = total !== undefined && typeof depth === 'number' && depth > 0 ? total / depth : null;
  return [tensorType(input.dtype.dtype, [batch, units])];
};

const dequantize: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  return [input ? tensorType('float32', input.shape) : undefined];
};

/** QUANTIZE: the input's shape, the declared output dtype and quantization (what the file says). */
const quantize: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const declared = context.node.outputs[0]?.type;
  return [input && declared?.kind === 'tensor' ? tensorType(declared.dtype, input.shape, declared.quant) : undefined];
};

/** `shape` with the declared output's dtype and quantization (what the file says), else the input's dtype. */
function declaredWithShape(context: InferenceContext, shape: readonly Dim[], fallback: Type & { kind: 'tensor' }): Type {
  const declared = context.node.outputs[0]?.type;
  return declared?.kind === 'tensor' ? tensorType(declared.dtype, shape, declared.quant) : tensorType(fallback.dtype, shape);
}

/** PAD/PADV2/MIRROR_PAD: each dim grows by its constant `[before, after]` paddings. */
const pad: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const paddings = context.inputConstant(1);
  if (!input || !paddings || paddings.size !== 2 * input.shape.length) return [undefined];
  const p = paddings.toNumbers();
  return [declaredWithShape(context, input.shape.map((d, i) => (typeof d === 'number' ? d + p[2 * i]! + p[2 * i + 1]! : null)), input.dtype)];
};

/** MEAN/SUM/REDUCE_*: constant axes, `keep_dims`. */
const reduce: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const axesTensor = context.inputConstant(1);
  if (!input || !axesTensor) return [undefined];
  const rank = input.shape.length;
  const axes = new Set(axesTensor.toNumbers().map((a) => (a < 0 ? a + rank : a)));
  const keep = Boolean(attributeValue(context.node, 'keep_dims'));
  const shape = input.shape.flatMap((d, i) => (axes.has(i) ? (keep ? [1] : []) : [d]));
  return [declaredWithShape(context, shape, input.dtype)];
};

/** TRANSPOSE by a constant permutation. */
const transpose: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  const perm = context.inputConstant(1);
  if (!input || !perm || perm.size !== input.shape.length) return [undefined];
  return [declaredWithShape(context, perm.toNumbers().map((axis) => input.shape[axis] ?? null), input.dtype)];
};

/** BATCH_MATMUL: broadcast batch dims, [M, K] × [K, N] (adj_x/adj_y swap the last two). */
const batchMatmul: TypeInference = (context) => {
  const a = tensorInput(context, 0);
  const b = tensorInput(context, 1);
  if (!a || !b || a.shape.length < 2 || b.shape.length < 2) return [undefined];
  const m = attributeValue(context.node, 'adj_x') ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const n = attributeValue(context.node, 'adj_y') ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const batch = broadcastDims(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [batch ? declaredWithShape(context, [...batch, m ?? null, n ?? null], a.dtype) : undefined];
};

const reshape: TypeInference = (context) => {
  const input = tensorInput(context, 0);
  if (!input) return [undefined];
  const constant = context.inputConstant(1);
  let dims: number[] | undefined;
  if (constant && (constant.dtype === 'int32' || constant.dtype === 'int64')) dims = Array.from(constant.toNumbers());
  const newShape = attributeValue(context.node, 'new_shape') as readonly number[] | undefined;
  if (!dims && Array.isArray(newShape) && newShape.length > 0) dims = [...newShape];
  if (!dims) return [undefined];
  const known = input.shape.every((d) => typeof d === 'number');
  const total = known ? (input.shape as number[]).reduce((a, b) => a * b, 1) : undefined;
  const rest = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return [tensorType(input.dtype.dtype, dims.map((d) => (d === -1 ? (total !== undefined && rest > 0 ? total / rest : null) : d)))];
};

const UNARY = [
  'ABS', 'NEG', 'EXP', 'LOG', 'SQRT', 'RSQRT', 'SQUARE', 'SIN', 'COS', 'FLOOR', 'CEIL', 'ROUND', 'SIGN', 'RELU', 'RELU6',
  'RELU_N1_TO_1', 'RELU_0_TO_1', 'LEAKY_RELU', 'HARD_SWISH', 'ELU', 'GELU', 'LOGISTIC', 'TANH', 'SOFTMAX', 'LOG_SOFTMAX',
  'L2_NORMALIZATION', 'LOCAL_RESPONSE_NORMALIZATION', 'ZEROS_LIKE', 'ONES_LIKE', 'LOGICAL_NOT', 'DENSIFY', 'PRELU',
];
const BINARY = ['ADD', 'SUB', 'MUL', 'DIV', 'POW', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE', 'FLOOR_DIV', 'FLOOR_MOD', 'LOGICAL_AND', 'LOGICAL_OR'];
const COMPARISONS = ['LESS', 'LESS_EQUAL', 'GREATER', 'GREATER_EQUAL', 'EQUAL', 'NOT_EQUAL'];

/** BuiltinOperator → its type inference (ops not listed have none). */
export const TFLITE_TYPE_INFERENCE: ReadonlyMap<string, TypeInference> = new Map<string, TypeInference>([
  ...UNARY.map((op): [string, TypeInference] => [op, sameAsInput]),
  ...BINARY.map((op): [string, TypeInference] => [op, broadcastBinary]),
  ...COMPARISONS.map((op): [string, TypeInference] => [op, comparison]),
  ['CONV_2D', conv2d],
  ['DEPTHWISE_CONV_2D', depthwiseConv2d],
  ['AVERAGE_POOL_2D', pool2d],
  ['MAX_POOL_2D', pool2d],
  ['L2_POOL_2D', pool2d],
  ['FULLY_CONNECTED', fullyConnected],
  ['DEQUANTIZE', dequantize],
  ['QUANTIZE', quantize],
  ['PAD', pad],
  ['PADV2', pad],
  ['MIRROR_PAD', pad],
  ['TRANSPOSE', transpose],
  ['BATCH_MATMUL', batchMatmul],
  ...['MEAN', 'SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_PROD'].map((op): [string, TypeInference] => [op, reduce]),
  ['RESHAPE', reshape],
]);
