import { dataMovementOnIntegerEdges } from './integer-edges.js';
import { Builder, isTensorType, quantizeLinear, Tensor, tensorType, type Graph, type Node, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { perChannelFullyConnectedAsConv } from './fc-as-conv.js';
import { fuseInt8Activations } from './fuse-int8-activations.js';
import { int8WeightsOfFloatOps } from './int8-float-weights.js';
import { dequantizeTensor, quantOf, sameQuant } from './quant-values.js';

/** What the int8 lowering changed after the rules ran. */
export interface Int8FinishResult {
  readonly biasesQuantized: number;
  readonly requantizations: number;
  readonly activationsFromRange: number;
  /** int8 FULLY_CONNECTED ops with per-channel weights written as 1×1 CONV_2D (TFLite 2.9's int8 FULLY_CONNECTED takes one weight scale). */
  readonly fullyConnectedAsConv: number;
  /** float32 weights of float ops stored as int8 behind a DEQUANTIZE (they were int8 in the model). */
  readonly floatOpWeightsInt8: number;
  /** RELU/RELU6/RELU_N1_TO_1 fused into the op before them although their output parameters differ (`fuse-int8-activations.ts`). */
  readonly activationsFused: number;
  /** QUANTIZE/DEQUANTIZE moved past a float TRANSPOSE/RESHAPE at the edges, which then runs on int8 (`integer-edges.ts`). */
  readonly edgeMovesOnIntegers: number;
}

const WEIGHTED = new Set(['tflite.CONV_2D', 'tflite.DEPTHWISE_CONV_2D', 'tflite.FULLY_CONNECTED', 'tflite.TRANSPOSE_CONV']);
/** Ops whose int8 kernels compute the same reals only when input and output share scale and zero point. */
const SAME_PARAMS = new Set(
  ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESHAPE', 'TRANSPOSE', 'SQUEEZE', 'PAD', 'PADV2', 'MIRROR_PAD', 'STRIDED_SLICE', 'SLICE', 'GATHER', 'BROADCAST_TO', 'TILE', 'SPLIT', 'SPLIT_V', 'REDUCE_MAX', 'REDUCE_MIN', 'RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR', 'MAXIMUM', 'MINIMUM'].map(
    (op) => `tflite.${op}`,
  ),
);
/** The data input of an op whose first input is not its data (SPLIT takes the axis first, TRANSPOSE_CONV its output shape). */
const DATA_INPUT: ReadonlyMap<string, number> = new Map([['tflite.SPLIT', 1], ['tflite.TRANSPOSE_CONV', 2]]);
/** Ops whose int8 kernels fix the output's scale and zero point (TFLite's op specification). */
const FIXED_OUTPUT: ReadonlyMap<string, { scale: number; zeroPoint: number }> = new Map([
  ['tflite.SOFTMAX', { scale: 1 / 256, zeroPoint: -128 }],
  ['tflite.LOGISTIC', { scale: 1 / 256, zeroPoint: -128 }],
  ['tflite.TANH', { scale: 1 / 128, zeroPoint: 0 }],
]);
/** The same for int16 outputs (16x8 mode): symmetric, 2⁻¹⁵. */
const FIXED_INT16_OUTPUT: ReadonlyMap<string, { scale: number; zeroPoint: number }> = new Map([
  ['tflite.SOFTMAX', { scale: 1 / 32768, zeroPoint: 0 }],
  ['tflite.LOGISTIC', { scale: 1 / 32768, zeroPoint: 0 }],
  ['tflite.TANH', { scale: 1 / 32768, zeroPoint: 0 }],
]);
const RANGE_ACTIVATION = new Set(['tflite.CONV_2D', 'tflite.DEPTHWISE_CONV_2D', 'tflite.FULLY_CONNECTED', 'tflite.ADD']);

/** An int8 (or, in the 16x8 mode, int16) quantized tensor. */
function isInt8(value: Value | null | undefined): boolean {
  return !!value && isTensorType(value.type) && (value.type.dtype === 'int8' || value.type.dtype === 'int16') && value.type.quant !== undefined;
}

function isInt16(value: Value | null | undefined): boolean {
  return !!value && isTensorType(value.type) && value.type.dtype === 'int16';
}

/** Where the data, filter and bias operands are: TRANSPOSE_CONV takes its output shape first. */
const OPERANDS: ReadonlyMap<string, { data: number; filter: number; bias: number }> = new Map([['tflite.TRANSPOSE_CONV', { data: 2, filter: 1, bias: 3 }]]);
const USUAL_OPERANDS = { data: 0, filter: 1, bias: 2 };

