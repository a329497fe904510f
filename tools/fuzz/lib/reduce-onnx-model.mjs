/**
 * Structural shrinking of an ONNX model that produces a finding (the `passes` mode's minimizer,
 * tried before the byte-level delta debugging, which rarely keeps a protobuf decodable): each
 * candidate is the model with one thing less — nodes no output needs and unused initializers, a
 * graph output, one node bypassed (its readers read its first input instead; nothing else pruned,
 * as the finding may be in a node no output needs), value_info, metadata, doc strings. The
 * minimizer keeps a candidate when it still gives the same finding class.
 */
import { decodeModelObject, encodeModelObject } from './mutate-onnx-model.mjs';

/** Drops nodes whose outputs nothing reads (top graph only), and initializers nothing reads. */
function pruneUnused(graph) {
  const needed = new Set((graph.output ?? []).map((o) => o.name));
  const subgraphReads = (node) => {
    const reads = [];
    const visit = (g) => {
      for (const n of g?.node ?? []) {
        reads.push(...(n.input ?? []));
        for (const a of n.attribute ?? []) [a.g, ...(a.graphs ?? [])].forEach(visit);
      }
    };
    for (const a of node.attribute ?? []) [a.g, ...(a.graphs ?? [])].forEach(visit);
    return reads;
  };
  const kept = [];
  for (const node of [...(graph.node ?? [])].reverse()) {
    if ((node.output ?? []).some((name) => needed.has(name))) {
      kept.push(node);
      for (const name of [...(node.input ?? []), ...subgraphReads(node)]) needed.add(name);
    }
  }
  graph.node = kept.reverse();
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name));
  graph.input = (graph.input ?? []).filter((v) => needed.has(v.name) || (graph.input?.length ?? 0) === 1);
}

/** Candidate models, smallest steps first in the order most likely to help. */
export function* reduceOnnxModel(bytes) {
  const model = decodeModelObject(bytes);
  const graph = model?.graph;
  if (!graph) return;
  const encode = (edit) => {
    const copy = structuredClone(model);
    edit(copy);
    try {
      return encodeModelObject(copy);
    } catch {
      return undefined;
    }
  };
  const candidates = [];
  candidates.push(() => encode((m) => pruneUnused(m.graph)));
  for (let i = 0; i < (graph.output?.length ?? 0) && graph.output.length > 1; i++) {
    candidates.push(() => encode((m) => {
      m.graph.output.splice(i, 1);
      pruneUnused(m.graph);
    }));
  }
  for (let i = 0; i < (graph.node?.length ?? 0); i++) {
    candidates.push(() => encode((m) => {
      const [node] = m.graph.node.splice(i, 1);
      const replacement = node.input?.find((name) => name) ?? '';
      const rename = (name) => ((node.output ?? []).includes(name) ? replacement : name);
      for (const later of m.graph.node.slice(i)) later.input = (later.input ?? []).map(rename);
      for (const output of m.graph.output ?? []) output.name = rename(output.name);
    }));
  }
  candidates.push(() => encode((m) => {
    m.graph.valueInfo = [];
  }));
  candidates.push(() => encode((m) => {
    m.metadataProps = [];
    delete m.docString;
    delete m.graph.docString;
    for (const node of m.graph.node ?? []) {
      delete node.docString;
      delete node.name;
    }
  }));
  for (const candidate of candidates) {
    const out = candidate();
    if (out && out.length < bytes.length) yield out;
  }
}
