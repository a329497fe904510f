/**
 * Cost rules for the `tflite` dialect (a .tflite read by @modelpass/tflite), counted as their ONNX
 * counterparts are (conventions in cost-rules.ts) so a model's FLOPs agree in both formats:
 * - CONV_2D (filter OHWI): outputs · kH·kW·I MACs; DEPTHWISE_CONV_2D (filter [1,kH,kW,C·M]):
 *   outputs · kH·kW; TRANSPOSE_CONV (weights OHWI, input 2): inputs · O·kH·kW; CONV_3D likewise;
 *   FULLY_CONNECTED (weights [units, depth]): outputs · depth; BATCH_MATMUL: outputs · K (adj_x);
 *   a bias adds 1 FLOP per output. The quantized kernels count the same.
 * - MAX_POOL_2D / AVERAGE_POOL_2D: outputs · filter_height · filter_width.
 * - Elementwise builtins 1 FLOP per output element (QUANTIZE, and DEQUANTIZE of an activation, too);
 *   SOFTMAX/LOG_SOFTMAX 3; reductions 1 per input element; DEQUANTIZE of a constant (float16 or int8
 *   weights) 0; data movement 0.
 */
import type { CostContext, CostRule, CostRules } from './cost-rules.js';
import { elementCountOf } from './cost-rules.js';

const NEEDS_SHAPES = 'its operand or result shapes are not static';

const hasInput = (context: CostContext, index: number): boolean => context.node.inputs[index] !== null && context.node.inputs[index] !== undefined;

/** outputs (or inputs at `perElementOf`) · the product of the weight dims `from`..end (or listed `axes`). */
function weighted(weight: number, axes: (w: readonly number[]) => number, options: { bias?: number; perElementOf?: 'output' | number } = {}): CostRule {
  return (context) => {
    const out = context.outputShape(0);
    const w = context.inputShape(weight);
    const counted = options.perElementOf === undefined || options.perElementOf === 'output' ? out : context.inputShape(options.perElementOf);
    if (!out || !w || !counted) return NEEDS_SHAPES;
    const macs = elementCountOf(counted) * axes(w);
    const bias = options.bias !== undefined && hasInput(context, options.bias) ? elementCountOf(out) : 0;
    return { macs, flops: 2 * macs + bias };
  };
}

const batchMatmul: CostRule = (context) => {
  const a = context.inputShape(0);
  const out = context.outputShape(0);
  if (!a || a.length < 2 || !out) return NEEDS_SHAPES;
  const k = context.node.optionalAttr('adj_x', 'int') ? a[a.length - 2]! : a[a.length - 1]!;
  const macs = elementCountOf(out) * k;
  return { macs, flops: 2 * macs };
};

const pool: CostRule = (context) => {
  const out = context.outputShape(0);
  if (!out) return NEEDS_SHAPES;
  const window = (context.node.optionalAttr('filter_height', 'int') ?? 1) * (context.node.optionalAttr('filter_width', 'int') ?? 1);
  return { macs: 0, flops: elementCountOf(out) * window };
};

function perOutputElement(flops: number): CostRule {
  return (context) => {
    const out = context.outputShape(0);
    return out ? { macs: 0, flops: flops * elementCountOf(out) } : NEEDS_SHAPES;
  };
}

function perInputElement(flops: number): CostRule {
  return (context) => {
    const input = context.inputShape(0);
    return input ? { macs: 0, flops: flops * elementCountOf(input) } : NEEDS_SHAPES;
  };
}

/** DEQUANTIZE of a constant (stored weights) is folded by runtimes: 0; of an activation 1 per element. */
const dequantize: CostRule = (context) => {
  const input = context.node.inputs[0];
  if (input && (input.isConstant || input.producer === null)) return { macs: 0, flops: 0 };
  return perOutputElement(1)(context);
};

const TFLITE_ELEMENTWISE = [
  'ADD', 'SUB', 'MUL', 'DIV', 'POW', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE', 'FLOOR_DIV', 'FLOOR_MOD', 'ADD_N', 'RELU', 'RELU6',
  'RELU_N1_TO_1', 'RELU_0_TO_1', 'LEAKY_RELU', 'PRELU', 'ELU', 'LOGISTIC', 'TANH', 'HARD_SWISH', 'GELU', 'EXP', 'LOG', 'SQRT', 'RSQRT',
  'SQUARE', 'ABS', 'NEG', 'SIN', 'COS', 'FLOOR', 'CEIL', 'ROUND', 'SIGN', 'EQUAL', 'NOT_EQUAL', 'LESS', 'LESS_EQUAL', 'GREATER',
  'GREATER_EQUAL', 'LOGICAL_AND', 'LOGICAL_OR', 'LOGICAL_NOT', 'SELECT', 'SELECT_V2', 'QUANTIZE', 'CUMSUM',
];
const TFLITE_REDUCTIONS = ['MEAN', 'SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_PROD', 'REDUCE_ANY', 'ARG_MAX', 'ARG_MIN'];
const TFLITE_DATA_MOVEMENT = [
  'RESHAPE', 'TRANSPOSE', 'CONCATENATION', 'GATHER', 'GATHER_ND', 'PAD', 'PADV2', 'MIRROR_PAD', 'SQUEEZE', 'EXPAND_DIMS', 'SLICE',
  'STRIDED_SLICE', 'SPLIT', 'SPLIT_V', 'PACK', 'UNPACK', 'TILE', 'BROADCAST_TO', 'SHAPE', 'CAST', 'DEPTH_TO_SPACE', 'SPACE_TO_DEPTH',
  'RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR', 'FILL', 'ZEROS_LIKE', 'ONES_LIKE', 'ONE_HOT', 'REVERSE_V2', 'SCATTER_ND', 'WHERE',
  'DENSIFY', 'RANGE',
];

const dimsProduct = (from: number) => (w: readonly number[]): number => elementCountOf(w.slice(from));

/** Registers the tflite dialect's cost rules (ops named `tflite.<BUILTIN>`). */
export function registerTfliteCostRules(rules: CostRules): void {
  rules
    .register('tflite.CONV_2D', weighted(1, dimsProduct(1), { bias: 2 }))
    .register('tflite.CONV_3D', weighted(1, (w) => elementCountOf(w.slice(0, w.length - 1)), { bias: 2 })) // [kD,kH,kW,I,O]
    .register('tflite.DEPTHWISE_CONV_2D', weighted(1, (w) => (w[1] ?? 1) * (w[2] ?? 1), { bias: 2 }))
    .register('tflite.TRANSPOSE_CONV', weighted(1, (w) => elementCountOf(w.slice(0, w.length - 1)), { bias: 3, perElementOf: 2 }))
    .register('tflite.FULLY_CONNECTED', weighted(1, (w) => w[w.length - 1] ?? 1, { bias: 2 }))
    .register('tflite.BATCH_MATMUL', batchMatmul)
    .register('tflite.MAX_POOL_2D', pool)
    .register('tflite.AVERAGE_POOL_2D', pool)
    .register('tflite.L2_POOL_2D', pool)
    .register('tflite.SOFTMAX', perOutputElement(3))
    .register('tflite.LOG_SOFTMAX', perOutputElement(3))
    .register('tflite.DEQUANTIZE', dequantize);
  for (const op of TFLITE_ELEMENTWISE) rules.register(`tflite.${op}`, perOutputElement(1));
  for (const op of TFLITE_REDUCTIONS) rules.register(`tflite.${op}`, perInputElement(1));
  for (const op of TFLITE_DATA_MOVEMENT) rules.register(`tflite.${op}`, () => ({ macs: 0, flops: 0 }));
}
