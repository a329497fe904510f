import { ModelpassError, type Dim, type Graph, type Model, type SparseTensor, type Tensor, type Type } from '@modelpass/ir';
import { analyzeCost, createOpRegistry, packedWeightsOf, type LayerCost, type UncountedNode } from '@modelpass/ops';
import { registerTfliteDialect } from '@modelpass/tflite';

export interface ValueSummary {
  name: string;
  dtype: string | null;
  shape: Dim[] | null;
}

/** What `modelpass inspect --json` prints. */
export interface ModelSummary {
  format: string;
  file: string | undefined;
  irVersion: number | undefined;
  producer: string | undefined;
  opsets: Record<string, number>;
  /** Nodes in the main graph and all subgraphs. */
  nodes: number;
  /** Node count per op type (`Conv`; other dialects keep their prefix: `com.microsoft.FusedConv`). */
  ops: Record<string, number>;
  /**
   * Elements in all constants: initializers (a sparse one by its dense shape) and `Constant` nodes' tensors; a packed
   * sub-byte weight (MatMulNBits' B, GatherBlockQuantized's uint8 table) by the weights it holds, as `@modelpass/report` counts.
   */
  parameters: number;
  /** Packed sub-byte weights per bit width (`"4"`): how many constants, the weights they hold, the bytes that store them. */
  packed?: Record<string, { constants: number; weights: number; bytes: number }>;
  /** Bytes of all constants as stored (a sparse initializer's values and indices). */
  bytes: number;
  /** Sparse initializers (ONNX `sparse_initializer`): how many, their dense elements, and the values they store. */
  sparse?: { initializers: number; elements: number; stored: number };
  bytesByDtype: Record<string, number>;
  subgraphs: number;
  functions: number;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** FLOPs of one run (`analyzeCost` from @modelpass/ops; symbolic dims taken as 1, see `costAssumptions`); null when shapes cannot be inferred. */
  flops: number | null;
  /** Multiply-accumulates of one run (a MAC is 2 FLOPs). */
  macs: number | null;
  /** Per counted node: op, MACs, FLOPs, parameters (constant elements it reads). */
  layers: LayerCost[];
  /** Nodes without a cost rule or static shapes, with the reason. */
  uncounted: UncountedNode[];
  /** Dims the cost assumed (`input 'x' dim 0 'N' = 1`), or why there is no cost. */
  costAssumptions: string[];
}

function summarizeType(name: string, type: Type): ValueSummary {
  if (type.kind === 'tensor' || type.kind === 'sparse-tensor') return { name, dtype: type.dtype, shape: type.shape ? [...type.shape] : null };
  return { name, dtype: null, shape: null };
}

function opKey(dialect: string, opType: string): string {
  return dialect === 'onnx' ? opType : `${dialect}.${opType}`;
}

