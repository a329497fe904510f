/**
 * Intermediate tensors of two models compared by name on the same inputs: both models get every
 * shared node output as an extra graph output (ONNX Runtime then returns them), run once each,
 * and the tensors are compared in the first model's topological order. Used by `--check` to find
 * the first node whose output diverges inside a failing pass, and by `modelpass diff`.
 */
import { formatLocation, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { compareTensors } from '@modelpass/runtime';
import { reportNumber, shapeChangeOf, type TensorDivergence } from '@modelpass/report';
import type { Referee, RefereeEngine } from './referee.js';

export interface SharedTensor {
  readonly name: string;
  /** Producer in the first model. */
  readonly before: Node;
  /** Producer in the second model. */
  readonly after: Node;
}

export interface TensorComparison extends TensorDivergence {
  readonly afterNode: string;
  readonly afterOp: string;
  readonly location?: string;
}

export interface IntermediateComparison {
  readonly engine: RefereeEngine;
  /** In the first model's topological order. */
  readonly tensors: readonly TensorComparison[];
  readonly notes: readonly string[];
}

const opName = (node: Node): string => (node.dialect === 'onnx' ? node.opType : node.op);

function runnable(value: Value): boolean {
  return value.type.kind === 'tensor' || value.type.kind === 'unknown';
}

/** Node outputs of `a`'s main graph that `b` also produces under the same name, in `a`'s node order. */
export function sharedTensors(a: Model, b: Model): SharedTensor[] {
  const shared: SharedTensor[] = [];
  for (const node of a.graph.nodes()) {
    for (const value of node.outputs) {
      if (!value || !runnable(value)) continue;
      const other = b.graph.getValue(value.name);
      const producer = other?.producer;
      if (!other || !producer || !runnable(other)) continue;
      shared.push({ name: value.name, before: node, after: producer });
    }
  }
  return shared;
}

/** ONNX bytes of `bytes`' model with `names` added as graph outputs. */
function withOutputs(model: Model, names: readonly string[]): Uint8Array {
  const copy = decodeOnnx(encodeOnnx(model));
  const existing = new Set(copy.graph.outputs.map((o) => o.name));
  for (const name of names) {
    const value = copy.graph.getValue(name);
    if (value && !existing.has(name)) copy.graph.addOutput(value);
  }
  return encodeOnnx(copy);
}

export interface CompareIntermediatesOptions {
  readonly atol: number;
  readonly rtol: number;
  /** Run on this engine (default: ONNX Runtime, the interpreter only when ORT fails on the first model). */
  readonly engine?: RefereeEngine;
}

/** Runs both models on `feeds` and compares every shared intermediate tensor. */
export async function compareIntermediates(
  a: Model,
  b: Model,
  feeds: ReadonlyMap<string, Tensor>,
  referee: Referee,
  options: CompareIntermediatesOptions,
): Promise<IntermediateComparison> {
  const shared = sharedTensors(a, b);
  const names = shared.map((s) => s.name);
  const notes: string[] = [];
  // A name whose dtype changed holds another quantity (a QuantizeLinear's integer codes under the float
  // activation's name): comparing the numbers named a bogus first divergence (QA s12: max abs 110, cosine 0.65).
  const retyped: string[] = [];
  const first = options.engine ? { engine: options.engine, outputs: await referee.runOn(options.engine, withOutputs(a, names), feeds, names) } : await referee.run(withOutputs(a, names), feeds, names);
  if ('note' in first && first.note) notes.push(first.note);
  const second = await referee.runOn(first.engine, withOutputs(b, names), feeds, names);
  const tensors: TensorComparison[] = [];
  for (const { name, before, after } of shared) {
    const expected = first.outputs.get(name);
    const actual = second.get(name);
    if (!expected || !actual) continue;
    if (expected.dtype !== actual.dtype) {
      retyped.push(`'${name}' (${expected.dtype} → ${actual.dtype}, now from '${after.name}')`);
      continue;
    }
    const c = compareTensors(name, expected, actual, { atol: options.atol, rtol: options.rtol });
    const { node: _node, op: _op, ...where } = after.location;
    const location = formatLocation(where);
    tensors.push({
      name,
      node: before.name,
      op: opName(before),
      afterNode: after.name,
      afterOp: opName(after),
      ...(location ? { location } : {}),
      maxAbsError: reportNumber(c.maxAbsError),
      maxRelError: reportNumber(c.maxRelError),
      cosine: c.cosine,
      withinTolerance: c.withinTolerance,
      ...(c.shapeMatch ? {} : { shapeChange: shapeChangeOf(c.expectedShape, c.actualShape)! }),
    });
  }
  if (retyped.length > 0) {
    notes.push(`${retyped.length} tensor(s) keep their name but not their dtype, so their values are not compared: ${retyped.slice(0, 3).join(', ')}${retyped.length > 3 ? `, … ${retyped.length - 3} more` : ''}`);
  }
  return { engine: first.engine, tensors, notes };
}
