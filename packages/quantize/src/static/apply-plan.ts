/**
 * Carries out a quantization plan with calibrated ranges: folds the planned Relu/Clip, quantizes
 * weights and biases offline, gives each planned activation its quant<> type, and puts an explicit
 * QuantizeLinear on activations that come from float ops or graph inputs (read only by the quantized
 * nodes; float readers keep the float value). Lowering to Q/DQ is materialize-qdq's job.
 */
import { ModelpassError, quantizeLinear, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { activationParams, type ActivationScheme, type QuantizedActivationType } from './activation-params.js';
import { ruleOf } from './op-rules.js';
import type { ActivationPlan, QuantizationPlan } from './plan.js';
import { quantizeNodeWeights, type SharedQuantizedWeights, type WeightOptions } from './weights.js';

export interface ApplyOptions extends WeightOptions {
  readonly activations: ActivationScheme;
}

/** One quantized tensor of the result, for statistics and the report. */
export interface QuantizedTensorRecord {
  /** Name of the tensor in the quantized model (the integers). */
  readonly tensor: string;
  readonly kind: 'activation' | 'weight' | 'bias';
  /** The float tensor it stands for (the calibration tensor for activations; a folded Relu's output for its producer). */
  readonly floatTensor: string;
  readonly dtype: string;
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis?: number;
  /** The node(s) that read it as a quantized group. */
  readonly node?: string;
}

export interface ApplyResult {
  readonly tensors: readonly QuantizedTensorRecord[];
  readonly activationsFolded: number;
  readonly weightBytesBefore: number;
  readonly weightBytesAfter: number;
}

export type RangeLookup = (tensor: string) => { readonly min: number; readonly max: number } | undefined;

function missingRange(tensor: string): ModelpassError {
  return new ModelpassError({
    reason: `no calibration range for tensor '${tensor}'`,
    hint: 'calibrate every tensor the plan names (plan.calibrationTensors)',
    source: '@modelpass/quantize',
    code: 'quantize/range',
  });
}

/** Resolves every planned activation's type: its own range, or the type of the value it shares with. */
function resolveTypes(plan: QuantizationPlan, ranges: RangeLookup, scheme: ActivationScheme): Map<Value, QuantizedActivationType> {
  const types = new Map<Value, QuantizedActivationType>();
  const byValue = new Map(plan.activations.map((a) => [a.value, a]));
  const resolve = (entry: ActivationPlan, depth: number): QuantizedActivationType => {
    const known = types.get(entry.value);
    if (known) return known;
    let type: QuantizedActivationType;
    if (entry.source.kind === 'range') {
      const range = ranges(entry.source.tensor);
      if (!range) throw missingRange(entry.source.tensor);
      type = activationParams(entry.source.tensor, range, scheme);
    } else if (entry.source.kind === 'fixed') {
      type = activationParams(entry.value.name, entry.source.range, scheme);
    } else if (entry.source.kind === 'constant') {
      let min = Infinity;
      let max = -Infinity;
      for (const v of entry.value.constant!.toNumbers()) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      type = activationParams(entry.value.name, { min, max }, scheme);
    } else {
      const from = byValue.get(entry.source.from);
      if (!from || depth > plan.activations.length) throw missingRange(entry.source.from.name);
      type = resolve(from, depth + 1);
    }
    types.set(entry.value, type);
    return type;
  };
  for (const entry of plan.activations) resolve(entry, 0);
  return types;
}

function shapeOf(value: Value): readonly (number | string | null)[] | null {
  return value.type.kind === 'tensor' ? value.type.shape : null;
}

/** An explicit QuantizeLinear of a float value, read by the quantized nodes only. */
function insertEntryQuantize(value: Value, type: QuantizedActivationType, readers: ReadonlySet<Node>): Value {
  const graph = value.graph;
  const scale = graph.addConstant(graph.uniqueName(`${value.name}_scale`), Tensor.scalar('float32', type.quant.scale[0]!));
  const zeroPoint = graph.addConstant(graph.uniqueName(`${value.name}_zero_point`), Tensor.scalar(type.dtype, type.quant.zeroPoint[0]!));
  const producer = value.producer;
  const first = graph.firstNode;
  const node = graph.createNode({
    op: 'onnx.QuantizeLinear',
    name: graph.uniqueNodeName(`${value.name}_quantize`),
    inputs: [value, scale, zeroPoint],
    outputs: [{ name: graph.uniqueName(`${value.name}_quantized`), type: tensorType(type.dtype, shapeOf(value), type.quant) }],
    ...(producer ? { after: producer } : first ? { before: first } : {}),
  });
  const quantized = node.output(0);
  value.replaceUsesWith(quantized, (use) => {
    const user = use.node;
    return !!user && readers.has(user) && ruleOf(user)!.activationInputs(user).includes(use.index);
  });
  return quantized;
}

/** A float constant an Add/Mul/Concat reads (full-integer): its integers with its own range, a new constant read by the quantized nodes only. */
function quantizeConstantOperand(value: Value, type: QuantizedActivationType, readers: ReadonlySet<Node>): Value {
  const graph = value.graph;
  const integers = quantizeLinear(value.constant!, Tensor.scalar('float32', type.quant.scale[0]!), Tensor.scalar(type.dtype, type.quant.zeroPoint[0]!)).withQuant(type.quant);
  const quantized = graph.addConstant(graph.uniqueName(`${value.name}_quantized`), integers);
  value.replaceUsesWith(quantized, (use) => {
    const user = use.node;
    return !!user && readers.has(user) && ruleOf(user)!.activationInputs(user).includes(use.index);
  });
  if (!value.hasUses && !value.isGraphOutput && !value.isGraphInput) graph.removeConstant(value);
  return quantized;
}

/**
 * quantize-outputs: a quantized value that is a graph output hands the output to an explicit DequantizeLinear
 * of its integers, which takes the output's name (the graph keeps its float32 interface; a runtime that takes
 * integer outputs, such as TFLite with io-type=int8, drops the DequantizeLinear). The value itself is renamed
 * `<name>_quantized`. Returns the DequantizeLinear's output.
 */
function dequantizeGraphOutput(value: Value, type: QuantizedActivationType): Value {
  const graph = value.graph;
  const name = value.name;
  value.rename(graph.uniqueName(`${name}_quantized`));
  const scale = graph.addConstant(graph.uniqueName(`${name}_scale`), Tensor.scalar('float32', type.quant.scale[0]!));
  const zeroPoint = graph.addConstant(graph.uniqueName(`${name}_zero_point`), Tensor.scalar(type.dtype, type.quant.zeroPoint[0]!));
  const dequantize = graph.createNode({
    op: 'onnx.DequantizeLinear',
    name: graph.uniqueNodeName(`${name}_dequantize`),
    inputs: [value, scale, zeroPoint],
    outputs: [{ name, type: tensorType('float32', shapeOf(value)) }],
    ...(value.producer ? { after: value.producer } : {}),
  });
  const reals = dequantize.output(0);
  value.replaceUsesWith(reals, (use) => use.isGraphOutput && use.user === graph);
  return reals;
}

function record(tensor: Value, kind: QuantizedTensorRecord['kind'], floatTensor: string, node?: Node): QuantizedTensorRecord {
  const type = tensor.type.kind === 'tensor' ? tensor.type : undefined;
  const quant = type?.quant;
  return {
    tensor: tensor.name,
    kind,
    floatTensor,
    dtype: type?.dtype ?? 'unknown',
    scale: quant?.scale ?? [],
    zeroPoint: quant?.zeroPoint ?? [],
    ...(quant?.axis !== undefined ? { axis: quant.axis } : {}),
    ...(node ? { node: node.name } : {}),
  };
}

export function applyQuantizationPlan(plan: QuantizationPlan, ranges: RangeLookup, options: ApplyOptions): ApplyResult {
  const types = resolveTypes(plan, ranges, options.activations);
  const tensors: QuantizedTensorRecord[] = [];
  const quantizedNodes = new Set(plan.nodes);
  let weightBytesBefore = 0;
  let weightBytesAfter = 0;
  const foldedBy = new Set(plan.fusedActivations.values());

  // Weights and biases first: the bias scale needs the activation input's scale, read before rewiring.
  const sharedWeights: SharedQuantizedWeights = new Map();
  const constants: [Value, 'weight' | 'bias', string, Node][] = [];
  for (const node of plan.nodes) {
    if (ruleOf(node)!.role !== 'weighted' || node.inputs[1]?.constant === undefined) continue;
    const input = node.input(0);
    const folded = input.producer && foldedBy.has(input.producer) ? input.producer.input(0) : input;
    const inputType = types.get(folded);
    if (!inputType) throw missingRange(input.name);
    const floatWeight = node.input(1).name;
    const floatBias = node.inputs[2]?.name;
    const result = quantizeNodeWeights(node, inputType.quant.scale[0]!, options, sharedWeights);
    weightBytesBefore += result.bytesBefore;
    weightBytesAfter += result.bytesAfter;
    constants.push([result.weight, 'weight', floatWeight, node]);
    if (result.bias) constants.push([result.bias, 'bias', floatBias ?? result.bias.name, node]);
  }
  // Recorded by value once all are quantized: a shared weight's int8 copy takes the model's name back.
  for (const [value, kind, floatName, node] of constants) tensors.push(record(value, kind, floatName, node));

  // Folded activations: the producer's output takes the activation's readers (and its range).
  for (const [producer, activation] of plan.fusedActivations) {
    const output = activation.output(0);
    output.replaceAllUsesWith(producer.output(0));
    activation.erase();
  }

  for (const entry of plan.activations) {
    const type = types.get(entry.value)!;
    const floatTensor = entry.source.kind === 'range' ? entry.source.tensor : entry.value.name;
    if (entry.source.kind === 'constant') {
      tensors.push(record(quantizeConstantOperand(entry.value, type, quantizedNodes), 'weight', floatTensor));
    } else if (entry.entry) {
      const quantized = insertEntryQuantize(entry.value, type, quantizedNodes);
      tensors.push(record(quantized, 'activation', floatTensor));
    } else {
      entry.value.type = tensorType(type.dtype, shapeOf(entry.value), type.quant);
      if (entry.value.isGraphOutput) dequantizeGraphOutput(entry.value, type);
      tensors.push(record(entry.value, 'activation', floatTensor, entry.value.producer ?? undefined));
    }
  }
  return { tensors, activationsFolded: plan.fusedActivations.size, weightBytesBefore, weightBytesAfter };
}
