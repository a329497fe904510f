import { attrs, Builder, isTensorType, ModelpassError, Tensor, tensorType, type DiagnosticInit, type Graph, type Model, type Node, type TensorType, type Value } from '@modelpass/ir';
import { foldBoundaryQuantizers, qdqNodeParams } from './boundary-qdq.js';
import { foldQuantizedConstantOfShapes } from './constant-of-shape-int8.js';
import { splitGroupedInt8Convs } from './grouped-conv-int8.js';
import { symmetricInt16Activations } from './int16x8.js';
import { hardSigmoidsAsInt8Ops } from './hard-sigmoid-int8.js';
import { unaryChainsAsInt8Tables } from './unary-table-int8.js';
import { floatIslandsAsInt8Tables } from './float-island-tables.js';
import { int8ActivationProblem, int8OpProblem } from './int8-ops.js';
import { refuseFloatNodes } from './full-integer.js';
import { quantizedCompositesAsInt8Ops } from './composites-int8.js';
import { batchNormsAsInt8DepthwiseConvs } from './batch-norm-int8.js';
import { dequantizeTensor, holdsReals, quantOf, realType } from './quant-values.js';

export interface QuantizedPrepareOptions {
  /**
   * `float` (default): graph inputs/outputs stay float32 (QUANTIZE/DEQUANTIZE at the edges); `int8` (8-bit models) or
   * `int16` (16x8 models): inputs the model quantizes right away and outputs it dequantizes last are integer tensors;
   * an edge quantized to the other integer type is refused.
   */
  readonly ioType: 'float' | 'int8' | 'int16';
  /** `error` (default): a quantized op with no int8 TFLite lowering (or asymmetric weights) is reported; `float`: it runs in float between DEQUANTIZE and QUANTIZE. */
  readonly unsupportedInt8?: 'error' | 'float';
  /** Refuse the model, naming every node that would compute float32 (QUANTIZE of an input / DEQUANTIZE into an output aside), before anything changes (`full-integer.ts`). */
  readonly fullInteger?: boolean;
}

export interface QuantizedPrepareResult {
  /** Canonical nodes that become int8 TFLite ops. */
  readonly int8Nodes: number;
  /** Nodes touching quantized values that run in float between DEQUANTIZE and QUANTIZE (e.g. a Gemm whose output the model keeps float). */
  readonly floatNodes: number;
  /** uint8 activations (ONNX Runtime's default) stored as int8 with the zero point moved by −128. */
  readonly uint8Shifted: number;
  /** int16 activations (16x8 mode) given symmetric parameters covering their reals (`int16x8.ts`). */
  readonly int16Symmetric: number;
  /** Relu / Clip(0, 6) added where an asymmetric int16 range clamped at 0 (a folded Relu). */
  readonly int16Clamps: number;
  readonly int8Inputs: readonly string[];
  readonly int8Outputs: readonly string[];
}

const WEIGHTED = new Set(['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul']);
const QDQ = new Set(['onnx.QuantizeLinear', 'onnx.DequantizeLinear']);
/** Activation storage TFLite takes: 8-bit (uint8 shifted to int8) and int16 (16x8 mode, made symmetric by `int16x8.ts`). */
const ACTIVATION_DTYPES: ReadonlySet<string> = new Set(['int8', 'uint8', 'int16']);
/** Ops that read only their input's shape: neither int8 nor float (no DEQUANTIZE before them). */
const SHAPE_READERS = new Set(['onnx.Shape', 'onnx.Size']);
/** Ops whose constant float inputs from this index on are parameters (Resize roi/scales, Pad's value, Clip's bounds, BatchNormalization's scale/bias/mean/variance), not data to quantize. */
const PARAMETER_INPUTS: ReadonlyMap<string, number> = new Map([['onnx.Resize', 1], ['onnx.Upsample', 1], ['onnx.Pad', 2], ['onnx.Clip', 1], ['onnx.BatchNormalization', 1]]);

/** True when the model has quantized activations (Q/DQ pairs, or quant<> values computed by nodes). */
export function hasQuantizedActivations(model: Model): boolean {
  for (const node of model.graph.nodes()) {
    if (node.op === 'onnx.QuantizeLinear') return true;
    if (node.outputs.some((output) => output && isTensorType(output.type) && output.type.quant)) return true;
  }
  return false;
}