/** int32 bias (int64 in the 16x8 mode) with scale = input scale · weight scale[c], zero point 0, from whatever bias the lowering left (float32, int32 quant<>, none). */
function quantizeBias(node: Node): boolean {
  const graph = node.graph!;
  const at = OPERANDS.get(node.op) ?? USUAL_OPERANDS;
  const inputQuant = quantOf(node.inputs[at.data])!;
  const weightQuant = quantOf(node.inputs[at.filter]);
  if (!weightQuant) throw node.error('int8 lowering: the filter lost its quantization parameters (a lowering rule dropped them)');
  const scales = weightQuant.scale.map((s) => Math.fround(inputQuant.scale[0]! * Math.fround(s)));
  const units = constantOf(node.inputs[at.filter])!.shape[node.op === 'tflite.DEPTHWISE_CONV_2D' ? 3 : 0]!;
  const bias = node.inputs[at.bias] ? constantOf(node.inputs[at.bias]) : undefined;
  if (node.inputs[at.bias] && !bias) throw node.error('int8 lowering: the bias must be a constant');
  if (!bias && (node.op === 'tflite.FULLY_CONNECTED' || node.op === 'tflite.TRANSPOSE_CONV')) return false;
  const reals = bias ? (bias.quant ? dequantizeTensor(bias) : bias).toNumbers() : new Array<number>(units).fill(0);
  if (reals.length !== units) throw node.error(`int8 lowering: a bias of ${reals.length} values for ${units} output channels`);
  const perChannel = weightQuant.axis !== undefined;
  const wide = isInt16(node.inputs[at.data]);
  const limit = wide ? 2 ** 47 : 2147483648;
  const integers = reals.map((real, c) => {
    const q = Math.round(real / scales[perChannel ? c : 0]!);
    return Math.max(-limit, Math.min(limit - 1, q));
  });
  const bits = wide ? 64 : 32;
  const quant: QuantParams = perChannel ? { scale: scales, zeroPoint: scales.map(() => 0), axis: 0, bits } : { scale: [scales[0]!], zeroPoint: [0], bits };
  const tensor = wide ? Tensor.fromValues('int64', [units], integers.map((q) => BigInt(q)), quant) : Tensor.fromValues('int32', [units], integers, quant);
  const value = graph.addConstant(graph.uniqueName(`${node.name}_bias_${wide ? 'int64' : 'int32'}`), tensor);
  if (node.inputs.length > at.bias) node.setInput(at.bias, value);
  else node.addInput(value);
  return true;
}

/** `node` now computes its output `index` with `quant`; a QUANTIZE after it restores the type the model gave that output. */
function requantizeOutput(node: Node, quant: QuantParams, index = 0): void {
  const output = node.output(index);
  const wanted = output.type as TensorType;
  if (sameQuant(wanted.quant, quant)) return;
  output.type = tensorType(wanted.dtype, wanted.shape, quant);
  const suffix = node.outputs.length > 1 ? `_${index}` : '';
  const quantize = Builder.after(node).create('tflite.QUANTIZE', [output], {}, { types: [wanted], name: `${node.name}_requantize${suffix}` });
  output.replaceAllUsesWith(quantize.output(0), { except: quantize });
}

/**
 * `node`'s input `index` into `quant`: a QUANTIZE before it, or for a constant (a folded
 * ConstantOfShape's padding) the constant requantized offline: its reals (ONNX Runtime's
 * DequantizeLinear) quantized with `quant` (its QuantizeLinear), the integers ORT's QDQ graph computes.
 */
function requantizeInput(node: Node, index: number, quant: QuantParams): void {
  const input = node.input(index);
  const type = input.type as TensorType;
  const dtype = type.dtype === 'int16' ? 'int16' : 'int8';
  const constant = input.isConstant ? input.constant : undefined;
  if (constant?.quant && quant.axis === undefined && quant.scale.length === 1) {
    const integers = quantizeLinear(dequantizeTensor(constant), Tensor.scalar('float32', quant.scale[0]!), Tensor.scalar(dtype, quant.zeroPoint[0]!));
    const graph = node.graph!;
    node.setInput(index, graph.addConstant(graph.uniqueName(`${input.name}_requantized`), integers.withQuant(quant)));
    return;
  }
  const at = Builder.before(node);
  node.setInput(index, at.create('tflite.QUANTIZE', [input], {}, { types: [tensorType(dtype, type.shape, quant)], name: `${node.name}_requantize_${index}` }).output(0));
}

