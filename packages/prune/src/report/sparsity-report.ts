/**
 * What pruning left: per weight of every Conv/ConvTranspose/Gemm/MatMul, its sparsity and what it
 * costs stored densely and as an ONNX sparse initializer (COO, int64 indices) — which layers compress.
 */
import type { Model, Tensor, Value } from '@modelpass/ir';
import { isWeightWithData, PRUNABLE_OPS } from '../weights/prunable-layers.js';
import { storageBytes } from '../sparse/sparse-initializer.js';

export interface LayerSparsity {
  readonly node: string;
  readonly op: string;
  readonly weight: string;
  readonly shape: readonly number[];
  readonly elements: number;
  readonly zeros: number;
  /** zeros / elements. */
  readonly sparsity: number;
  /** Bytes of the weight stored densely. */
  readonly denseBytes: number;
  /** Bytes as an ONNX sparse initializer (values + 8-byte linear indices). */
  readonly sparseBytes: number;
  /** Whether the sparse form is smaller (above 1 − 8/(8 + element bytes) sparsity: 67% for float32). */
  readonly compresses: boolean;
  /** Whether the weight is stored as a sparse initializer now. */
  readonly storedSparse: boolean;
}

export interface SparsityReport {
  readonly layers: readonly LayerSparsity[];
  readonly elements: number;
  readonly zeros: number;
  readonly sparsity: number;
  /** Bytes of these weights as stored now (sparse ones at their sparse size). */
  readonly storedBytes: number;
  readonly denseBytes: number;
}

function describe(node: { name: string; op: string }, weight: Value): LayerSparsity | undefined {
  let dtype: Tensor['dtype'];
  let shape: readonly number[];
  let zeros: number;
  if (weight.constant) {
    const tensor = weight.constant;
    if (tensor.dtype === 'string') return undefined;
    dtype = tensor.dtype;
    shape = tensor.shape;
    zeros = 0;
    for (const chunk of tensor.elementChunks()) {
      const elements = chunk.elements as ArrayLike<number | bigint | boolean>;
      for (let i = 0; i < elements.length; i++) if (Number(elements[i]) === 0) zeros++;
    }
  } else if (weight.sparseConstant) {
    const sparse = weight.sparseConstant;
    dtype = sparse.values.dtype;
    shape = sparse.dims;
    const size = shape.reduce((n, d) => n * d, 1);
    zeros = size - sparse.values.toNumbers().filter((v) => v !== 0).length;
  } else {
    return undefined;
  }
  const elements = shape.reduce((n, d) => n * d, 1);
  const bytes = storageBytes(dtype, elements, elements - zeros);
  return {
    node: node.name,
    op: node.op,
    weight: weight.name,
    shape: [...shape],
    elements,
    zeros,
    sparsity: elements === 0 ? 0 : zeros / elements,
    denseBytes: bytes.dense,
    sparseBytes: bytes.sparse,
    compresses: bytes.sparse < bytes.dense,
    storedSparse: weight.sparseConstant !== undefined,
  };
}

/** The sparsity of every constant weight of a Conv/ConvTranspose/Gemm/MatMul node of the main graph (each weight once). */
export function sparsityReport(model: Model): SparsityReport {
  const layers: LayerSparsity[] = [];
  const seen = new Set<Value>();
  for (const node of model.graph.nodesOf(...PRUNABLE_OPS)) {
    const weight = node.inputs[1];
    if (!isWeightWithData(weight) || seen.has(weight)) continue;
    seen.add(weight);
    const row = describe(node, weight);
    if (row) layers.push(row);
  }
  const elements = layers.reduce((n, l) => n + l.elements, 0);
  const zeros = layers.reduce((n, l) => n + l.zeros, 0);
  return {
    layers,
    elements,
    zeros,
    sparsity: elements === 0 ? 0 : zeros / elements,
    storedBytes: layers.reduce((n, l) => n + (l.storedSparse ? l.sparseBytes : l.denseBytes), 0),
    denseBytes: layers.reduce((n, l) => n + l.denseBytes, 0),
  };
}

/** A plain-text table of the report (one row per weight and a total). */
export function formatSparsityReport(report: SparsityReport): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const header = ['layer', 'op', 'shape', 'sparsity', 'dense', 'sparse (COO)', 'compresses'];
  const rows = report.layers.map((l) => [
    l.node,
    l.op.replace(/^onnx\./, ''),
    `[${l.shape.join(', ')}]`,
    `${(100 * l.sparsity).toFixed(1)}%`,
    kib(l.denseBytes),
    kib(l.sparseBytes),
    l.compresses ? (l.storedSparse ? 'yes (stored sparse)' : 'yes') : 'no',
  ]);
  rows.push(['total', '', `${report.elements} weights`, `${(100 * report.sparsity).toFixed(1)}%`, kib(report.denseBytes), kib(report.storedBytes) + ' stored', '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
