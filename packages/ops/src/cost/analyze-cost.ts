/**
 * FLOPs, MACs and parameter counts of a model, per node and in total, from static shapes.
 *
 * Shapes come from `inferShapes` run over the model with every symbolic or unknown dim of the graph
 * inputs fixed (to 1 unless `dims` says otherwise; the result lists each assumption). The model is
 * left exactly as it was: the value types inference refines are put back afterwards. Nodes whose op
 * has no cost rule, or whose shapes stay unknown, are listed as uncounted with the reason; nodes in
 * subgraphs (If/Loop bodies) are counted once.
 */
import { formatType, ModelpassError, type Graph, type Model, type Node, type OpRegistry, type Type, type Value } from '@modelpass/ir';
import { parameterCount } from '../contrib/packed-weights.js';
import { inferShapes } from '../interpreter/infer-shapes.js';
import { createCostRules, type CostContext, type CostRules } from './cost-rules.js';

export interface AnalyzeCostOptions {
  readonly registry?: OpRegistry;
  readonly rules?: CostRules;
  /** Sizes for symbolic dims by name (`{ N: 8 }`); every other symbolic or unknown dim counts as 1. */
  readonly dims?: Readonly<Record<string, number>>;
}

export interface LayerCost {
  readonly node: string;
  readonly op: string;
  readonly macs: number;
  readonly flops: number;
  /**
   * Elements of the constant operands (weights, biases, BN statistics) this node reads, also through
   * a DequantizeLinear of constants (a QDQ weight counts for the Conv/Gemm that reads it; the
   * DequantizeLinear itself gets 0).
   */
  readonly parameters: number;
}

export interface UncountedNode {
  readonly node: string;
  readonly op: string;
  readonly reason: string;
}

export interface ModelCost {
  /** Every counted node, in graph order (subgraph nodes after their holder). */
  readonly layers: readonly LayerCost[];
  readonly macs: number;
  readonly flops: number;
  /** Elements of the distinct constants nodes read (a weight shared by two nodes counts once). */
  readonly parameters: number;
  readonly uncounted: readonly UncountedNode[];
  /** Dims that were assumed (`input 'x' dim 0 'N' = 1`). */
  readonly assumptions: readonly string[];
  /**
   * With assumed dims only: the first node of the main graph whose inputs have no zero-sized dim and that computes an
   * empty output (a 7×7 Conv over an assumed 1×1 image gives [1,96,0,0]) — the assumed sizes are too small, and the
   * totals (0 from there on) say nothing about the model.
   */
  readonly emptiedAt?: EmptiedNode;
}

export interface EmptiedNode {
  readonly node: string;
  readonly op: string;
  /** The empty output's type as text (`float32[1,96,0,0]`). */
  readonly output: string;
}

function* graphsOf(graph: Graph): IterableIterator<Graph> {
  yield graph;
  for (const node of graph.allNodes()) yield* node.subgraphs;
}

const hasZeroDim = (type: Type | undefined): boolean => type?.kind === 'tensor' && !!type.shape && type.shape.some((d) => d === 0);

/** `node` as an `EmptiedNode` when it computes an empty output from inputs that are not empty. */
function emptiedBy(node: Node): EmptiedNode | undefined {
  if (node.inputs.some((input) => hasZeroDim(input?.type))) return undefined;
  const empty = node.outputs.find((output) => hasZeroDim(output?.type));
  return empty ? { node: node.name, op: node.op, output: formatType(empty.type) } : undefined;
}

function staticShape(type: Type | undefined): readonly number[] | undefined {
  if (!type || type.kind !== 'tensor' || !type.shape) return undefined;
  return type.shape.every((d): d is number => typeof d === 'number') ? (type.shape as number[]) : undefined;
}


/** A DequantizeLinear whose input is a constant: a QDQ weight or bias, stored quantized. */
function isConstantDequantize(node: Node): boolean {
  return node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.isConstant === true;
}

/**
 * The constants a node's parameters count: its own constant inputs, and the constant inputs of each
 * DequantizeLinear of constants it reads (none for that DequantizeLinear itself).
 */
function parameterConstants(node: Node): Value[] {
  if (isConstantDequantize(node)) return [];
  const constants: Value[] = [];
  for (const input of node.inputs) {
    if (!input) continue;
    const producer = input.producer;
    if (input.isConstant) constants.push(input);
    else if (producer && isConstantDequantize(producer)) for (const operand of producer.inputs) if (operand?.isConstant) constants.push(operand);
  }
  return constants;
}

