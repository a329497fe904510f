// readOnnx builds a node's error location (file, node, op, path) only when it reports an error: building one per
// node cost ~18% of a read (s18). These pin the locations each refusal names, and that a clean read builds none.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Graph, ModelpassError, type Location } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import type { OnnxTypes } from '../proto.js';
import { FLOAT, modelBytes, tensorInfo } from './helpers.js';

const INT = 2;
const GRAPH = 5;
const TENSOR = 4;

/** main: y = If(c) { then: t = Relu(x) ; else: e = Neg(x) }, then z = Mul(y, y) with an ints attribute. */
function ifModel(edit: (graph: OnnxTypes.GraphProto.$Properties) => void = () => {}): Uint8Array {
  const branch = (name: string, op: string, output: string): OnnxTypes.GraphProto.$Properties => ({
    name,
    node: [{ op_type: op, name: `${name}_node`, input: ['x'], output: [output] }],
    output: [tensorInfo(output, FLOAT, [3])],
  });
  const graph: OnnxTypes.GraphProto.$Properties = {
    name: 'main',
    node: [
      {
        op_type: 'If',
        name: 'choose',
        input: ['c'],
        output: ['y'],
        attribute: [
          { name: 'then_branch', type: GRAPH, g: branch('then', 'Relu', 't') },
          { name: 'else_branch', type: GRAPH, g: branch('else', 'Neg', 'e') },
        ],
      },
      { op_type: 'Mul', name: 'square', input: ['y', 'y'], output: ['z'] },
      { op_type: 'Constant', name: 'k', output: ['kv'], attribute: [{ name: 'value', type: TENSOR, t: { data_type: FLOAT, dims: [1], float_data: [2] } }] },
    ],
    input: [tensorInfo('c', 9, []), tensorInfo('x', FLOAT, [3])],
    output: [tensorInfo('z', FLOAT, [3])],
  };
  edit(graph);
  return modelBytes({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph });
}

function refusal(bytes: Uint8Array): { message: string; location: Location | undefined } {
  try {
    decodeOnnx(bytes, { file: 'located.onnx' });
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return { message: (error as ModelpassError).message, location: (error as ModelpassError).diagnostics[0]!.location };
  }
  throw new Error('the model was read without an error');
}

describe('node locations on the ONNX read path', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are not built for a model read without an error', () => {
    const pathTo = vi.spyOn(Graph.prototype, 'pathTo');
    const model = decodeOnnx(ifModel(), { file: 'located.onnx' });
    expect([...model.graph.allNodes()].length).toBe(5);
    expect(pathTo).not.toHaveBeenCalled();
  });

  it('name the file, node, op and path of an undefined input, in a subgraph too', () => {
    const top = refusal(ifModel((g) => (g.node![1]!.input = ['y', 'nowhere'])));
    expect(top.message).toContain("input 'nowhere' of node 'square' is not defined in this graph or an enclosing one");
    expect(top.location).toEqual({ file: 'located.onnx', node: 'square', op: 'onnx.Mul', path: 'main/square' });
    const nested = refusal(ifModel((g) => (g.node![0]!.attribute![1]!.g!.node![0]!.input = ['missing'])));
    expect(nested.location).toEqual({ file: 'located.onnx', node: 'else_node', op: 'onnx.Neg', path: 'main/choose.else_branch/else_node' });
  });

  it('name the node of an attribute given twice, without a type, or holding a bad tensor', () => {
    const twice = refusal(ifModel((g) => (g.node![1]!.attribute = [{ name: 'a', type: INT, i: 1 }, { name: 'a', type: INT, i: 2 }])));
    expect(twice.message).toContain("attribute 'a' of node 'square' appears more than once");
    expect(twice.location).toEqual({ file: 'located.onnx', node: 'square', op: 'onnx.Mul', path: 'main/square' });
    const unknown = refusal(ifModel((g) => (g.node![1]!.attribute = [{ name: 'a' }])));
    expect(unknown.message).toContain("attribute 'a' has neither a type nor a value");
    expect(unknown.location).toEqual({ file: 'located.onnx', node: 'square', op: 'onnx.Mul', path: 'main/square' });
    const badTensor = refusal(ifModel((g) => (g.node![2]!.attribute![0]!.t!.data_type = 77)));
    expect(badTensor.location).toMatchObject({ file: 'located.onnx', node: 'k', op: 'onnx.Constant', path: 'main/k' });
  });

  it('name the node that defines a value twice, with its graph path', () => {
    const twice = refusal(ifModel((g) => (g.node![1]!.output = ['x'])));
    expect(twice.message).toContain("value 'x' is defined more than once");
    expect(twice.location).toEqual({ file: 'located.onnx', node: 'square', op: 'onnx.Mul', path: 'main' });
  });
});
