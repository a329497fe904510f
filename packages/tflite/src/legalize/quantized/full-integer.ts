/**
 * legalize-tflite{full-integer=true}: refuses, before anything is written, a model in which any operator
 * would compute float32 — every such node by name, op and why, in one error. Allowed: QUANTIZE of a graph
 * input and DEQUANTIZE into a graph output (io-type=float; io-type=int8 drops them where it can), and ops
 * that only read a shape. Everything else must be an int8 (or int32/int64 index) op.
 */
import { isTensorType, ModelpassError, type DiagnosticInit, type Graph, type Node, type Value } from '@modelpass/ir';
import { quantOf } from './quant-values.js';

const QDQ = new Set(['onnx.QuantizeLinear', 'onnx.DequantizeLinear']);
/** Ops that read only their input's shape. */
const SHAPE_READERS = new Set(['onnx.Shape', 'onnx.Size']);

/** The hint every full-integer refusal carries. */
export const FULL_INTEGER_HINT =
  "quantize the model with quantize-static{full-integer=true} (graph outputs quantized too, the stem Conv quantized: min-conv-reduction=0; it warns naming what it still leaves float), or drop full-integer=true to run these ops in float between DEQUANTIZE and QUANTIZE";

function isFloatReals(value: Value | null | undefined): value is Value {
  return !!value && isTensorType(value.type) && value.type.dtype === 'float32' && quantOf(value) === undefined;
}

/** Why a node that touches no quantized value computes float32, or undefined when it does not. */
function floatComputation(node: Node): string | undefined {
  const output = node.outputs.find(isFloatReals);
  if (output) return `its output '${output.name}' is float32 (the model does not quantize it)`;
  const input = node.inputs.find((value) => isFloatReals(value) && !value.isConstant);
  if (input) return `it reads float32 '${input.name}'`;
  return undefined;
}

/** Why a node on quantized values runs in float (a float input or output besides its quantized ones). */
function mixedFloat(node: Node): string {
  const output = node.outputs.find(isFloatReals);
  if (output) return `its output '${output.name}' is float32 (the model does not quantize it), so it runs in float between DEQUANTIZE and QUANTIZE`;
  const index = node.inputs.findIndex((value) => isFloatReals(value));
  const input = node.inputs[index];
  if (input) return `input #${index} '${input.name}' is float32${input.isConstant ? ' (a float constant, not quantized)' : ''}, so it runs in float between DEQUANTIZE and QUANTIZE`;
  return 'it runs in float between DEQUANTIZE and QUANTIZE';
}

export interface FullIntegerCheck {
  /** Whether the node becomes an int8 TFLite op (prepare-quantized's decision). */
  readonly runsInt8: (node: Node) => boolean;
  /** Nodes unsupported-int8=float sends to float, with the reason they have no int8 lowering. */
  readonly noInt8Lowering?: ReadonlyMap<Node, string>;
}

/** Every node that would compute float32 in the .tflite, with why (graph order). */
export function floatNodesLeft(graph: Graph, check: FullIntegerCheck): DiagnosticInit[] {
  const found: DiagnosticInit[] = [];
  for (const node of graph.nodes()) {
    if (QDQ.has(node.op) || SHAPE_READERS.has(node.op)) continue;
    const touchesQuant = [...node.inputs, ...node.outputs].some((value) => quantOf(value) !== undefined);
    let reason: string | undefined;
    if (!touchesQuant) reason = floatComputation(node);
    else if (check.noInt8Lowering?.has(node)) reason = `${check.noInt8Lowering.get(node)!} (unsupported-int8=float would run it in float)`;
    else if (!check.runsInt8(node)) reason = mixedFloat(node);
    if (reason) found.push({ reason: `${node.op} '${node.name}' would stay float: ${reason}`, location: node.location, source: '@modelpass/tflite', code: 'tflite/not-full-integer' });
  }
  return found;
}

/** Throws when any node would stay float (full-integer=true); `quantized` says whether the model has quantized activations at all. */
export function refuseFloatNodes(graph: Graph, check: FullIntegerCheck, quantized: boolean): void {
  const left = floatNodesLeft(graph, check);
  if (left.length === 0) return;
  const what = quantized ? `${left.length} node(s) would stay float32` : `the model has no quantized activations: all ${left.length} float op(s) would stay float32`;
  throw new ModelpassError([
    { reason: `legalize-tflite full-integer=true: ${what}; nothing was written`, source: '@modelpass/tflite', code: 'tflite/not-full-integer', hint: FULL_INTEGER_HINT },
    ...left,
  ]);
}