/** Every value's type, to put back after inference. */
function snapshotTypes(model: Model): Map<Value, Type> {
  const types = new Map<Value, Type>();
  for (const graph of graphsOf(model.graph)) {
    for (const value of graph.inputs) types.set(value, value.type);
    for (const node of graph.nodes()) for (const value of node.outputs) if (value) types.set(value, value.type);
  }
  return types;
}

/**
 * Fixes every symbolic or unknown dim of the graph inputs (to `dims[name]`, else 1) and the same
 * symbols wherever a type declares them: graph outputs (whose declared types inference does not
 * overwrite) and intermediate values (a pass leaves `[N,16,28,28]` declared; inference only fills
 * unknown dims, so the symbol would stay and the layer go uncounted).
 */
function fixDims(model: Model, dims: Readonly<Record<string, number>>, assumptions: string[]): void {
  const chosen = new Map<string, number>();
  for (const input of model.graph.inputs) {
    const type = input.type;
    if (input.constant || type.kind !== 'tensor' || !type.shape) continue;
    if (type.shape.every((d) => typeof d === 'number')) continue;
    const shape = type.shape.map((dim, axis) => {
      if (typeof dim === 'number') return dim;
      const given = typeof dim === 'string' ? dims[dim] : undefined;
      const size = given ?? 1;
      if (typeof dim === 'string') chosen.set(dim, size);
      if (given === undefined) assumptions.push(`input '${input.name}' dim ${axis}${dim === null ? '' : ` '${dim}'`} = 1`);
      return size;
    });
    input.type = { ...type, shape };
  }
  const sizeOf = (symbol: string): number | undefined => chosen.get(symbol) ?? dims[symbol];
  const fix = (value: Value): void => {
    const type = value.type;
    if (value.isGraphInput || value.constant || type.kind !== 'tensor' || !type.shape) return;
    if (!type.shape.some((d) => typeof d === 'string' && sizeOf(d) !== undefined)) return;
    value.type = { ...type, shape: type.shape.map((d) => (typeof d === 'string' ? (sizeOf(d) ?? d) : d)) };
  };
  for (const output of model.graph.outputs) fix(output);
  for (const graph of graphsOf(model.graph)) for (const node of graph.nodes()) for (const value of node.outputs) if (value) fix(value);
}

function costOf(node: Node, rules: CostRules): { cost?: { macs: number; flops: number }; reason?: string } {
  const rule = rules.get(node.op);
  if (!rule) return { reason: 'no cost rule for this op' };
  const context: CostContext = {
    node,
    inputShape: (index) => staticShape(node.inputs[index]?.type),
    outputShape: (index) => staticShape(node.outputs[index]?.type),
    inputType: (index) => node.inputs[index]?.type,
  };
  const result = rule(context);
  return typeof result === 'string' ? { reason: result } : { cost: result };
}

/** The cost of every node and of the whole model; the model is not changed. */
export function analyzeCost(model: Model, options: AnalyzeCostOptions = {}): ModelCost {
  const rules = options.rules ?? createCostRules();
  for (const [name, size] of Object.entries(options.dims ?? {})) {
    if (!Number.isInteger(size) || size < 1) {
      throw new ModelpassError({ reason: `dim '${name}' must be a positive integer`, actual: String(size), source: '@modelpass/ops' });
    }
  }
  const saved = snapshotTypes(model);
  const assumptions: string[] = [];
  const layers: LayerCost[] = [];
  const uncounted: UncountedNode[] = [];
  const seenConstants = new Set<Value>();
  let parameters = 0;
  let macs = 0;
  let flops = 0;
  let emptiedAt: EmptiedNode | undefined;
  try {
    fixDims(model, options.dims ?? {}, assumptions);
    inferShapes(model, options.registry ? { registry: options.registry } : {});
    for (const graph of graphsOf(model.graph)) {
      for (const node of graph.nodes()) {
        if (!emptiedAt && assumptions.length > 0 && graph === model.graph) emptiedAt = emptiedBy(node);
        let nodeParameters = 0;
        for (const input of parameterConstants(node)) {
          const elements = parameterCount(input);
          nodeParameters += elements;
          if (!seenConstants.has(input)) {
            seenConstants.add(input);
            parameters += elements;
          }
        }
        const { cost, reason } = costOf(node, rules);
        if (!cost) {
          uncounted.push({ node: node.name, op: node.op, reason: reason! });
          continue;
        }
        layers.push({ node: node.name, op: node.op, macs: cost.macs, flops: cost.flops, parameters: nodeParameters });
        macs += cost.macs;
        flops += cost.flops;
      }
    }
  } finally {
    for (const [value, type] of saved) value.type = type;
  }
  return { layers, macs, flops, parameters, uncounted, assumptions, ...(emptiedAt ? { emptiedAt } : {}) };
}
