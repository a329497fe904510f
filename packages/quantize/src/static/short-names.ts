/**
 * Short names for what quantize-static inserts. materialize-qdq names every new value and node after
 * the value it serves (`/bn1/BatchNormalization_output_0_dequantized`, `…_quantize`, `fc1.weight_scale`),
 * and each name is written once per definition and once per reader: on a 420 KB model that is ~3 KB,
 * 0.7 % of the file. Values and nodes that did not exist before quantization (and that the report does
 * not name) get short generated names instead: `dq7` (a DequantizeLinear's output), `q2` (the integers
 * it reads, or a QuantizeLinear's output), `qf3` (the float result a QuantizeLinear reads), `qs2`/`qz2`
 * (scale / zero-point initializers), `Q4`/`DQ9` (nodes).
 * The user's values and nodes keep their names; graph inputs and outputs are never renamed.
 * With `names=short` (NO_NAMES_KEPT) the model's own values are renamed too, and no node name is
 * written at all (ONNX node names are optional; the nodes keep their names in the IR, so `--debug`
 * and the report still name the model's own nodes): on a small model whose int8 weights are a
 * quarter of the float ones, its names are the next largest part of the file (fashion-resnet
 * QOperator 0.266× → 0.260×, fashion-transformer 0.322× → 0.282×; without node names another
 * 0.05–0.2 % of the float file).
 */
import type { Graph, Node, Value } from '@modelpass/ir';
import { META_UNNAMED } from '@modelpass/onnx';

/** The names a model had before quantization (kept as they are). */
export interface NameSnapshot {
  readonly values: ReadonlySet<string>;
  readonly nodes: ReadonlySet<string>;
}

/** No names kept: with `names=short` every value and node but the graph's inputs and outputs gets a short name. */
export const NO_NAMES_KEPT: NameSnapshot = { values: new Set(), nodes: new Set() };

export function snapshotNames(graph: Graph): NameSnapshot {
  return {
    values: new Set([...graph.definedValues()].map((value) => value.name)),
    nodes: new Set([...graph.nodes()].map((node) => node.name)),
  };
}

const NODE_PREFIX: Readonly<Record<string, string>> = {
  'onnx.QuantizeLinear': 'Q',
  'onnx.DequantizeLinear': 'DQ',
};

/** The short-name prefix of a value by how the quantization nodes use it. */
function valuePrefix(value: Value): string {
  const producer = value.producer;
  if (producer?.op === 'onnx.DequantizeLinear') return 'dq';
  if (producer?.op === 'onnx.QuantizeLinear') return 'q';
  for (const use of value.uses) {
    const op = use.node?.op;
    if (op !== 'onnx.QuantizeLinear' && op !== 'onnx.DequantizeLinear') continue;
    // input 0: the float a QuantizeLinear reads, or the integers a DequantizeLinear reads
    if (use.index === 0) return op === 'onnx.DequantizeLinear' ? 'q' : 'qf';
    if (use.index === 1) return 'qs';
    if (use.index === 2) return 'qz';
  }
  return 'qv';
}

/** Numbers names per prefix (`dq0`, `dq1`, …), skipping any already taken. */
class ShortNamer {
  private readonly counters = new Map<string, number>();

  next(prefix: string, taken: (name: string) => boolean): string {
    for (;;) {
      const count = this.counters.get(prefix) ?? 0;
      this.counters.set(prefix, count + 1);
      const name = `${prefix}${count}`;
      if (!taken(name)) return name;
    }
  }
}

/** Renames `node` in place; moving it to its own position re-registers the name with the graph. */
function renameNode(node: Node, name: string): void {
  node.name = name;
  if (node.next) node.moveBefore(node.next);
  else if (node.prev) node.moveAfter(node.prev);
}

/**
 * Gives the values and nodes quantization added short names; `keep` holds the names from before.
 * Returns the values renamed (old name → new name), so a caller's report can follow them: the
 * quantized copy of a float activation (`/attn/Softmax_output_0_quantized`) becomes `q4`.
 */
export function shortenGeneratedNames(graph: Graph, keep: NameSnapshot, renamedNodes?: Map<string, string>): ReadonlyMap<string, string> {
  const namer = new ShortNamer();
  const renamed = new Map<string, string>();
  // A value is met once as an output and again at each reader: name it at the first meeting only.
  const named = new Set<Value>();
  const nodeNames = new Set([...graph.nodes()].map((node) => node.name));
  for (const node of graph.nodes()) {
    for (const value of [...node.inputs, ...node.outputs]) {
      if (!value || named.has(value) || keep.values.has(value.name) || value.isGraphInput || value.isGraphOutput || value.graph !== graph) continue;
      named.add(value);
      const old = value.name;
      // With every name shortened (names=short) a value no Q/DQ node reads or writes is plain `v3`.
      const prefix = valuePrefix(value);
      value.rename(namer.next(prefix === 'qv' && keep === NO_NAMES_KEPT ? 'v' : prefix, (name) => graph.lookup(name) !== undefined));
      renamed.set(old, value.name);
    }
    // names=short: no node name is written (the IR keeps them for messages and the report).
    if (keep === NO_NAMES_KEPT) node.metadata.set(META_UNNAMED, 'true');
    // Q/DQ nodes the pass added get short names by kind.
    const prefix = NODE_PREFIX[node.op];
    if (prefix && !keep.nodes.has(node.name)) {
      const name = namer.next(prefix, (candidate) => nodeNames.has(candidate));
      nodeNames.add(name);
      renamedNodes?.set(node.name, name);
      renameNode(node, name);
    }
  }
  return renamed;
}
