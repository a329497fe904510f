/**
 * Scan: iterates a body graph over slices of its scan inputs, carrying state variables and stacking
 * the body's scan-output elements. Opset 9+ form (scan_input_axes/directions, scan_output_axes/
 * directions) and the opset-8 form (a leading batch axis, scanning axis 1, `directions`, optional
 * sequence_lens that must cover the whole sequence).
 */
import { Tensor, tensorType, type Dim, type Graph, type InferenceContext, type Node, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type KernelContext, type RuntimeValue } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { opError } from '../util/kernel-io.js';
import { normalizeAxis } from '../util/shape.js';
import { concatTensors, sliceAlongAxis } from './slice-ops.js';
import { verifyScan } from '../verify/structure-checks.js';

/** Entry `index` of `x` along `axis`: a tensor of rank one less. */
function takeAlongAxis(x: Tensor, axis: number, index: number): Tensor {
  return sliceAlongAxis(x, axis, index, 1).reshape(x.shape.filter((_, d) => d !== axis));
}

/** Stacks tensors of one shape along a new axis `axis`; `empty` gives the element type for zero parts. */
function stackAlongAxis(node: Node, parts: readonly Tensor[], axis: number, empty: Type | undefined): Tensor {
  if (parts.length === 0) {
    const shape = empty?.kind === 'tensor' && empty.shape?.every((d) => typeof d === 'number') ? (empty.shape as number[]) : undefined;
    if (!shape || empty?.kind !== 'tensor') throw opError(node, 'scan ran zero iterations and the body output has no static shape to stack', { hint: 'give the body outputs static shapes' });
    const outShape = [...shape.slice(0, axis), 0, ...shape.slice(axis)];
    return empty.dtype === 'string' ? Tensor.fromStrings(outShape, []) : Tensor.fromBytes(empty.dtype, outShape, new Uint8Array(0));
  }
  const unit = (t: Tensor) => t.reshape([...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)]);
  return concatTensors(node, parts.map(unit), axis);
}

function tensorValue(node: Node, value: RuntimeValue | undefined, what: string): Tensor {
  if (value instanceof Tensor) return value;
  throw opError(node, `${what} must be a tensor`, { actual: value === null || value === undefined ? 'no value' : 'a sequence' });
}

interface ScanPlan {
  readonly stateCount: number;
  readonly inputAxes: readonly number[];
  readonly inputReversed: readonly boolean[];
  readonly outputAxes: readonly (number | undefined)[];
  readonly outputReversed: readonly boolean[];
}

function listAttr(node: Node, name: string, count: number, fallback: number): number[] {
  const given = node.optionalAttr(name, 'ints');
  if (given && given.length !== count) throw opError(node, `${name} must have one entry per ${name.startsWith('scan_output') ? 'scan output' : 'scan input'}`, { expected: String(count), actual: String(given.length) });
  return given ? [...given] : new Array<number>(count).fill(fallback);
}

function scanPlan(node: Node, body: Graph, stateCount: number, scanInputCount: number): ScanPlan {
  const scanOutputCount = body.outputs.length - stateCount;
  if (scanOutputCount < 0 || body.inputs.length !== stateCount + scanInputCount) {
    throw opError(node, `body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs`, { expected: `${stateCount + scanInputCount} inputs (${stateCount} states + ${scanInputCount} scan inputs) and at least ${stateCount} outputs` });
  }
  return {
    stateCount,
    inputAxes: listAttr(node, 'scan_input_axes', scanInputCount, 0),
    inputReversed: listAttr(node, 'scan_input_directions', scanInputCount, 0).map((d) => d === 1),
    outputAxes: node.optionalAttr('scan_output_axes', 'ints') ? listAttr(node, 'scan_output_axes', scanOutputCount, 0) : new Array(scanOutputCount).fill(undefined),
    outputReversed: listAttr(node, 'scan_output_directions', scanOutputCount, 0).map((d) => d === 1),
  };
}

/** The opset-9 algorithm over one set of states and scan inputs. */
function runScan(context: KernelContext, body: Graph, plan: ScanPlan, states: RuntimeValue[], scanInputs: readonly Tensor[]): RuntimeValue[] {
  const { node } = context;
  const axes = scanInputs.map((x, i) => normalizeAxis(plan.inputAxes[i]!, x.rank, node, 'scan_input_axes entry'));
  const length = scanInputs[0]?.shape[axes[0]!] ?? 0;
  scanInputs.forEach((x, i) => {
    if (x.shape[axes[i]!] !== length) throw opError(node, `scan input #${i} has sequence length ${x.shape[axes[i]!]}`, { expected: String(length) });
  });
  const elements: Tensor[][] = plan.outputReversed.map(() => []);
  for (let t = 0; t < length; t++) {
    const slices = scanInputs.map((x, i) => takeAlongAxis(x, axes[i]!, plan.inputReversed[i] ? length - 1 - t : t));
    const outputs = context.runSubgraph(body, [...states, ...slices]);
    states = outputs.slice(0, plan.stateCount);
    outputs.slice(plan.stateCount).forEach((value, k) => elements[k]!.push(tensorValue(node, value, `body scan output #${k}`)));
  }
  const stacked = elements.map((parts, k) => {
    const ordered = plan.outputReversed[k] ? [...parts].reverse() : parts;
    const elementType = body.outputs[plan.stateCount + k]?.type;
    const rank = (parts[0]?.rank ?? (elementType?.kind === 'tensor' ? (elementType.shape?.length ?? 0) : 0)) + 1;
    const axis = normalizeAxis(plan.outputAxes[k] ?? 0, rank, node, 'scan_output_axes entry');
    return stackAlongAxis(node, ordered, axis, elementType);
  });
  return [...states, ...stacked];
}

