/**
 * Bias correction for quantize-static (the "fast bias correction" of NNCF; Nagel et al. 2019,
 * "Data-Free Quantization", §4.2 empirical bias correction). Quantizing a layer's weights and its
 * input shifts the mean of its output per channel: E[Ŵ·x̂ + b̂] ≠ E[W·x + b]. The shift is measured
 * on calibration data and subtracted from the layer's bias, per output channel.
 *
 * Measured in one ORT run of the float model with a probe per layer: the probe reads the float
 * model's own input of the layer through the same QuantizeLinear → DequantizeLinear the quantized
 * model has, and computes the layer with the quantized model's dequantized weights and bias. Per
 * channel, δ = mean(probe) − mean(float layer) over every sample and position; the quantized bias
 * becomes b̂ − δ (int32 integers for Conv/Gemm, the float vector of MatMul's bias Add). Each layer's
 * own error is corrected against float inputs, so one run serves every layer (no layer-by-layer
 * passes).
 */
import { dequantizeLinear, ModelpassError, Tensor, type Model, type Node, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { ActivationCollector } from '../calibration/activation-collector.js';
import { batchesCanSplit, batchParts } from '../calibration/batch-split.js';
import { openCalibrationData } from '../calibration/calibration-data.js';
import { CALIBRATION_DEFAULTS, type CalibrationOptions } from '../calibration/options.js';
import type { StepHost } from './nested-pass.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** One corrected layer: how far its output mean had moved (in the layer's output units). */
export interface BiasCorrectionRecord {
  readonly node: string;
  readonly op: string;
  readonly channels: number;
  /** Mean and largest |δ| over the channels, before correction. */
  readonly meanAbsShift: number;
  readonly maxAbsShift: number;
  /** Where the correction went: the quantized int32 bias, or the float bias of the Add after a MatMul. */
  readonly target: 'int32-bias' | 'float-bias';
}

export interface BiasCorrectionResult {
  readonly corrected: readonly BiasCorrectionRecord[];
  /** Weighted layers not corrected, and why (no bias to correct, an unexpected QDQ form). */
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
  readonly samples: number;
}

/** A snapshot of the float model (taken before quantizing), for measuring the shifts. */
export function floatSnapshot(model: Model): Model {
  return decodeOnnx(encodeOnnx(model));
}

/** Where a layer's corrected bias lives in the quantized model. */
type BiasTarget = { kind: 'int32-bias'; dequantize: Node } | { kind: 'float-bias'; add: Node; index: number };

interface Layer {
  readonly node: Node;
  /** The float value the layer's input quantizes (found in the float model by its producer's name, or as a graph input). */
  readonly input: Value;
  readonly inputScale: Value;
  readonly inputZeroPoint: Value | undefined;
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  readonly target: BiasTarget;
  /** Output channels: Conv's axis 1, MatMul/Gemm's last axis. */
  readonly channelAxis: 'second' | 'last';
}

function producerOf(value: Value | null | undefined, op: string): Node | undefined {
  const producer = value?.producer;
  return producer && producer.op === op ? producer : undefined;
}

/** The float value of a constant-fed DequantizeLinear (weights, int32 biases). */
function dequantizedConstant(dq: Node): Tensor | undefined {
  const q = dq.inputs[0]?.constant;
  const scale = dq.inputs[1]?.constant;
  if (!q || !scale) return undefined;
  const axis = dq.optionalAttr('axis', 'int');
  return dequantizeLinear(q, scale, dq.inputs[2]?.constant, axis === undefined ? {} : { axis: Number(axis) });
}

/** The constant bias vector of the single Add reading a MatMul's float output. */
function matMulBiasAdd(node: Node): BiasTarget | string {
  const output = node.output(0);
  const uses = [...output.uses];
  if (uses.length !== 1 || output.isGraphOutput || uses[0]!.node?.op !== 'onnx.Add') return 'its output is not read by one bias Add alone';
  const add = uses[0]!.node!;
  const index = add.inputs[0] === output ? 1 : 0;
  const constant = add.inputs[index]?.constant;
  if (!constant || constant.dtype !== 'float32' || constant.shape.slice(0, -1).some((d) => d !== 1)) return 'the Add after it has no float32 bias vector';
  return { kind: 'float-bias', add, index };
}