/** Counts without loading any tensor data (lazy external weights stay on disk). */
export function summarizeModel(model: Model, format: string): ModelSummary {
  const ops: Record<string, number> = {};
  const bytesByDtype: Record<string, number> = {};
  let nodes = 0;
  let parameters = 0;
  let bytes = 0;
  let subgraphs = 0;
  let packed: Record<string, { constants: number; weights: number; bytes: number }> | undefined;
  const countTensor = (tensor: Tensor, weights = tensor.size) => {
    parameters += weights;
    const size = tensor.dtype === 'string' ? (tensor.strings ?? []).reduce((n, s) => n + Buffer.byteLength(s), 0) : tensor.byteLength;
    bytes += size;
    bytesByDtype[tensor.dtype] = (bytesByDtype[tensor.dtype] ?? 0) + size;
  };
  const countPacked = (tensor: Tensor, weights: number, bits: number) => {
    countTensor(tensor, weights);
    if (bits >= 8) return;
    packed ??= {};
    const entry = (packed[String(bits)] ??= { constants: 0, weights: 0, bytes: 0 });
    entry.constants++;
    entry.weights += weights;
    entry.bytes += tensor.byteLength;
  };
  let sparse: { initializers: number; elements: number; stored: number } | undefined;
  const countSparse = (tensor: SparseTensor) => {
    const elements = tensor.dims.reduce((n, d) => n * d, 1);
    parameters += elements;
    for (const part of [tensor.values, tensor.indices]) {
      bytes += part.byteLength;
      bytesByDtype[part.dtype] = (bytesByDtype[part.dtype] ?? 0) + part.byteLength;
    }
    sparse ??= { initializers: 0, elements: 0, stored: 0 };
    sparse.initializers++;
    sparse.elements += elements;
    sparse.stored += tensor.values.size;
  };
  const countConstants = (graph: Graph) => {
    for (const value of graph.constants) {
      const weights = value.constant ? packedWeightsOf(value) : undefined;
      if (value.constant && weights) countPacked(value.constant, weights.weights, weights.bits);
      else if (value.constant) countTensor(value.constant);
      else if (value.sparseConstant) countSparse(value.sparseConstant);
    }
  };
  const visit = (graph: Graph) => {
    countConstants(graph);
    for (const node of graph.nodes()) {
      nodes++;
      // Exporters such as paddle2onnx keep weights in Constant nodes rather than initializers.
      if (node.op === 'onnx.Constant') {
        const value = node.getAttribute('value');
        if (value?.kind === 'tensor') countTensor(value.value);
      }
      const key = opKey(node.dialect, node.opType);
      ops[key] = (ops[key] ?? 0) + 1;
      for (const subgraph of node.subgraphs) {
        subgraphs++;
        visit(subgraph);
      }
    }
  };
  visit(model.graph);
  return {
    format,
    file: model.sourcePath,
    irVersion: model.irVersion,
    producer: model.producerName ? `${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''}` : undefined,
    opsets: Object.fromEntries(model.opsetImports),
    nodes,
    ops: Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameters,
    bytes,
    ...(sparse ? { sparse } : {}),
    ...(packed ? { packed } : {}),
    bytesByDtype,
    subgraphs,
    functions: model.functions.length,
    inputs: model.graph.inputs.filter((v) => v.constant === undefined).map((v) => summarizeType(v.name, v.type)),
    outputs: model.graph.outputs.map((v) => summarizeType(v.name, v.type)),
    ...summarizeCost(model),
  };
}

function summarizeCost(model: Model): Pick<ModelSummary, 'flops' | 'macs' | 'layers' | 'uncounted' | 'costAssumptions'> {
  try {
    // A .tflite's ops infer their shapes through the tflite dialect (the batch dim fixed to 1 reaches every layer).
    const cost = analyzeCost(model, model.opsetImports.has('tflite') ? { registry: registerTfliteDialect(createOpRegistry()) } : {});
    if (cost.emptiedAt) {
      // Totals of 0 past a layer the assumed sizes cannot feed describe the assumption, not the model (QA s19: squeezenet at h = w = 1).
      const { node, op, output } = cost.emptiedAt;
      const reason = `assuming ${cost.assumptions.join(', ')}, ${op.replace(/^onnx\./, '')} '${node}' computes an empty ${output}: the assumed sizes are too small for it; give the real ones with --input-shape NAME=DIMS`;
      return { flops: null, macs: null, layers: [], uncounted: [], costAssumptions: [reason] };
    }
    return { flops: cost.flops, macs: cost.macs, layers: [...cost.layers], uncounted: [...cost.uncounted], costAssumptions: [...cost.assumptions] };
  } catch (error) {
    if (!ModelpassError.is(error)) throw error;
    return { flops: null, macs: null, layers: [], uncounted: [], costAssumptions: [`no cost: ${error.message}`] };
  }
}