/**
 * A node that computes reals from integers only (a Cast of ArgMax's indices, a Range), with no int8 lowering: TFLite
 * has no op that takes integers and writes quantized reals, so it runs in float and a QUANTIZE follows (QA s16: the
 * Cast that a QuantizeLinear of quantize-static reads was refused as 'Cast on quantized values').
 */
function realsFromIntegers(node: Node): boolean {
  return node.inputs.some((input) => input && !input.isConstant) && node.inputs.every((input) => !input || !holdsReals(input)) && int8OpProblem(node) !== undefined;
}

/** int8 node: every real it reads (but constants of weighted ops' bias) and every real it computes is quantized. */
function isInt8Node(node: Node): boolean {
  if (realsFromIntegers(node)) return false;
  const outputs = node.outputs.filter((output) => output && holdsReals(output));
  if (outputs.length === 0 || !outputs.every((output) => quantOf(output))) return false;
  return node.inputs.every((input, index) => {
    if (!input || !holdsReals(input)) return true;
    if (WEIGHTED.has(node.op) && index === 2 && input.isConstant) return true;
    if (input.isConstant && (PARAMETER_INPUTS.get(node.op) ?? -1) >= 0 && index >= PARAMETER_INPUTS.get(node.op)!) return true;
    return quantOf(input) !== undefined;
  });
}

function touchesQuant(node: Node): boolean {
  return [...node.inputs, ...node.outputs].some((value) => quantOf(value) !== undefined);
}

/**
 * Every problem before anything changes: Q/DQ nodes TFLite cannot express, int8 nodes without an int8
 * kernel. With `inFloat`, nodes whose only problem is their op (not their activations) go there instead.
 */
function quantizedProblems(graph: Graph, inFloat?: Map<Node, string>): DiagnosticInit[] {
  const problems: DiagnosticInit[] = [];
  const report = (node: Node, reason: string) => problems.push({ reason, location: node.location, source: '@modelpass/tflite', code: 'tflite/unmappable' });
  for (const node of graph.nodes()) {
    const wide = node.outputs.find((output) => output && quantOf(output) && !ACTIVATION_DTYPES.has((output.type as TensorType).dtype));
    if (wide) {
      report(node, `${(wide.type as TensorType).dtype} activation '${wide.name}': TFLite takes int8 activations, or int16 ones in its 16x8 mode`);
      continue;
    }
    if (QDQ.has(node.op)) {
      const params = qdqNodeParams(node);
      if (typeof params === 'string') report(node, params);
      else if (!ACTIVATION_DTYPES.has(params.storage) && !(node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.isConstant)) {
        report(node, `${params.storage} quantization: TFLite takes int8 activations, or int16 ones in its 16x8 mode`);
      } else if (node.op === 'onnx.DequantizeLinear' && !node.inputs[0]?.isConstant && !quantOf(node.inputs[0])) {
        report(node, `it dequantizes '${node.inputs[0]?.name}', integers no QuantizeLinear or quant<> type describes`);
      }
      continue;
    }
    if (!isInt8Node(node)) continue;
    const activation = int8ActivationProblem(node);
    if (activation) {
      report(node, activation);
      continue;
    }
    const op = int8OpProblem(node);
    if (op && inFloat) inFloat.set(node, op);
    else if (op) report(node, op);
  }
  return problems;
}

function paramConstants(at: Builder, type: TensorType): Value[] {
  const quant = type.quant!;
  const shape = quant.axis === undefined ? [] : [quant.scale.length];
  return [
    at.constant(Tensor.fromValues('float32', shape, quant.scale.map((s) => Math.fround(s))), 'scale'),
    at.constant(Tensor.fromValues(type.dtype, shape, [...quant.zeroPoint]), 'zero_point'),
  ];
}

/**
 * ArgMax/ArgMin of an 8-bit per-tensor quantized value: the index of the largest (smallest) integer is that of the
 * largest (smallest) real (q ↦ (q − z)·s is increasing for s > 0; ties in the integers are ties in the reals ORT
 * compares too), so TFLite's ARG_MAX/ARG_MIN read the int8 tensor directly, no DEQUANTIZE.
 */
function readsIndexOfInt8(node: Node): boolean {
  if (node.op !== 'onnx.ArgMax' && node.op !== 'onnx.ArgMin') return false;
  const input = node.inputs[0];
  const quant = quantOf(input);
  if (!input || input.isConstant || !quant || quant.axis !== undefined || !(quant.scale[0]! > 0)) return false;
  const dtype = (input.type as TensorType).dtype;
  return dtype === 'int8' || dtype === 'uint8';
}

