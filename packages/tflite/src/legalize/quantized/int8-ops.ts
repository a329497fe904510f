import type { Node, Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { int8BatchNormProblem } from './batch-norm-int8.js';
import { clipInt8Problem } from './clip-int8.js';
import { hardSigmoidInt8Problem } from './hard-sigmoid-int8.js';
import { int16OpProblem } from './int16x8.js';
import { padInt8Problem } from './pad-int8.js';
import { quantOf } from './quant-values.js';

/**
 * Canonical ops that run on int8 in TFLite (their lowering's builtins have int8 kernels in TFLite 2.9),
 * with a check of what the int8 kernel needs beyond the float one. A table, so an op is one entry.
 */
type Int8Check = (node: Node) => string | undefined;

/** The output-channel axis of a weight, in the canonical op's layout. */
function weightProblem(node: Node, outputAxis: number): string | undefined {
  const weight = constantOf(node.inputs[1]);
  const quant = weight?.quant;
  if (!weight || !quant) return 'the weights of an int8 op must be constant int8 integers (a DequantizeLinear of a constant)';
  if (weight.dtype !== 'int8') return `${weight.dtype} weights: TFLite's int8 kernels take symmetric int8 weights`;
  const nonZero = quant.zeroPoint.findIndex((z) => z !== 0);
  if (nonZero >= 0) return `asymmetric int8 weights (zero point ${quant.zeroPoint[nonZero]}${quant.axis === undefined ? '' : ` at channel ${nonZero}`}); TFLite's int8 kernels need zero point 0`;
  if (quant.axis !== undefined && quant.axis !== outputAxis) return `weights quantized along axis ${quant.axis}; TFLite quantizes per output channel (axis ${outputAxis} here)`;
  const bias = node.inputs[2] ? constantOf(node.inputs[2]) : undefined;
  if (node.inputs[2] && !bias) return 'the bias must be a constant';
  if (bias && bias.dtype !== 'float32' && !(bias.dtype === 'int32' && bias.quant)) return `a ${bias.dtype} bias: expected float32, or int32 quantized (DequantizeLinear of int32)`;
  return undefined;
}

const none: Int8Check = () => undefined;

const INT8_OPS: ReadonlyMap<string, Int8Check> = new Map<string, Int8Check>([
  ['onnx.Conv', (node) => {
    const weight = constantOf(node.inputs[1]);
    const group = node.optionalAttr('group', 'int') ?? 1;
    if (weight && group > 1 && weight.shape[1] !== 1) return 'grouped (not depthwise) int8 convolutions are not supported yet';
    return weightProblem(node, 0);
  }],
  ['onnx.Gemm', (node) => {
    if ((node.optionalAttr('alpha', 'float') ?? 1) !== 1 || (node.optionalAttr('beta', 'float') ?? 1) !== 1) return 'an int8 Gemm needs alpha = beta = 1';
    if ((node.optionalAttr('transA', 'int') ?? 0) !== 0) return 'an int8 Gemm with transA is not supported';
    return weightProblem(node, (node.optionalAttr('transB', 'int') ?? 0) === 1 ? 0 : 1);
  }],
  ['onnx.MatMul', (node) => {
    const weight = constantOf(node.inputs[1]);
    // Two activations (attention): BATCH_MATMUL, int8 on both sides, per-tensor.
    if (!weight) return undefined;
    if (weight.rank !== 2) return 'an int8 MatMul with a constant B needs it rank 2 (FULLY_CONNECTED)';
    return weightProblem(node, 1);
  }],
  // TRANSPOSE_CONV (int8 v2 in TFLite 2.9): per-channel int8 weights along ONNX's axis 1 ([Cin, Cout, kH, kW]), which
  // become TFLite's output channels (axis 0 of [Cout, kH, kW, Cin]); int32 bias (finish-int8).
  ['onnx.ConvTranspose', (node) => {
    if ((node.optionalAttr('group', 'int') ?? 1) !== 1) return 'a grouped int8 ConvTranspose is not supported (per-channel weights along axis 1 index one group\'s output channels)';
    if ((node.optionalAttr('dilations', 'ints') ?? []).some((d) => d !== 1)) return 'a dilated int8 ConvTranspose is not supported (TRANSPOSE_CONV has no dilation; its kernel would be spread with zeros in float)';
    const rank = constantOf(node.inputs[1])?.rank;
    // 1-D runs as the float path's 2-D form (rules/conv-transpose.ts: RESHAPE to [N, C, 1, L], the weights lifted to [I, O, 1, k]).
    if (rank !== undefined && rank !== 4 && rank !== 3) return `an int8 ConvTranspose of rank ${rank - 2} is not supported (1-D and 2-D only: TRANSPOSE_CONV)`;
    return weightProblem(node, 1);
  }],
  // batch-norm-int8.ts rewrites one with constant parameters into a depthwise 1×1 Conv before this check; what is left is refused.
  ['onnx.BatchNormalization', int8BatchNormProblem],
  // PRELU (TFLite 2.9 int8): the slope an int8 constant of one scale (quantize-static{full-integer=true} quantizes it).
  ['onnx.PRelu', (node) => {
    const slope = node.inputs[1];
    const quant = quantOf(slope);
    if (!slope?.isConstant || !quant) return 'an int8 PRelu needs a constant slope quantized to int8 (quantize-static{full-integer=true} quantizes it)';
    if (quant.axis !== undefined) return "an int8 PRelu's slope must be quantized per tensor (TFLite's int8 PRELU takes one scale for alpha)";
    return undefined;
  }],
  ['onnx.MaxPool', none],
  ['onnx.AveragePool', none],
  ['onnx.GlobalAveragePool', none],
  ['onnx.GlobalMaxPool', none],
  ['onnx.ReduceMean', none],
  ['onnx.Reshape', none],
  ['onnx.Flatten', none],
  ['onnx.Squeeze', none],
  ['onnx.Unsqueeze', none],
  ['onnx.Transpose', none],
  ['onnx.Identity', none],
  ['onnx.Concat', none],
  ['onnx.Add', none],
  ['onnx.Sub', none],
  ['onnx.Mul', none],
  // GELU (builtin 150) and RSQRT have int8 kernels in TFLite 2.9 with their own output parameters (composites-int8.ts
  // makes them from the quantized erf-GELU and Reciprocal(Sqrt) patterns; runtime test tflite-int8-kernels).
  ['onnx.Gelu', none],
  ['tflite.RSQRT', none],
  ['onnx.Softmax', none],
  ['onnx.Sigmoid', none],
  ['onnx.Relu', none],
  // TFLite 2.9 int8 kernels: HARD_SWISH (v1, own output scale), TANH (v2, output fixed at 1/128), STRIDED_SLICE (v2),
  // PAD (v2, pads with the zero point: real 0) / PADV2 (v2, another constant) / MIRROR_PAD (reflect), RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR (v2); the copying ones
  // keep their input's scale and zero point (finish-int8 requantizes after them where the model's differ).
  ['onnx.HardSwish', none],
  ['onnx.Tanh', none],
  ['onnx.Slice', none],
  ['onnx.Pad', padInt8Problem],
  ['onnx.HardSigmoid', hardSigmoidInt8Problem],
  ['onnx.Resize', none],
  ['onnx.Upsample', none],
  // Clip: RELU / RELU6 / RELU_N1_TO_1 (own output parameters) or MAXIMUM/MINIMUM by bounds in the input's parameters
  // (`clip-int8.ts`); SPLIT / SPLIT_V and GATHER copy integers (input's parameters, finish-int8 requantizes each output);
  // LEAKY_RELU (v2) requantizes by itself.
  ['onnx.Clip', clipInt8Problem],
  ['onnx.Split', none],
  ['onnx.Gather', none],
  // Expand → BROADCAST_TO (a static or run-time shape: a dynamic-batch ViT's class token) and Tile → TILE copy integers
  // (input's parameters; finish-int8 requantizes where the model's output differs).
  ['onnx.Expand', none],
  ['onnx.Tile', none],
  ['onnx.LeakyRelu', none],
  // REDUCE_MAX / REDUCE_MIN (int8 and int16 kernels) keep their input's scale and zero point: finish-int8 requantizes
  // where the model's output differs.
  ['onnx.ReduceMax', none],
  ['onnx.ReduceMin', none],
]);

export function int8Ops(): string[] {
  return [...INT8_OPS.keys()].sort();
}

/** The first int16 activation `node` reads or writes (TFLite's 16x8 mode), or undefined. */
export function int16Activation(node: Node): Value | undefined {
  return [...node.inputs, ...node.outputs].find((value): value is Value => !!value && !value.isConstant && !!quantOf(value) && (value.type as { dtype: string }).dtype === 'int16');
}

/** Why a quantized value `node` reads or writes cannot be a TFLite int8 (or 16x8 int16) tensor, or undefined. */
export function int8ActivationProblem(node: Node): string | undefined {
  let eightBit: Value | undefined;
  let sixteenBit: Value | undefined;
  for (const value of [...node.inputs, ...node.outputs]) {
    const quant = quantOf(value);
    if (!quant || value!.isConstant) continue;
    const dtype = (value!.type as { dtype: string }).dtype;
    if (dtype === 'int8' || dtype === 'uint8') eightBit ??= value!;
    else if (dtype === 'int16') sixteenBit ??= value!;
    else return `${dtype} activation '${value!.name}': TFLite takes int8 activations, or int16 ones in its 16x8 mode`;
    if (quant.axis !== undefined) return `activation '${value!.name}' is quantized per channel; TFLite activations are quantized per tensor`;
  }
  if (eightBit && sixteenBit) return `int16 activation '${sixteenBit.name}' next to the 8-bit '${eightBit.name}': a TFLite op takes int8 activations or int16 ones (16x8 mode), not both`;
  if (sixteenBit) {
    const constant = node.inputs.find((value) => value?.isConstant && quantOf(value) && (value.type as { dtype: string }).dtype === 'int16' && quantOf(value)!.zeroPoint.some((z) => z !== 0));
    if (constant) return `int16 constant '${constant.name}' with a zero point: TFLite's 16x8 kernels take symmetric int16 (zero point 0)`;
  }
  return undefined;
}

/** Why the quantized `node`'s op cannot be an int8 (or 16x8) TFLite op here (no lowering, asymmetric weights, …), or undefined: the node could still run in float. */
export function int8OpProblem(node: Node): string | undefined {
  const check = INT8_OPS.get(node.op);
  if (int16Activation(node)) return int16OpProblem(node) ?? check?.(node);
  if (!check) return `${node.op} on quantized values has no int8 TFLite lowering here (supported: ${int8Ops().map((op) => op.slice(op.indexOf('.') + 1)).join(', ')})`;
  return check(node);
}

/** Why the quantized `node` cannot become an int8 TFLite op, or undefined. */
export function int8Problem(node: Node): string | undefined {
  return int8ActivationProblem(node) ?? int8OpProblem(node);
}
