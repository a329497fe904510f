import type { Dim, Graph, Model, Tensor, Type } from '@modelpass/ir';

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
  /** Elements in all constants: initializers and `Constant` nodes' tensors. */
  parameters: number;
  /** Bytes of all constants. */
  bytes: number;
  bytesByDtype: Record<string, number>;
  subgraphs: number;
  functions: number;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
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
  const countTensor = (tensor: Tensor) => {
    parameters += tensor.size;
    const size = tensor.dtype === 'string' ? (tensor.strings ?? []).reduce((n, s) => n + Buffer.byteLength(s), 0) : tensor.byteLength;
    bytes += size;
    bytesByDtype[tensor.dtype] = (bytesByDtype[tensor.dtype] ?? 0) + size;
  };
  const countConstants = (graph: Graph) => {
    for (const value of graph.constants) if (value.constant) countTensor(value.constant);
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
    bytesByDtype,
    subgraphs,
    functions: model.functions.length,
    inputs: model.graph.inputs.filter((v) => v.constant === undefined).map((v) => summarizeType(v.name, v.type)),
    outputs: model.graph.outputs.map((v) => summarizeType(v.name, v.type)),
  };
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
  lines.push('inputs:');
  for (const v of summary.inputs) lines.push(`  ${formatShape(v)}`);
  lines.push('outputs:');
  for (const v of summary.outputs) lines.push(`  ${formatShape(v)}`);
  lines.push('ops:');
  const width = Math.max(0, ...Object.keys(summary.ops).map((k) => k.length));
  for (const [op, count] of Object.entries(summary.ops)) lines.push(`  ${op.padEnd(width)}  ${count}`);
  return lines.join('\n');
}