function formatCount(n: number): string {
  if (n < 1e3) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(2)} K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)} M`;
  return `${(n / 1e9).toFixed(2)} G`;
}

/** The cost lines of `inspect`: totals, the 20 most expensive layers, what was not counted. */
function formatCost(summary: ModelSummary): string[] {
  if (summary.flops === null) return [`flops:      unknown (${summary.costAssumptions.join('; ')})`];
  const lines = [`flops:      ${formatCount(summary.flops)} (${formatCount(summary.macs ?? 0)} MACs)${summary.costAssumptions.length ? `, assuming ${summary.costAssumptions.join(', ')}` : ''}`];
  const costly = summary.layers.filter((l) => l.flops > 0).sort((a, b) => b.flops - a.flops);
  if (costly.length > 0) {
    lines.push('layers by flops:');
    const width = Math.max(...costly.slice(0, 20).map((l) => l.node.length));
    for (const l of costly.slice(0, 20)) {
      const share = summary.flops > 0 ? ((100 * l.flops) / summary.flops).toFixed(1) : '0.0';
      lines.push(`  ${l.node.padEnd(width)}  ${l.op.replace(/^onnx\./, '').padEnd(18)} ${formatCount(l.flops).padStart(9)} flops ${share.padStart(5)}%  ${formatCount(l.parameters).padStart(8)} params`);
    }
    if (costly.length > 20) lines.push(`  … ${costly.length - 20} more`);
  }
  if (summary.uncounted.length > 0) {
    const ops = [...new Set(summary.uncounted.map((u) => u.op.replace(/^onnx\./, '')))];
    lines.push(`uncounted:  ${summary.uncounted.length} node(s) (${ops.join(', ')}): ${summary.uncounted[0]!.reason}${summary.uncounted.length > 1 ? ', …' : ''}`);
  }
  return lines;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function formatShape(v: ValueSummary): string {
  const shape = v.shape === null ? '[*]' : `[${v.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
  return `${v.name}: ${v.dtype ?? '?'}${shape}`;
}

export function formatSummary(summary: ModelSummary): string {
  const lines: string[] = [];
  lines.push(`${summary.file ?? 'model'} (${summary.format}${summary.irVersion !== undefined ? `, IR ${summary.irVersion}` : ''})`);
  if (summary.producer) lines.push(`producer:   ${summary.producer}`);
  lines.push(`opsets:     ${Object.entries(summary.opsets).map(([d, v]) => `${d} ${v}`).join(', ') || '(none)'}`);
  lines.push(`nodes:      ${summary.nodes}${summary.subgraphs ? ` (in ${summary.subgraphs + 1} graphs)` : ''}`);
  lines.push(`parameters: ${summary.parameters.toLocaleString('en-US')} (${formatBytes(summary.bytes)})`);
  for (const [dtype, n] of Object.entries(summary.bytesByDtype)) lines.push(`  ${dtype.padEnd(10)} ${formatBytes(n)}`);
  for (const [bits, { constants, weights, bytes }] of Object.entries(summary.packed ?? {})) {
    lines.push(`  ${bits}-bit packed: ${weights.toLocaleString('en-US')} weights in ${formatBytes(bytes)} (${constants} constant(s)), counted as weights above`);
  }
  if (summary.sparse) {
    const { initializers, elements, stored } = summary.sparse;
    lines.push(`  sparse     ${initializers} initializer(s) store ${stored.toLocaleString('en-US')} of ${elements.toLocaleString('en-US')} elements (${(100 * (1 - stored / Math.max(1, elements))).toFixed(1)}% zeros left out)`);
  }
  lines.push(...formatCost(summary));
  lines.push('inputs:');
  for (const v of summary.inputs) lines.push(`  ${formatShape(v)}`);
  lines.push('outputs:');
  for (const v of summary.outputs) lines.push(`  ${formatShape(v)}`);
  lines.push('ops:');
  const width = Math.max(0, ...Object.keys(summary.ops).map((k) => k.length));
  for (const [op, count] of Object.entries(summary.ops)) lines.push(`  ${op.padEnd(width)}  ${count}`);
  return lines.join('\n');
}
