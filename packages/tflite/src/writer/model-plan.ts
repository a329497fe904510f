import type { Graph, Model, Node, Tensor, TensorType, Value } from '@modelpass/ir';
import { META_VARIABLE } from '../io/metadata-keys.js';
import { tfliteError } from '../io/errors.js';
import { operatorVersion } from './operator-version.js';
import { operatorWriting } from './operator-writing.js';

/**
 * What the writer lays out before it builds the flatbuffer: subgraph indices (main first, then the
 * regions of operators in the order met, then functions), each subgraph's tensors, the buffers that
 * hold constants (buffer 0 is the empty sentinel) and the operator codes.
 */
export interface TensorPlan {
  readonly value: Value;
  readonly type: TensorType;
  readonly buffer: number;
  readonly variable: boolean;
}

export interface SubgraphPlan {
  readonly graph: Graph;
  readonly tensors: TensorPlan[];
  readonly indexOf: Map<Value, number>;
}

export interface OperatorCodePlan {
  readonly builtin: string;
  readonly customCode: string | undefined;
  readonly version: number;
}

export interface ModelPlan {
  readonly subgraphs: SubgraphPlan[];
  readonly subgraphIndex: Map<Graph, number>;
  /** The file index of the subgraph a node's `graph` attribute holds. */
  readonly subgraphIndexOf: (node: Node, attribute: string) => number;
  /** Constant tensors by buffer index (index 0 unused). */
  readonly buffers: (Tensor | undefined)[];
  readonly operatorCodes: OperatorCodePlan[];
  readonly opcodeIndex: Map<Node, number>;
  /** Bytes of constant data over all buffers. */
  readonly bufferBytes: number;
}

export function planModel(model: Model, path: string): ModelPlan {
  const graphs: Graph[] = [model.graph];
  for (let i = 0; i < graphs.length; i++) {
    for (const node of graphs[i]!.nodes()) for (const sub of node.subgraphs) graphs.push(sub);
  }
  for (const fn of model.functions) if (fn.dialect === 'tflite') graphs.push(fn.body);
  const subgraphIndex = new Map(graphs.map((graph, index) => [graph, index]));
  const buffers: (Tensor | undefined)[] = [undefined];
  const bufferOf = new Map<Tensor, number>();
  let bufferBytes = 0;
  const operatorCodes: OperatorCodePlan[] = [];
  const opcodeKeys = new Map<string, number>();
  const opcodeIndex = new Map<Node, number>();

  const subgraphs = graphs.map((graph): SubgraphPlan => {
    const tensors: TensorPlan[] = [];
    const indexOf = new Map<Value, number>();
    const add = (value: Value): number => {
      const known = indexOf.get(value);
      if (known !== undefined) return known;
      const constant = value.constant;
      if (value.graph !== graph && !constant) {
        throw tfliteError({
          reason: `cannot write '${path}' as TFLite: subgraph '${graph.name}' uses '${value.name}' of an enclosing graph; TFLite subgraphs only see their own inputs`,
          location: { file: path, ...(value.producer ? { node: value.producer.name, op: value.producer.op } : {}) },
          hint: 'pass the value into the region as an input',
        });
      }
      const variable = value.metadataEntry(META_VARIABLE) === '1';
      let buffer = 0;
      if (constant && !variable && !value.isGraphInput) {
        buffer = bufferOf.get(constant) ?? 0;
        if (buffer === 0) {
          buffer = buffers.length;
          buffers.push(constant);
          bufferOf.set(constant, buffer);
          bufferBytes += constant.storage?.byteLength ?? 0;
        }
      }
      const index = tensors.length;
      tensors.push({ value, type: value.type as TensorType, buffer, variable });
      indexOf.set(value, index);
      return index;
    };
    for (const input of graph.inputs) add(input);
    // Indexed loops on the per-node path: a for-of not yet optimized allocates an iterator and a result per step.
    for (let node = graph.firstNode; node; node = node.next) {
      const inputs = node.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        if (input) add(input);
      }
      const outputs = node.outputs;
      for (let i = 0; i < outputs.length; i++) {
        const output = outputs[i];
        if (output) add(output);
      }
      const builtin = operatorWriting(node.op).builtin;
      const customCode = builtin === 'CUSTOM' ? (node.attr('custom_code', 'string') as string) : undefined;
      const version = operatorVersion(builtin, node);
      const key = `${builtin}\u0000${customCode ?? ''}\u0000${version}`;
      let code = opcodeKeys.get(key);
      if (code === undefined) {
        code = operatorCodes.length;
        operatorCodes.push({ builtin, customCode, version });
        opcodeKeys.set(key, code);
      }
      opcodeIndex.set(node, code);
    }
    for (const output of graph.outputs) add(output);
    return { graph, tensors, indexOf };
  });
  const subgraphIndexOf = (node: Node, attribute: string): number => subgraphIndex.get(node.attr(attribute, 'graph'))!;
  return { subgraphs, subgraphIndex, subgraphIndexOf, buffers, operatorCodes, opcodeIndex, bufferBytes };
}