/** A node on quantized values that TFLite runs in float: DequantizeLinear before, QuantizeLinear after. */
function runInFloat(node: Node): void {
  const graph = node.graph!;
  node.inputs.forEach((input, index) => {
    if (!input || !quantOf(input)) return;
    if (input.isConstant) {
      node.setInput(index, graph.addConstant(graph.uniqueName(`${input.name}_dequantized`), dequantizeTensor(input.constant!)));
      return;
    }
    const at = Builder.before(node);
    const type = input.type as TensorType;
    const axis = type.quant!.axis;
    const reals = at.op1('onnx.DequantizeLinear', [input, ...paramConstants(at, type)], axis === undefined ? {} : { axis: attrs.int(axis) }, { types: [realType(input)], name: `${input.name}_dequantize` });
    node.setInput(index, reals);
  });
  for (const output of node.outputs) {
    if (!output || !quantOf(output)) continue;
    const type = output.type as TensorType;
    output.type = realType(output);
    const at = Builder.after(node);
    const quantize = at.create('onnx.QuantizeLinear', [output, ...paramConstants(at, type)], {}, { types: [type], name: `${output.name}_quantize` });
    output.replaceAllUsesWith(quantize.output(0), { except: quantize });
  }
}

/** uint8 quant<> values (ONNX Runtime's activations) → int8 with the zero point moved by −128: the same reals. */
function shiftUint8(graph: Graph): number {
  let count = 0;
  for (const value of [...graph.definedValues()]) {
    const type = value.type;
    if (!isTensorType(type) || !type.quant || type.dtype !== 'uint8') continue;
    const quant = { ...type.quant, zeroPoint: type.quant.zeroPoint.map((z) => z - 128) };
    if (value.isConstant) {
      const data = value.constant!;
      value.setConstant(Tensor.fromValues('int8', data.shape, data.toNumbers().map((q) => q - 128), quant));
    } else {
      value.type = tensorType('int8', type.shape, quant);
    }
    count++;
  }
  return count;
}

/**
 * io-type=int8/int16: a float input read only by QuantizeLinear nodes of one type becomes that integer input; an output a
 * DequantizeLinear computes becomes its integer input. An edge quantized to the other integer type is refused, naming
 * it: an int8 edge of a 16x8 model would drop 8 bits of every value before the first op (TFLite's converter refuses
 * inference_input_type=tf.int8 for 16x8 models too), and an int16 edge of an 8-bit model has no int16 values.
 */
const storedAs = (dtype: string, ioType: 'int8' | 'int16'): boolean => dtype === ioType || (ioType === 'int8' && dtype === 'uint8');

function integerBoundaries(graph: Graph, ioType: 'int8' | 'int16'): { inputs: string[]; outputs: string[] } {
  const inputs: { value: Value; type: TensorType; readers: Node[] }[] = [];
  const mismatched: string[] = [];
  for (const input of graph.inputs) {
    const readers = input.users;
    if (readers.length === 0 || input.isGraphOutput || !readers.every((reader) => reader.op === 'onnx.QuantizeLinear' && reader.inputs[0] === input && quantOf(reader.outputs[0]))) continue;
    const type = readers[0]!.output(0).type as TensorType;
    if (!readers.every((reader) => JSON.stringify(reader.output(0).type) === JSON.stringify(type))) continue;
    if (!storedAs(type.dtype, ioType)) mismatched.push(`input '${input.name}' is quantized to ${type.dtype}`);
    else inputs.push({ value: input, type, readers });
  }
  const outputs: { value: Value; producer: Node; integers: Value }[] = [];
  for (const output of graph.outputs) {
    const producer = output.producer;
    if (!producer || producer.op !== 'onnx.DequantizeLinear' || !quantOf(producer.inputs[0]) || producer.inputs[0]!.isConstant) continue;
    const integers = producer.input(0);
    if (integers.isGraphInput || integers.isGraphOutput) continue;
    const dtype = (integers.type as TensorType).dtype;
    if (!storedAs(dtype, ioType)) mismatched.push(`output '${output.name}' is dequantized from ${dtype}`);
    else outputs.push({ value: output, producer, integers });
  }
  if (mismatched.length > 0) {
    const other = ioType === 'int8' ? 'int16' : 'int8';
    throw new ModelpassError({
      reason: `io-type=${ioType}: ${mismatched.join('; ')}, not ${ioType}; nothing was written`,
      source: '@modelpass/tflite',
      code: 'tflite/io-type',
      expected: `${ioType} graph inputs/outputs`,
      hint:
        ioType === 'int8'
          ? `a 16x8 model (quantize-static{activations=int16}) takes io-type=${other} for integer inputs/outputs (int16, as TFLite's converter's inference_input_type=tf.int16), or io-type=float; an int8 edge would drop 8 bits of every value`
          : `an 8-bit model takes io-type=${other} for integer inputs/outputs, or io-type=float`,
    });
  }
  for (const { value, type, readers } of inputs) {
    value.type = type;
    for (const reader of readers) {
      reader.output(0).replaceAllUsesWith(value);
      reader.erase();
    }
  }
  for (const { value, producer, integers } of outputs) {
    value.replaceAllUsesWith(integers);
    if (!value.hasUses) producer.erase();
  }
  return { inputs: inputs.map(({ value }) => value.name), outputs: outputs.map(({ value }) => value.name) };
}

