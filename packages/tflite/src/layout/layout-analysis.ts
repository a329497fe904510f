import type { Graph, Model, Node, Value } from '@modelpass/ir';
import { defineAnalysis, type AnalysisDefinition } from '@modelpass/pass-manager';
import { defaultTransposeRules, type TransposeRuleRegistry, type TransposeRuleRole } from '@modelpass/transforms';

/**
 * Ops whose meaning fixes the channel axis at 1 (NCHW): where a channels-first layout comes from.
 * Converting to NHWC wraps each in transposes.
 */
export const CHANNELS_FIRST_OPS: ReadonlySet<string> = new Set(
  [
    'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'BatchNormalization',
    'InstanceNormalization', 'LRN', 'DepthToSpace', 'SpaceToDepth', 'Resize', 'Upsample', 'MaxUnpool', 'RoiAlign', 'GridSample',
  ].map((op) => `onnx.${op}`),
);

/** Readers that take a channels-first value without a transpose because the transpose folds into their weights. */
const ABSORBING_OPS: ReadonlySet<string> = new Set(['onnx.Flatten', 'onnx.Reshape']);

export interface LayoutStop {
  /** The channels-first value. */
  readonly value: Value;
  /** The op that cannot take it in another layout (Reshape, MatMul, an op without a transpose rule). */
  readonly node: Node;
}

/** Where NCHW comes from, which ops carry it, which renumber an axis, which stop it, and what it costs. */
export interface LayoutAnalysis {
  /** Values in a channels-first layout (sources' data operands and results, and everything carriers connect them to). */
  readonly channelsFirst: ReadonlySet<Value>;
  /** Layout-sensitive ops (Conv, pools, …): each becomes an NHWC op. */
  readonly sources: readonly Node[];
  /** Ops a transpose passes through, with their role (elementwise, broadcast, axis, reduce; never 'rows', see below). */
  readonly carriers: ReadonlyMap<Node, TransposeRuleRole>;
  /** Carriers that renumber an axis attribute or operand (Concat, Softmax, Reduce*, Split, Slice, Pad…). */
  readonly axisFixers: readonly Node[];
  /** Where a channels-first value meets an op that cannot take it transposed: one Transpose each. */
  readonly stops: readonly LayoutStop[];
  /** Flatten/Reshape readers that may absorb the transpose into the next Gemm/MatMul's weights. */
  readonly absorbers: readonly Node[];
  /** Graph inputs and outputs in the channels-first layout: one Transpose each, unless declared NHWC (io-layout=nhwc). */
  readonly boundaryInputs: readonly Value[];
  readonly boundaryOutputs: readonly Value[];
  /** The cost model: transposes expected inside the graph and at its edges after conversion. */
  readonly estimate: { readonly inner: number; readonly boundary: number };
}

/** `defaultTransposeRules()` built once for the default argument (the analysis only reads it). */
let builtinTransposeRules: TransposeRuleRegistry | undefined;

/**
 * The layout analysis: a flood fill from the layout-sensitive ops over the values that transposes
 * can move through (the transpose rules of `@modelpass/transforms` say which ops carry a layout).
 */

export function analyzeLayout(model: Model, rules: TransposeRuleRegistry = (builtinTransposeRules ??= defaultTransposeRules())): LayoutAnalysis {
  const graph: Graph = model.graph;
  const channelsFirst = new Set<Value>();
  const sources: Node[] = [];
  const carriers = new Map<Node, TransposeRuleRole>();
  const stops: LayoutStop[] = [];
  const absorbers = new Set<Node>();
  const queue: Value[] = [];
  const mark = (value: Value | null | undefined): void => {
    if (!value || channelsFirst.has(value) || value.isConstant) return;
    if (value.type.kind === 'tensor' && value.type.shape !== null && value.type.shape.length < 3) return;
    channelsFirst.add(value);
    queue.push(value);
  };
  for (const node of graph.nodes()) {
    if (!CHANNELS_FIRST_OPS.has(node.op)) continue;
    sources.push(node);
    mark(node.inputs[0]);
    for (const output of node.outputs) mark(output);
  }
  const visitCarrier = (node: Node): boolean => {
    const rule = rules.get(node.op);
    // A 'rows' op (MatMul by a constant matrix) passes permutations that keep the last axis; channels-first →
    // channels-last moves it, so for this analysis such an op stops the layout.
    if (!rule || rule.role === 'rows') return false;
    carriers.set(node, rule.role);
    const layoutInputs = rule.role === 'broadcast' || node.op === 'onnx.Concat' ? node.inputs.map((_, i) => i) : [0];
    for (const index of layoutInputs) mark(node.inputs[index]);
    if (rule.role !== 'reduce') for (const output of node.outputs) mark(output);
    return true;
  };
  while (queue.length > 0) {
    const value = queue.pop()!;
    const producer = value.producer;
    if (producer && !CHANNELS_FIRST_OPS.has(producer.op) && !carriers.has(producer) && !visitCarrier(producer)) stops.push({ value, node: producer });
    for (const user of value.users) {
      if (CHANNELS_FIRST_OPS.has(user.op) || carriers.has(user)) continue;
      if (visitCarrier(user)) continue;
      if (ABSORBING_OPS.has(user.op)) absorbers.add(user);
      else stops.push({ value, node: user });
    }
  }
  const boundaryInputs = graph.inputs.filter((input) => channelsFirst.has(input));
  const boundaryOutputs = graph.outputs.filter((output) => channelsFirst.has(output));
  const axisFixers = [...carriers].filter(([, role]) => role === 'axis' || role === 'reduce').map(([node]) => node);
  return {
    channelsFirst,
    sources,
    carriers,
    axisFixers,
    stops,
    absorbers: [...absorbers],
    boundaryInputs,
    boundaryOutputs,
    estimate: { inner: stops.length, boundary: boundaryInputs.length + boundaryOutputs.length },
  };
}

/** `layout`: the layout analysis as a cached analysis of the pass manager. */
export const layoutAnalysis: AnalysisDefinition<LayoutAnalysis> = defineAnalysis({ name: 'layout', compute: (model) => analyzeLayout(model) });