/** PADV2's padding value (the lowest float before a max pool) as an int8 of the input's parameters: TFLite wants the input's type. */
function int8PaddingValue(node: Node): void {
  const value = constantOf(node.inputs[2]);
  if (!value || value.dtype !== 'float32') return;
  const quant = quantOf(node.inputs[0])!;
  const real = value.toNumbers()[0]!;
  const wide = isInt16(node.inputs[0]);
  const [low, high] = wide ? [-32768, 32767] : [-128, 127];
  const integer = Math.max(low, Math.min(high, Math.round(real / quant.scale[0]!) + quant.zeroPoint[0]!));
  const graph = node.graph!;
  const params = { scale: [quant.scale[0]!], zeroPoint: [quant.zeroPoint[0]!], bits: wide ? 16 : 8 };
  node.setInput(2, graph.addConstant(graph.uniqueName(`${node.name}_${wide ? 'int16' : 'int8'}_value`), Tensor.fromValues(wide ? 'int16' : 'int8', [], [integer], params)));
}

/** RELU / RELU6 stated by the output's range: zero point at −128 means the reals start at 0. */
function activationFromRange(node: Node): boolean {
  if ((node.optionalAttr('fused_activation_function', 'string') ?? 'NONE') !== 'NONE') return false;
  const quant = quantOf(node.outputs[0]);
  if (!quant || quant.zeroPoint[0] !== -128) return false;
  const top = quant.scale[0]! * 255;
  const kind = Math.abs(top - 6) <= quant.scale[0]! / 2 ? 'RELU6' : 'RELU';
  node.setAttribute('fused_activation_function', { kind: 'string', value: kind });
  return true;
}

/**
 * After the rules ran on quant<> values: int32 biases for CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED,
 * SOFTMAX/LOGISTIC/TANH outputs at the scale their int8 kernels fix, pools/RESHAPE/TRANSPOSE/… with
 * their input's parameters and CONCATENATION inputs with the output's (a QUANTIZE where the model's
 * differ; a constant input requantized offline), fused RELU/RELU6 from the output ranges, and QUANTIZE ops that change nothing removed.
 */
export function finishInt8(graph: Graph): Int8FinishResult {
  let biasesQuantized = 0;
  let requantizations = 0;
  let activationsFromRange = 0;
  const fullyConnectedAsConv = perChannelFullyConnectedAsConv(graph);
  const activationsFused = fuseInt8Activations(graph);
  for (const node of graph.nodeList()) {
    const data = node.inputs[DATA_INPUT.get(node.op) ?? 0];
    if (!node.graph || (!isInt8(data) && node.op !== 'tflite.CONCATENATION')) continue;
    if (WEIGHTED.has(node.op) && isInt8(node.outputs[0])) {
      if (quantizeBias(node)) biasesQuantized++;
    }
    if (node.op === 'tflite.PADV2' && node.inputs[2]) int8PaddingValue(node);
    const fixed = (isInt16(node.outputs[0]) ? FIXED_INT16_OUTPUT : FIXED_OUTPUT).get(node.op);
    const outputQuant = quantOf(node.outputs[0]);
    if (fixed && isInt8(node.outputs[0])) {
      const quant: QuantParams = { scale: [fixed.scale], zeroPoint: [fixed.zeroPoint], bits: isInt16(node.outputs[0]) ? 16 : 8 };
      if (!sameQuant(outputQuant, quant)) {
        requantizeOutput(node, quant);
        requantizations++;
      }
    } else if (SAME_PARAMS.has(node.op) && isInt8(node.outputs[0])) {
      // SPLIT / SPLIT_V: one QUANTIZE after each output the model quantizes differently.
      const inputQuant = quantOf(data)!;
      node.outputs.forEach((output, index) => {
        if (output && !sameQuant(quantOf(output), inputQuant)) {
          requantizeOutput(node, inputQuant, index);
          requantizations++;
        }
      });
    } else if (node.op === 'tflite.CONCATENATION' && isInt8(node.outputs[0])) {
      node.inputs.forEach((input, index) => {
        if (input && !sameQuant(quantOf(input), outputQuant)) {
          requantizeInput(node, index, outputQuant!);
          requantizations++;
        }
      });
    }
    if (RANGE_ACTIVATION.has(node.op) && isInt8(node.outputs[0]) && activationFromRange(node)) activationsFromRange++;
  }
  for (const node of graph.nodeList()) {
    if (node.op !== 'tflite.QUANTIZE' || !isInt8(node.inputs[0]) || node.output(0).isGraphOutput) continue;
    if (!sameQuant(quantOf(node.inputs[0]), quantOf(node.outputs[0]))) continue;
    node.output(0).replaceAllUsesWith(node.input(0));
    node.erase();
  }
  const edgeMovesOnIntegers = dataMovementOnIntegerEdges(graph);
  const floatOpWeightsInt8 = int8WeightsOfFloatOps(graph);
  for (const constant of [...graph.constants]) if (!constant.hasUses && !constant.isGraphInput && !constant.isGraphOutput) graph.removeConstant(constant);
  return { biasesQuantized, requantizations, activationsFromRange, fullyConnectedAsConv, floatOpWeightsInt8, activationsFused, edgeMovesOnIntegers };
}
