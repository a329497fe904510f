/**
 * `diffModels(a, b)`: the structural and numeric difference of two models as the report's
 * `ModelDiff` (without `tensors`, which needs a runtime: the CLI adds it). Nodes are paired by
 * `matchNodes`; a pair differs when its op, an attribute (compared as printed) or the source of an
 * input (a constant by content) differs. Initializers are compared by name, changed data with error
 * statistics. Graph inputs and outputs by name and type.
 */
import { denseOfSparse, formatType, type Attribute, type Graph, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';
import type { AttributeChange, ChangedNode, ChangedTensor, DiffNode, DiffTensor, GraphIoDiff, ModelDiff } from '../schema.js';
import { reportNumber } from '../validate.js';
import { formatAttribute } from './format-attribute.js';
import { matchNodes, sourceKind, type NodeMatching, type NodePair } from './match-nodes.js';
import { tensorError } from './tensor-error.js';

const opName = (node: Node): string => (node.dialect === 'onnx' ? node.opType : node.op);

function diffNode(node: Node): DiffNode {
  return { name: node.name, op: opName(node), inputs: node.inputs.map((v) => v?.name ?? ''), outputs: node.outputs.map((v) => v?.name ?? '') };
}

function attributeChanges(a: Node, b: Node): AttributeChange[] {
  const changes: AttributeChange[] = [];
  const names = [...new Set([...a.attributes.keys(), ...b.attributes.keys()])].sort();
  for (const name of names) {
    const before = a.attributes.get(name);
    const after = b.attributes.get(name);
    const x = before ? formatAttribute(before) : undefined;
    const y = after ? formatAttribute(after) : undefined;
    if (x !== y && !(before && after && sameAsFloat32(before, after))) changes.push({ name, ...(x !== undefined ? { before: x } : {}), ...(y !== undefined ? { after: y } : {}) });
  }
  return changes;
}

/**
 * Float attributes equal once rounded to float32: ONNX stores float attributes as float32, so a
 * .pt's double epsilon 0.001 and the same value read back from ONNX (0.0010000000474974513) are
 * one value, not a change.
 */
function sameAsFloat32(a: Attribute, b: Attribute): boolean {
  if (a.kind === 'float' && b.kind === 'float') return Math.fround(a.value) === Math.fround(b.value);
  if (a.kind === 'floats' && b.kind === 'floats') return a.value.length === b.value.length && a.value.every((v, i) => Math.fround(v) === Math.fround(b.value[i]!));
  return false;
}

/** The data of a constant input (initializer or Constant node), if it is one. */
function constantData(value: Value | null): Tensor | undefined {
  if (!value) return undefined;
  if (value.constant) return value.constant;
  if (value.sparseConstant) return denseOfSparse(value.sparseConstant);
  const attribute = value.producer?.op === 'onnx.Constant' ? value.producer.getAttribute('value') : undefined;
  return attribute?.kind === 'tensor' ? attribute.value : undefined;
}

/** Fingerprints matched; for two constants, make sure byte for byte. */
function sameConstantData(x: Value | null, y: Value | null): boolean {
  const a = constantData(x);
  const b = constantData(y);
  return a === undefined || b === undefined || a.equals(b);
}

function changedNode(pair: NodePair, matching: NodeMatching): ChangedNode | undefined {
  const { before: a, after: b } = pair;
  const attributes = attributeChanges(a, b);
  const inputs: ChangedNode['inputs'][number][] = [];
  for (let i = 0; i < Math.max(a.inputs.length, b.inputs.length); i++) {
    const x = a.inputs[i] ?? null;
    const y = b.inputs[i] ?? null;
    if (matching.sourceBefore(x) === matching.sourceAfter(y) && sameConstantData(x, y)) continue;
    const beforeKind = sourceKind(x);
    const afterKind = sourceKind(y);
    inputs.push({ index: i, before: x?.name ?? null, after: y?.name ?? null, ...(beforeKind !== afterKind ? { beforeKind, afterKind } : {}) });
  }
  if (a.op === b.op && attributes.length === 0 && inputs.length === 0) return undefined;
  return {
    name: a.name,
    ...(b.name !== a.name ? { renamedTo: b.name } : {}),
    matchedBy: pair.matchedBy,
    op: opName(a),
    ...(a.op !== b.op ? { opAfter: opName(b) } : {}),
    attributes,
    inputs,
  };
}

function constantsOf(model: Model): Map<string, Tensor> {
  const constants = new Map<string, Tensor>();
  const visit = (graph: Graph) => {
    for (const value of graph.constants) {
      // A sparse initializer (pruning's sparse-initializers=true) is compared by the dense tensor it stands for.
      if (value.constant) constants.set(value.name, value.constant);
      else if (value.sparseConstant) constants.set(value.name, denseOfSparse(value.sparseConstant));
    }
    for (const node of graph.nodes()) for (const sub of node.subgraphs) visit(sub);
  };
  visit(model.graph);
  return constants;
}

const diffTensor = (name: string, t: Tensor): DiffTensor => ({ name, dtype: t.dtype, shape: [...t.shape] });

function initializerDiff(a: Model, b: Model): ModelDiff['initializers'] {
  const before = constantsOf(a);
  const after = constantsOf(b);
  const added: DiffTensor[] = [];
  const removed: DiffTensor[] = [];
  const changed: ChangedTensor[] = [];
  let unchanged = 0;
  for (const [name, x] of before) {
    const y = after.get(name);
    if (!y) {
      removed.push(diffTensor(name, x));
      continue;
    }
    if (x.equals(y)) {
      unchanged++;
      continue;
    }
    const error = tensorError(x, y);
    changed.push({
      ...diffTensor(name, x),
      ...(y.dtype !== x.dtype ? { dtypeAfter: y.dtype } : {}),
      ...(y.shape.join(',') !== x.shape.join(',') ? { shapeAfter: [...y.shape] } : {}),
      maxAbsError: reportNumber(error.maxAbsError),
      maxRelError: reportNumber(error.maxRelError),
      cosine: error.cosine,
    });
  }
  for (const [name, y] of after) if (!before.has(name)) added.push(diffTensor(name, y));
  return { added, removed, changed, unchanged };
}

function ioDiff(a: readonly Value[], b: readonly Value[]): GraphIoDiff {
  const before = new Map(a.map((v) => [v.name, formatType(v.type)]));
  const after = new Map(b.map((v) => [v.name, formatType(v.type)]));
  return {
    added: [...after].filter(([name]) => !before.has(name)).map(([name, type]) => ({ name, type })),
    removed: [...before].filter(([name]) => !after.has(name)).map(([name, type]) => ({ name, type })),
    changed: [...before].filter(([name, type]) => after.has(name) && after.get(name) !== type).map(([name, type]) => ({ name, before: type, after: after.get(name)! })),
  };
}

const feedable = (graph: Graph): Value[] => graph.inputs.filter((v) => !v.isConstant && v.constant === undefined);

export function diffModels(a: Model, b: Model): ModelDiff {
  const matching = matchNodes(a, b);
  const changed: ChangedNode[] = [];
  let unchanged = 0;
  for (const pair of matching.pairs) {
    const change = changedNode(pair, matching);
    if (change) changed.push(change);
    else unchanged++;
  }
  return {
    nodes: { added: matching.added.map(diffNode), removed: matching.removed.map(diffNode), changed, unchanged },
    initializers: initializerDiff(a, b),
    graphInputs: ioDiff(feedable(a.graph), feedable(b.graph)),
    graphOutputs: ioDiff(a.graph.outputs, b.graph.outputs),
  };
}
