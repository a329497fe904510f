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
  /**
   * Per node, in order: its operator code's index, its input count, each input's tensor index (-1 for an
   * absent optional one), its output count, each output's tensor index. One flat list the builder reads
   * with a cursor, instead of a Map look-up per operand and per node there.
   */
  readonly operators: number[];
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
  // Builtin codes by builtin and version (no key string per node); custom ones by a key with their custom code.
  const builtinCodes = new Map<string, number[]>();
  const customCodes = new Map<string, number>();
  const codeOf = (builtin: string, customCode: string | undefined, version: number): number => {
    let byVersion: number[] | undefined;
    let code: number | undefined;
    if (customCode === undefined) {
      byVersion = builtinCodes.get(builtin);
      if (byVersion === undefined) builtinCodes.set(builtin, (byVersion = []));
      code = byVersion[version];
    } else code = customCodes.get(`${customCode}\u0000${version}`);
    if (code === undefined) {
      code = operatorCodes.length;
      operatorCodes.push({ builtin, customCode, version });
      if (byVersion !== undefined) byVersion[version] = code;
      else customCodes.set(`${customCode}\u0000${version}`, code);
    }
    return code;
  };

  const subgraphs = graphs.map((graph): SubgraphPlan => {
    const tensors: TensorPlan[] = [];
    const indexOf = new Map<Value, number>();
    const operators: number[] = [];
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
      const builtin = operatorWriting(node.op).builtin;
      const customCode = builtin === 'CUSTOM' ? (node.attr('custom_code', 'string') as string) : undefined;
      operators.push(codeOf(builtin, customCode, operatorVersion(builtin, node)));
      const inputs = node.inputs;
      operators.push(inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        operators.push(input ? add(input) : -1);
      }
      const outputs = node.outputs;
      operators.push(outputs.length);
      for (let i = 0; i < outputs.length; i++) {
        const output = outputs[i];
        operators.push(output ? add(output) : -1);
      }
    }
    for (const output of graph.outputs) add(output);
    return { graph, tensors, indexOf, operators };
  });
  const subgraphIndexOf = (node: Node, attribute: string): number => subgraphIndex.get(node.attr(attribute, 'graph'))!;
  return { subgraphs, subgraphIndex, subgraphIndexOf, buffers, operatorCodes, bufferBytes };
}
