/**
 * Pairs the nodes of two models: first by node name, then by the name of their first output (same
 * op), then by structure — the same op reading the same sources, where a source is a graph input
 * (by name), a constant (by content, so a folded `Constant` node and an initializer with the same
 * data are one source), or an output of an already paired node. Structure matching repeats until
 * nothing new pairs, so renamed chains pair from their inputs down.
 */
import { denseOfSparse, type Model, type Node, type Value } from '@modelpass/ir';
import type { SourceKind } from '../schema.js';
import { tensorFingerprint } from './tensor-error.js';

export interface NodePair {
  readonly before: Node;
  readonly after: Node;
  readonly matchedBy: 'name' | 'structure';
}

export interface NodeMatching {
  readonly pairs: readonly NodePair[];
  readonly removed: readonly Node[];
  readonly added: readonly Node[];
  /** The source key of a value of the first model, in the second model's terms. */
  sourceBefore(value: Value | null): string;
  /** The source key of a value of the second model. */
  sourceAfter(value: Value | null): string;
}

/** What a value is, for a diff reader. */
export function sourceKind(value: Value | null): SourceKind {
  if (!value) return 'none';
  if (value.isGraphInput) return 'graph-input';
  if (value.constant || value.sparseConstant || value.producer?.op === 'onnx.Constant') return 'constant';
  return value.producer ? 'node' : 'graph-input';
}

function uniqueByName(nodes: readonly Node[]): Map<string, Node> {
  const byName = new Map<string, Node>();
  const duplicated = new Set<string>();
  for (const node of nodes) {
    if (byName.has(node.name)) duplicated.add(node.name);
    byName.set(node.name, node);
  }
  for (const name of duplicated) byName.delete(name);
  return byName;
}

class SourceKeys {
  private readonly constants = new Map<Value, string>();

  constructor(private readonly producerName: (node: Node) => string | undefined) {}

  key(value: Value | null): string {
    if (!value) return 'none';
    if (value.constant || value.sparseConstant) {
      if (value.isGraphInput) return `input:${value.name}`;
      let key = this.constants.get(value);
      if (key === undefined) {
        // A sparse initializer keys as the dense tensor it stands for (the same weights stored either way match).
        key = `const:${tensorFingerprint(value.constant ?? denseOfSparse(value.sparseConstant!))}`;
        this.constants.set(value, key);
      }
      return key;
    }
    const producer = value.producer;
    if (!producer) return value.isGraphInput ? `input:${value.name}` : `outer:${value.name}`;
    if (producer.op === 'onnx.Constant') {
      const attribute = producer.getAttribute('value');
      if (attribute?.kind === 'tensor') return `const:${tensorFingerprint(attribute.value)}`;
    }
    const name = this.producerName(producer);
    return name === undefined ? `unpaired:${value.name}` : `out:${name}#${value.producerIndex}`;
  }
}

function structureKey(node: Node, keys: SourceKeys): string {
  return `${node.op}(${node.inputs.map((input) => keys.key(input)).join(',')})`;
}

export function matchNodes(before: Model, after: Model): NodeMatching {
  const a = [...before.graph.allNodes()];
  const b = [...after.graph.allNodes()];
  const pairOf = new Map<Node, NodePair>();
  const taken = new Set<Node>();
  const pair = (x: Node, y: Node, matchedBy: NodePair['matchedBy']) => {
    const p = { before: x, after: y, matchedBy };
    pairOf.set(x, p);
    taken.add(y);
  };

  const bByName = uniqueByName(b);
  for (const [name, node] of uniqueByName(a)) {
    const other = bByName.get(name);
    if (other) pair(node, other, 'name');
  }
  const bByOutput = new Map<string, Node>();
  for (const node of b) if (!taken.has(node) && node.outputs[0]) bByOutput.set(node.outputs[0].name, node);
  for (const node of a) {
    if (pairOf.has(node) || !node.outputs[0]) continue;
    const other = bByOutput.get(node.outputs[0].name);
    if (other && !taken.has(other) && other.op === node.op) pair(node, other, 'structure');
  }

  const keysAfter = new SourceKeys((node) => node.name);
  const keysBefore = new SourceKeys((node) => pairOf.get(node)?.after.name);
  for (let progress = true; progress; ) {
    progress = false;
    const candidates = new Map<string, Node[]>();
    for (const node of b) {
      if (taken.has(node)) continue;
      const key = structureKey(node, keysAfter);
      const list = candidates.get(key);
      if (list) list.push(node);
      else candidates.set(key, [node]);
    }
    for (const node of a) {
      if (pairOf.has(node)) continue;
      const list = candidates.get(structureKey(node, keysBefore));
      const other = list?.find((candidate) => !taken.has(candidate));
      if (!other) continue;
      pair(node, other, 'structure');
      progress = true;
    }
  }
  return {
    pairs: a.filter((node) => pairOf.has(node)).map((node) => pairOf.get(node)!),
    removed: a.filter((node) => !pairOf.has(node)),
    added: b.filter((node) => !taken.has(node)),
    sourceBefore: (value) => keysBefore.key(value),
    sourceAfter: (value) => keysAfter.key(value),
  };
}
