/**
 * `describeModel(model)`: what a model weighs and costs, for the report's `models.before/after`:
 * constant bytes (total, by dtype, by the op reading them), parameters, nodes by op, FLOPs and MACs
 * (from `@modelpass/ops`' `analyzeCost`; see README "FLOPs counting"), graph signature and opsets.
 * No tensor data is loaded: sizes come from dtypes and shapes.
 */
import { formatType, type Graph, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';
import { analyzeCost, packedWeightsOf, type ModelCost } from '@modelpass/ops';
import type { ModelSummary } from './schema.js';

export interface DescribeModelOptions {
  /** Sizes for symbolic dims when counting FLOPs (`{ N: 8 }`); other unknown dims count as 1. */
  readonly dims?: Readonly<Record<string, number>>;
  readonly path?: string;
  readonly fileBytes?: number;
}

/** The op name a report uses: the ONNX op type (`Conv`), other dialects with their prefix (`tflite.CONV_2D`). */
export function reportOpName(node: Node): string {
  return node.dialect === 'onnx' ? node.opType : node.op;
}

const utf8 = new TextEncoder();

function tensorBytes(tensor: Tensor): number {
  if (tensor.dtype === 'string') return (tensor.strings ?? []).reduce((sum, text) => sum + utf8.encode(text).length, 0);
  return tensor.byteLength;
}

function add(map: Record<string, number>, key: string, amount: number): void {
  map[key] = (map[key] ?? 0) + amount;
}

/** Tensors a value holds: its initializer, or a sparse initializer's values and indices. */
function valueTensors(value: Value): Tensor[] {
  if (value.constant) return [value.constant];
  if (value.sparseConstant) return [value.sparseConstant.values, value.sparseConstant.indices];
  return [];
}

/** The op type of the first node reading `value` (through Identity/Constant chains not followed). */
function firstReaderOp(value: Value): string {
  const reader = value.users[0];
  return reader ? reportOpName(reader) : 'unused';
}

function safeCost(model: Model, dims: Readonly<Record<string, number>> | undefined): ModelCost | string {
  try {
    return analyzeCost(model, dims ? { dims } : {});
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function describeModel(model: Model, options: DescribeModelOptions = {}): ModelSummary {
  let bytes = 0;
  let parameters = 0;
  let nodes = 0;
  const bytesByDtype: Record<string, number> = {};
  const bytesByOp: Record<string, number> = {};
  const nodesByOp: Record<string, number> = {};
  const addTensor = (tensor: Tensor, op: string, elements = tensor.size): void => {
    const size = tensorBytes(tensor);
    bytes += size;
    parameters += elements;
    add(bytesByDtype, tensor.dtype, size);
    add(bytesByOp, op, size);
  };
  const visit = (graph: Graph): void => {
    for (const value of graph.constants) {
      const tensors = valueTensors(value);
      // Weights stored packed (MatMulNBits, GatherBlockQuantized) count as the weights they stand for.
      tensors.forEach((tensor, i) => addTensor(tensor, firstReaderOp(value), i === 0 ? (packedWeightsOf(value)?.weights ?? tensor.size) : 0));
    }
    for (const node of graph.nodes()) {
      nodes++;
      add(nodesByOp, reportOpName(node), 1);
      if (node.op === 'onnx.Constant') {
        const attribute = node.getAttribute('value');
        const output = node.outputs[0];
        if (attribute?.kind === 'tensor') addTensor(attribute.value, output ? firstReaderOp(output) : 'unused');
      }
      for (const subgraph of node.subgraphs) visit(subgraph);
    }
  };
  visit(model.graph);

  const cost = safeCost(model, options.dims);
  const flopsByOp: Record<string, number> = {};
  let flops = 0;
  let macs = 0;
  let flopsUncounted = nodes;
  let flopsAssumptions: string[] = typeof cost === 'string' ? [`FLOPs not counted: ${cost}`] : [];
  if (typeof cost !== 'string') {
    for (const layer of cost.layers) add(flopsByOp, layer.op.startsWith('onnx.') ? layer.op.slice(5) : layer.op, layer.flops);
    flops = cost.flops;
    macs = cost.macs;
    flopsUncounted = cost.uncounted.length;
    flopsAssumptions = [...cost.assumptions];
  }
  const signature = (value: Value) => ({ name: value.name, type: formatType(value.type) });
  return {
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.fileBytes !== undefined ? { fileBytes: options.fileBytes } : {}),
    bytes,
    bytesByDtype,
    bytesByOp,
    parameters,
    nodes,
    nodesByOp,
    flops,
    macs,
    flopsByOp,
    flopsUncounted,
    flopsAssumptions,
    graphInputs: model.graph.inputs.filter((value) => !value.isConstant).map(signature),
    graphOutputs: model.graph.outputs.map(signature),
    opsets: Object.fromEntries(model.opsetImports),
  };
}