/** A quantized weighted node in the QDQ model, or why it cannot be corrected. */
function findLayer(node: Node): Layer | string {
  const inputDq = producerOf(node.inputs[0], 'onnx.DequantizeLinear');
  const inputQ = producerOf(inputDq?.inputs[0], 'onnx.QuantizeLinear');
  const weightDq = producerOf(node.inputs[1], 'onnx.DequantizeLinear');
  if (!inputDq || !inputQ || !weightDq) return 'its input or weight is not read through QuantizeLinear/DequantizeLinear';
  const weight = dequantizedConstant(weightDq);
  if (!weight) return 'its weight is not a constant';
  let target: BiasTarget | string;
  let bias: Tensor | undefined;
  if (node.op === 'onnx.MatMul') {
    target = matMulBiasAdd(node);
  } else {
    const biasDq = producerOf(node.inputs[2], 'onnx.DequantizeLinear');
    bias = biasDq ? dequantizedConstant(biasDq) : undefined;
    target = biasDq && bias && biasDq.inputs[0]!.constant!.dtype === 'int32' && biasDq.output(0).uses.size === 1 ? { kind: 'int32-bias', dequantize: biasDq } : 'it has no int32 bias';
  }
  if (typeof target === 'string') return target;
  return {
    node,
    input: inputQ.input(0),
    inputScale: inputQ.input(1),
    inputZeroPoint: inputQ.inputs[2] ?? undefined,
    weight,
    bias,
    target,
    channelAxis: node.op === 'onnx.Conv' ? 'second' : 'last',
  };
}

/** Adds the probe of `layer` to the float snapshot; returns the names of [float output, probe output], or why not. */
/**
 * The float model's value for a value of the quantized model: the same output of the node with the
 * same name and op (materialize-qdq renames the float value a QuantizeLinear reads), or the graph input.
 */
function floatValueOf(snapshot: Model, value: Value): Value | undefined {
  const producer = value.producer;
  if (!producer) return snapshot.graph.inputs.find((input) => input.name === value.name);
  const node = [...snapshot.graph.nodes()].find((n) => n.name === producer.name && n.op === producer.op);
  return node?.outputs[value.producerIndex] ?? undefined;
}

function addProbe(snapshot: Model, layer: Layer, index: number): [string, string] | string {
  const graph = snapshot.graph;
  const floatNode = [...graph.nodes()].find((n) => n.name === layer.node.name && n.op === layer.node.op);
  const input = floatValueOf(snapshot, layer.input);
  if (!floatNode || !input) return floatNode ? `the float model has no value for its input '${layer.input.name}'` : `the float model has no node '${layer.node.name}'`;
  const scale = graph.addConstant(graph.uniqueName(`bc${index}_s`), layer.inputScale.constant!);
  const zeroPoint = layer.inputZeroPoint?.constant ? graph.addConstant(graph.uniqueName(`bc${index}_z`), layer.inputZeroPoint.constant) : null;
  const q = graph.createNode({ op: 'onnx.QuantizeLinear', name: graph.uniqueNodeName(`bc${index}_Q`), inputs: [input, scale, zeroPoint], outputs: [graph.uniqueName(`bc${index}_q`)] });
  const dq = graph.createNode({ op: 'onnx.DequantizeLinear', name: graph.uniqueNodeName(`bc${index}_DQ`), inputs: [q.output(0), scale, zeroPoint], outputs: [graph.uniqueName(`bc${index}_x`)] });
  const weight = graph.addConstant(graph.uniqueName(`bc${index}_w`), layer.weight);
  const bias = layer.bias ? graph.addConstant(graph.uniqueName(`bc${index}_b`), layer.bias) : null;
  const probe = graph.createNode({
    op: layer.node.op,
    name: graph.uniqueNodeName(`bc${index}_layer`),
    inputs: bias ? [dq.output(0), weight, bias] : [dq.output(0), weight],
    outputs: [graph.uniqueName(`bc${index}_y`)],
    attributes: layer.node.attributes,
  });
  return [floatNode.output(0).name, probe.output(0).name];
}

/** Per-channel running sums of a tensor's values (channel = axis 1 or the last axis). */
class ChannelMeans {
  sums: Float64Array | undefined;
  count = 0;
  constructor(readonly axis: 'second' | 'last') {}

  add(tensor: Tensor): void {
    const shape = tensor.shape;
    const axis = this.axis === 'second' ? Math.min(1, shape.length - 1) : shape.length - 1;
    const channels = shape[axis]!;
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const values = tensor.dtype === 'float32' && tensor.bytes().byteOffset % 4 === 0 ? new Float32Array(tensor.bytes().buffer, tensor.bytes().byteOffset, tensor.size) : (tensor.data() as ArrayLike<number>);
    this.sums ??= new Float64Array(channels);
    if (this.sums.length !== channels) throw new Error(`channel count changed from ${this.sums.length} to ${channels}`);
    for (let i = 0; i < values.length; i++) this.sums[Math.floor(i / inner) % channels]! += values[i]!;
    this.count += values.length / channels;
  }

  means(): Float64Array {
    return this.sums!.map((s) => s / this.count);
  }
}

