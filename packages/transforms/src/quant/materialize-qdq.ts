import { ModelpassError, tensorType, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { graphsOfModel } from '../util/graph-walk.js';
import { preserved } from '../passes/pattern-pass.js';
import { usesIntegers } from './integer-readers.js';
import { checkOpset } from './opset-policy.js';
import { describeParams, paramTensors, qdqAttributes, readQdqParams, sameParams, type ReadParams } from './qdq-params.js';
import { canQuantizeTo, describeQuantType, quantizedTypeOf, quantTypeProblem, type QuantizedTensorType } from './storage-types.js';

const SOURCE = '@modelpass/transforms';

interface QuantValue {
  readonly value: Value;
  readonly type: QuantizedTensorType;
}

/** Every value with a quant<> type, graph by graph (inputs, constants, then node outputs in order). */
function quantizedValues(model: Model): QuantValue[] {
  const found: QuantValue[] = [];
  const add = (value: Value | null) => {
    const type = value ? quantizedTypeOf(value) : undefined;
    if (value && type) found.push({ value, type });
  };
  for (const graph of graphsOfModel(model)) {
    graph.inputs.forEach(add);
    graph.constants.forEach(add);
    for (const node of graph.nodes()) node.outputs.forEach(add);
  }
  return found;
}

function valueError(value: Value, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  const producer = value.producer;
  return new ModelpassError({
    reason: `value '${value.name}': ${reason}`,
    location: producer ? producer.location : { path: value.graph.path() },
    source: SOURCE,
    ...extra,
  });
}

/** Lowering state of one graph: where DequantizeLinear of inputs and constants go (the top). */
class GraphLowering {
  private readonly top: Node | null;
  constructor(readonly graph: Graph) {
    this.top = graph.firstNode;
  }

  constant(base: string, tensor: Parameters<Graph['addConstant']>[1]): Value {
    return this.graph.addConstant(this.graph.uniqueName(base), tensor);
  }

  /** Where a DequantizeLinear of `value` goes: after its producer, or at the top of the graph. */
  placement(after: Node | null): { after: Node } | { before: Node } | Record<string, never> {
    if (after) return { after };
    return this.top ? { before: this.top } : {};
  }
}

/**
 * Checks a DequantizeLinear (or a QuantizeLinear producer) that already spells the value's
 * quantization: both sources must agree.
 */
function checkSpelledParams(node: Node, value: Value, type: QuantizedTensorType): void {
  const read = readQdqParams(node);
  const own: ReadParams = { storage: type.dtype, quant: type.quant };
  if ('reason' in read) {
    throw node.error(`spells the quantization of '${value.name}' but ${read.reason}, so it cannot be checked against the value's type`, {
      expected: describeParams(own),
      hint: 'make its scale and zero point constants, or drop the quant<> type of the value',
    });
  }
  if (!sameParams(read, own, type.shape?.length)) {
    throw node.error(`disagrees with the quant<> type of '${value.name}' (two sources of truth)`, {
      expected: describeParams(own),
      actual: describeParams(read),
      hint: 'the value type and the QuantizeLinear/DequantizeLinear parameters must be the same',
    });
  }
}

/**
 * Everything that can refuse a value, checked for every value before the model is touched: a
 * Q/DQ that spells its quantization differently, int32 on a computed value, a constant whose tensor
 * has another dtype.
 */
function checkLowerable(entry: QuantValue): void {
  const { value, type } = entry;
  for (const use of value.uses) if (use.node?.op === 'onnx.DequantizeLinear' && use.index === 0) checkSpelledParams(use.node, value, type);
  const producer = value.producer;
  if (producer?.op === 'onnx.QuantizeLinear') checkSpelledParams(producer, value, type);
  else if (producer && producer.op !== 'onnx.Constant' && !canQuantizeTo(type.dtype)) {
    throw valueError(value, `is computed by a node, and QuantizeLinear cannot produce ${type.dtype}`, {
      expected: 'int8, uint8, int16, uint16, int4 or uint4 for a computed value',
      actual: describeQuantType(type),
    });
  }
  const stored = producer?.op === 'onnx.Constant' ? producer.getAttribute('value') : undefined;
  const dtype = stored?.kind === 'tensor' ? stored.value.dtype : value.constant?.dtype;
  if (dtype !== undefined && dtype !== type.dtype) {
    throw valueError(value, 'its tensor and its quant<> type disagree on the storage dtype', { expected: type.dtype, actual: dtype });
  }
}

/**
 * Lowers one quantized value (already checked by checkLowerable): the value keeps its name and becomes a plain integer tensor (the
 * stored integers); nodes that compute on its reals read `<name>_dequantized`; a node that produced
 * it (not a QuantizeLinear) now produces float32 `<name>_float`, followed by `<name>_quantize`.
 */
function lowerValue(entry: QuantValue, lowering: GraphLowering, counts: { quantize: number; dequantize: number }): void {
  const { value, type } = entry;
  const graph = lowering.graph;
  const name = value.name;
  const plain = tensorType(type.dtype, type.shape);
  const real = tensorType('float32', type.shape);
  const uses = [...value.uses];
  const integerUses = uses.filter(usesIntegers);
  const realUses = uses.filter((use) => !usesIntegers(use));

  let params: { scale: Value; zeroPoint: Value } | undefined;
  const paramValues = () => {
    if (params) return params;
    const tensors = paramTensors(type.dtype, type.quant);
    params = { scale: lowering.constant(`${name}_scale`, tensors.scale), zeroPoint: lowering.constant(`${name}_zero_point`, tensors.zeroPoint) };
    return params;
  };
  let producer = value.producer;
  let integers = value;
  if (producer && producer.op === 'onnx.QuantizeLinear') {
    value.type = plain;
  } else if (producer && producer.op !== 'onnx.Constant') {
    const { scale, zeroPoint } = paramValues();
    value.rename(graph.uniqueName(`${name}_float`));
    value.type = real;
    const quantize = graph.createNode({
      op: 'onnx.QuantizeLinear',
      name: graph.uniqueNodeName(`${name}_quantize`),
      inputs: [value, scale, zeroPoint],
      outputs: [{ name, type: plain }],
      attributes: qdqAttributes(type.quant),
      after: producer,
    });
    integers = quantize.output(0);
    value.replaceUsesWith(integers, (use) => integerUses.includes(use));
    producer = quantize;
    counts.quantize++;
  } else {
    stripConstantQuant(value);
    value.type = plain;
  }
  if (realUses.length === 0) return;
  const { scale, zeroPoint } = paramValues();
  const dequantize = graph.createNode({
    op: 'onnx.DequantizeLinear',
    name: graph.uniqueNodeName(`${name}_dequantize`),
    inputs: [integers, scale, zeroPoint],
    outputs: [{ name: graph.uniqueName(`${name}_dequantized`), type: real }],
    attributes: qdqAttributes(type.quant),
    ...lowering.placement(producer),
  });
  const reals = dequantize.output(0);
  for (const use of realUses) {
    const user = use.node;
    if (user) user.setInput(use.index, reals);
  }
  counts.dequantize++;
}

/** A constant (initializer or onnx.Constant) keeps its integers and loses the quant params. */
function stripConstantQuant(value: Value): void {
  const producer = value.producer;
  const attribute = producer?.op === 'onnx.Constant' ? producer.getAttribute('value') : undefined;
  if (producer && attribute?.kind === 'tensor') producer.setAttribute('value', { kind: 'tensor', value: attribute.value.withQuant(undefined) });
  else if (value.constant) value.constant = value.constant.withQuant(undefined);
}

export const materializeQdq = definePass({
  name: 'materialize-qdq',
  summary: 'Lower quant<> tensor types to ONNX QuantizeLinear/DequantizeLinear, leaving a plain ONNX model',
  description:
    'A quant<> type holds the storage integers (the dtype) and the reals they stand for: real = scale * (q - zero_point). ' +
    'A quantized constant or graph input keeps its integers and its name, and ops that compute on its reals read ' +
    '<name>_dequantized (a DequantizeLinear at the top of the graph). A quantized value computed by a node becomes ' +
    '<name>_float (float32) -> QuantizeLinear <name>_quantize -> <name> (the integers) -> DequantizeLinear <name>_dequantize. ' +
    'Graph outputs and DequantizeLinear/QLinear*/…Integer inputs keep reading the integers. Existing Q/DQ nodes that spell a ' +
    "value's quantization must agree with its type. Per-axis needs opset 13, int16/uint16/int4/uint4 need opset 21: a lower " +
    'opset is refused unless bump-opset=true and no node of the model has a newer ONNX definition in between.',
  options: {
    bumpOpset: option.boolean({ default: false, help: 'raise the onnx opset import when the quant types need a newer one (refused when an op of the model changed in between)' }),
  },
  statistics: ['values-lowered', 'constants-lowered', 'quantize-inserted', 'dequantize-inserted', 'opset-bumped'],
  run(model, context) {
    const entries = quantizedValues(model);
    if (entries.length === 0) return context.preserveAll();
    for (const { value, type } of entries) {
      const problem = quantTypeProblem(type);
      if (problem) throw valueError(value, problem.reason, { expected: problem.expected, actual: problem.actual });
    }
    entries.forEach(checkLowerable);
    if (checkOpset(model, entries, context.options.bumpOpset)) context.statistic('opset-bumped');
    const counts = { quantize: 0, dequantize: 0 };
    const lowerings = new Map<Graph, GraphLowering>();
    for (const entry of entries) {
      const graph = entry.value.graph;
      let lowering = lowerings.get(graph);
      if (!lowering) lowerings.set(graph, (lowering = new GraphLowering(graph)));
      const isConstant = entry.value.producer === null || entry.value.producer.op === 'onnx.Constant';
      lowerValue(entry, lowering, counts);
      context.statistic(isConstant && !entry.value.isGraphInput ? 'constants-lowered' : 'values-lowered');
    }
    context.statistic('quantize-inserted', counts.quantize);
    context.statistic('dequantize-inserted', counts.dequantize);
    return preserved(context, true);
  },
});
