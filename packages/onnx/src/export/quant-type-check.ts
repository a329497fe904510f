/**
 * ONNX has no quantized tensor types: a value typed `int8[…] quant<…>` would be written as a plain
 * int8 tensor and its scale and zero point silently lost. The writer refuses such a model instead,
 * naming the first quantized value and where it is defined; `materialize-qdq` (from
 * `@modelpass/transforms`) lowers quant<> types to QuantizeLinear/DequantizeLinear first.
 */
import { formatType, type Graph, type Location, type Model, type QuantParams, type Value } from '@modelpass/ir';
import { onnxError } from '../errors.js';

interface Found {
  readonly what: string;
  readonly location: Location;
}

function quantOf(value: Value): QuantParams | undefined {
  return (value.type.kind === 'tensor' ? value.type.quant : undefined) ?? value.constant?.quant;
}

/** `int8[4,3] quant<bits=8, per-axis on axis 0>` */
function describeQuantized(value: Value, quant: QuantParams): string {
  const granularity = quant.axis === undefined ? 'per-tensor' : `per-axis on axis ${quant.axis}`;
  return `${formatType(value.type)} quant<bits=${quant.bits}, ${granularity}>`;
}

function quantizedIn(graph: Graph): Found | undefined {
  const where = { path: graph.path() };
  for (const value of [...graph.inputs, ...graph.constants]) {
    const quant = quantOf(value);
    if (quant) {
      const role = value.isGraphInput ? 'graph input' : 'initializer';
      return { what: `${role} '${value.name}' (${describeQuantized(value, quant)})`, location: { ...where, node: value.name } };
    }
  }
  for (const node of graph.nodes()) {
    for (const output of node.outputs) {
      const quant = output ? quantOf(output) : undefined;
      if (output && quant) {
        return { what: `value '${output.name}' (${describeQuantized(output, quant)}), output of node '${node.name}' (${node.op})`, location: node.location };
      }
    }
    for (const [name, attribute] of node.attributes) {
      if (attribute.kind === 'tensor' && attribute.value.quant) {
        return { what: `attribute '${name}' of node '${node.name}' (${node.op}), a quantized tensor`, location: node.location };
      }
    }
    for (const subgraph of node.subgraphs) {
      const found = quantizedIn(subgraph);
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws a located ModelpassError when any value, initializer or Constant tensor of the model has a quant<> type. */
export function assertNoQuantTypes(model: Model): void {
  const found = quantizedIn(model.graph) ?? model.functions.map((fn) => quantizedIn(fn.body)).find((f) => f !== undefined);
  if (!found) return;
  throw onnxError({
    reason: `cannot write ${found.what} to ONNX: ONNX has no quantized tensor types, so its scale and zero point would be lost`,
    location: found.location,
    code: 'onnx/quantized-type',
    hint: "run the materialize-qdq pass first (e.g. --pipeline 'materialize-qdq'): it lowers quant<> types to QuantizeLinear/DequantizeLinear",
  });
}