function scanKernel(inputs: readonly RuntimeValue[], context: KernelContext): RuntimeValue[] {
  const { node } = context;
  const body = node.attr('body', 'graph');
  const scanInputCount = node.attr('num_scan_inputs', 'int');
  if (context.opset >= 9) {
    const stateCount = inputs.length - scanInputCount;
    const plan = scanPlan(node, body, stateCount, scanInputCount);
    const scanInputs = inputs.slice(stateCount).map((v, i) => tensorValue(node, v, `scan input #${i}`));
    return runScan(context, body, plan, inputs.slice(0, stateCount), scanInputs);
  }
  // Opset 8: input 0 is sequence_lens; every state and scan input has a leading batch axis.
  const rest = inputs.slice(1).map((v, i) => tensorValue(node, v, `input #${i + 1}`));
  const stateCount = rest.length - scanInputCount;
  const batch = rest[0]?.shape[0] ?? 0;
  const sequenceLength = rest[stateCount]?.shape[1] ?? 0;
  const lens = inputs[0] instanceof Tensor ? readInts(inputs[0]) : [];
  if (lens.some((len) => len !== sequenceLength)) {
    throw opError(node, 'sequence_lens shorter than the scan inputs are not supported by the reference kernel', { expected: `every length ${sequenceLength}`, actual: `[${lens.join(',')}]` });
  }
  const directions = node.optionalAttr('directions', 'ints') ?? [];
  const plan: ScanPlan = {
    stateCount,
    inputAxes: new Array<number>(scanInputCount).fill(0),
    inputReversed: Array.from({ length: scanInputCount }, (_, i) => directions[i] === 1),
    outputAxes: new Array(body.outputs.length - stateCount).fill(0),
    outputReversed: new Array<boolean>(body.outputs.length - stateCount).fill(false),
  };
  const perBatch = Array.from({ length: batch }, (_, b) => runScan(context, body, plan, rest.slice(0, stateCount).map((x) => takeAlongAxis(x, 0, b)), rest.slice(stateCount).map((x) => takeAlongAxis(x, 0, b))));
  return node.outputs.map((_, k) => stackAlongAxis(node, perBatch.map((outputs) => tensorValue(node, outputs[k], `output #${k}`)), 0, undefined));
}

function inferScan(context: InferenceContext): (Type | undefined)[] {
  const { node } = context;
  const body = node.attr('body', 'graph');
  const scanInputCount = node.attr('num_scan_inputs', 'int');
  const legacy = context.opset !== undefined && context.opset < 9;
  const first = legacy ? 1 : 0;
  const stateCount = node.inputs.length - first - scanInputCount;
  const scanInput = inputTensorType(context, first + stateCount);
  const inputAxis = legacy ? 1 : (node.optionalAttr('scan_input_axes', 'ints')?.[0] ?? 0);
  const rank = scanInput?.shape?.length;
  const length: Dim = scanInput?.shape && rank !== undefined ? (scanInput.shape[inputAxis < 0 ? inputAxis + rank : inputAxis] ?? null) : null;
  const batch: Dim = legacy ? (scanInput?.shape?.[0] ?? null) : null;
  const outputAxes = node.optionalAttr('scan_output_axes', 'ints');
  return node.outputs.map((_, k) => {
    if (k < stateCount) {
      const initial = context.inputType(first + k);
      const fromBody = body.outputs[k]?.type;
      return initial && initial.kind !== 'unknown' ? initial : fromBody && fromBody.kind !== 'unknown' ? fromBody : undefined;
    }
    const element = body.outputs[k]?.type;
    if (element?.kind !== 'tensor') return undefined;
    if (!element.shape) return tensorType(element.dtype, null);
    if (legacy) return tensorType(element.dtype, [batch, length, ...element.shape]);
    const raw = outputAxes?.[k - stateCount] ?? 0;
    const axis = raw < 0 ? raw + element.shape.length + 1 : raw;
    return tensorType(element.dtype, [...element.shape.slice(0, axis), length, ...element.shape.slice(axis)]);
  });
}

export const scanOp = defineCanonicalOp({
  op: 'onnx.Scan',
  summary: 'Runs body over slices of the scan inputs, carrying states and stacking scan outputs',
  inputs: [{ name: 'initial_state_and_scan_inputs', variadic: true }],
  outputs: [{ name: 'final_state_and_scan_outputs', variadic: true }],
  attributes: {
    body: { kind: 'graph', required: true },
    num_scan_inputs: { kind: 'int', required: true },
    scan_input_axes: { kind: 'ints' },
    scan_input_directions: { kind: 'ints' },
    scan_output_axes: { kind: 'ints' },
    scan_output_directions: { kind: 'ints' },
    directions: { kind: 'ints', doc: 'opset 8 only' },
  },
  verify: verifyScan,
  inferTypes: inferScan,
  kernel: scanKernel,
});