/**
 * Quantized (QDQ) model → canonical ops on quant<> values, ready for the int8 lowering: folds the
 * QuantizeLinear at float inputs (fold-qdq, run before, folds the rest), folds quantized
 * ConstantOfShapes of constant shapes into their integers, checks every quantized node
 * (all problems in one error, each with its node's location), runs nodes that mix quantized and
 * float values in float, and stores uint8 activations as int8.
 */
export function prepareQuantizedForTflite(model: Model, options: QuantizedPrepareOptions = { ioType: 'float' }): QuantizedPrepareResult {
  const graph = model.graph;
  foldBoundaryQuantizers(graph);
  foldQuantizedConstantOfShapes(graph);
  splitGroupedInt8Convs(graph);
  const int16 = symmetricInt16Activations(graph);
  // erf-GELU and Reciprocal(Sqrt) quantized at their input and output only → GELU / RSQRT on int8.
  quantizedCompositesAsInt8Ops(graph);
  // A BatchNormalization fuse-bn left (DenseNet's, after a Concat) quantized around → an int8 depthwise 1×1 Conv.
  batchNormsAsInt8DepthwiseConvs(graph);
  const inFloat = options.unsupportedInt8 === 'float' ? new Map<Node, string>() : undefined;
  const problems = quantizedProblems(graph, inFloat);
  if (problems.length > 0) {
    throw new ModelpassError([
      { reason: `${problems.length} quantized node(s) cannot become int8 TFLite ops; nothing was written`, source: '@modelpass/tflite', code: 'tflite/unmappable', hint: 'the int8 section of @modelpass/tflite lists what maps; unsupported-int8=float runs such ops in float between DEQUANTIZE and QUANTIZE' },
      ...problems,
    ]);
  }
  if (options.fullInteger) refuseFloatNodes(graph, { runsInt8: (node) => (isInt8Node(node) && !inFloat?.has(node)) || readsIndexOfInt8(node), ...(inFloat ? { noInt8Lowering: inFloat } : {}) }, true);
  let int8Nodes = 0;
  const ranInFloat = new Set<Node>();
  for (const node of graph.nodeList()) {
    if (QDQ.has(node.op) || SHAPE_READERS.has(node.op) || !touchesQuant(node)) continue;
    if ((isInt8Node(node) && !inFloat?.has(node)) || readsIndexOfInt8(node)) int8Nodes++;
    else {
      runInFloat(node);
      ranInFloat.add(node);
    }
  }
  const uint8Shifted = shiftUint8(graph);
  // x·relu6(x+3)/6 and other chains of int8 ops on one int8 value: a 256-code table with ORT's rounding (TFLite's MUL rounds twice).
  unaryChainsAsInt8Tables(graph);
  // The same for such a chain run in float between DequantizeLinear and QuantizeLinear (a returned x·HardSigmoid(x)).
  for (const node of floatIslandsAsInt8Tables(graph)) ranInFloat.delete(node);
  const floatNodes = ranInFloat.size;
  hardSigmoidsAsInt8Ops(graph);
  const boundaries = options.ioType === 'float' ? { inputs: [], outputs: [] } : integerBoundaries(graph, options.ioType);
  return { int8Nodes, floatNodes, uint8Shifted, int16Symmetric: int16.values, int16Clamps: int16.clamps, int8Inputs: boundaries.inputs, int8Outputs: boundaries.outputs };
}