/** Subtracts δ from the layer's bias in the quantized model (a fresh constant when it is shared). */
function applyShift(layer: Layer, shift: Float64Array): void {
  const graph = layer.node.graph!;
  if (layer.target.kind === 'int32-bias') {
    const dq = layer.target.dequantize;
    const ints = dq.input(0);
    const scales = dq.input(1).constant!.toNumbers();
    const values = ints.constant!.toNumbers().map((v, c) => {
      const corrected = v - Math.round(shift[c]! / scales[scales.length === 1 ? 0 : c]!);
      return Math.min(INT32_MAX, Math.max(INT32_MIN, corrected));
    });
    const tensor = Tensor.fromValues('int32', ints.constant!.shape, values);
    const own = tensor.withQuant(ints.constant!.quant);
    if (ints.uses.size === 1 && !ints.isGraphOutput) ints.setConstant(own);
    else dq.setInput(0, graph.addConstant(graph.uniqueName(`${ints.name}_bc`), own));
    return;
  }
  const { add, index } = layer.target;
  const vector = add.input(index);
  const values = vector.constant!.toNumbers().map((v, c) => Math.fround(v - shift[c]!));
  const tensor = Tensor.fromValues('float32', vector.constant!.shape, values);
  if (vector.uses.size === 1 && !vector.isGraphOutput) vector.setConstant(tensor);
  else add.setInput(index, graph.addConstant(graph.uniqueName(`${vector.name}_bc`), tensor));
}

/**
 * Corrects the biases of the named weighted layers of the lowered QDQ model `quantized`, measuring
 * the shifts with `snapshot` (the float model, see `floatSnapshot`; it gets the probes) on the
 * calibration data.
 */
export async function correctBiases(quantized: Model, snapshot: Model, layerNames: readonly string[], calibration: CalibrationOptions, host: StepHost): Promise<BiasCorrectionResult> {
  const wanted = new Set(layerNames);
  const layers: { layer: Layer; outputs: [string, string] }[] = [];
  const skipped: { node: string; reason: string }[] = [];
  for (const node of quantized.graph.nodes()) {
    if (!wanted.has(node.name) || !['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul'].includes(node.op)) continue;
    const layer = findLayer(node);
    const outputs = typeof layer === 'string' ? layer : addProbe(snapshot, layer, layers.length);
    if (typeof outputs === 'string') skipped.push({ node: node.name, reason: outputs });
    else layers.push({ layer: layer as Layer, outputs });
  }
  if (layers.length === 0) return { corrected: [], skipped, samples: 0 };
  inferShapes(snapshot, { registry: host.registry, mode: 'refresh' });

  const means = new Map<string, ChannelMeans>();
  for (const { layer, outputs } of layers) for (const name of outputs) means.set(name, new ChannelMeans(layer.channelAxis));
  const collector = await ActivationCollector.open(snapshot, [...means.keys()]);
  const split = batchesCanSplit(snapshot);
  const budget = calibration.activationBudget ?? CALIBRATION_DEFAULTS.activationBudget;
  let bytesPerSample: number | undefined;
  let samples = 0;
  try {
    for await (const batch of openCalibrationData(snapshot, { ...calibration, warn: undefined })) {
      const partSize = () => (!split ? batch.samples : bytesPerSample === undefined ? 1 : Math.max(1, Math.floor(budget / bytesPerSample)));
      for (const part of batchParts(batch, partSize)) {
        let bytes = 0;
        for (const [name, tensor] of await collector.run(part.feeds)) {
          means.get(name)!.add(tensor);
          bytes += tensor.byteLength;
        }
        bytesPerSample ??= bytes / part.samples;
      }
      samples += batch.samples;
      if (host.signal.aborted) throw new ModelpassError({ reason: 'bias correction cancelled', source: '@modelpass/quantize', code: 'quantize/bias-correction' });
    }
  } finally {
    await collector.dispose();
  }

  const corrected: BiasCorrectionRecord[] = [];
  for (const { layer, outputs } of layers) {
    const [floatMeans, probeMeans] = outputs.map((name) => means.get(name)!.means());
    const shift = probeMeans!.map((m, c) => m - floatMeans![c]!);
    if (layer.target.kind === 'float-bias' && layer.target.add.input(layer.target.index).constant!.size !== shift.length) {
      skipped.push({ node: layer.node.name, reason: `its bias Add's vector does not have one value per output channel (${shift.length})` });
      continue;
    }
    applyShift(layer, shift);
    const magnitudes = Array.from(shift, Math.abs);
    corrected.push({
      node: layer.node.name,
      op: layer.node.opType,
      channels: shift.length,
      meanAbsShift: magnitudes.reduce((a, b) => a + b, 0) / magnitudes.length,
      maxAbsShift: Math.max(...magnitudes),
      target: layer.target.kind,
    });
  }
  return { corrected, skipped, samples };
}
