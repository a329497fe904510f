/**
 * An If branch reading an outer value that the main graph defines after the If (nodes out of topological order)
 * was reported as "input #1 'late' is not defined in this graph or an enclosing one" — though it is, later. The
 * verifier now names the value, the node holding the subgraph and the node defining the value, and says it comes later.
 */
import { describe, expect, it } from 'vitest';
import { verifyModel } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import type { onnx as OnnxTypes } from '../generated/onnx-types.js';
import { FLOAT, modelBytes, tensorInfo } from './helpers.js';

const TRUE = { op_type: 'Constant', name: 'cond', output: ['c'], attribute: [{ name: 'value', type: 4, t: { data_type: 9, dims: [], int32_data: [1] } }] };

/** y = If(c) { x + read } else { x + read }, with `nodes` placed after the If. */
function ifReading(read: string, after: OnnxTypes.NodeProto.$Properties[]): Uint8Array {
  const branch = (name: string): OnnxTypes.GraphProto.$Properties => ({
    name,
    node: [{ op_type: 'Add', name: `${name}_add`, input: ['x', read], output: [`${name}_out`] }],
    output: [tensorInfo(`${name}_out`, FLOAT, [2])],
  });
  return modelBytes({
    ir_version: 8,
    opset_import: [{ domain: '', version: 15 }],
    graph: {
      name: 'main',
      node: [TRUE, { op_type: 'If', name: 'choose', input: ['c'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g: branch('then') }, { name: 'else_branch', type: 5, g: branch('else') }] }, ...after],
      input: [tensorInfo('x', FLOAT, [2])],
      output: [tensorInfo('y', FLOAT, [2])],
    },
  });
}

const errorsOf = (bytes: Uint8Array) => verifyModel(decodeOnnx(bytes)).filter((d) => d.severity === 'error');

describe('a subgraph reading an outer value', () => {
  it('defined after the node holding the subgraph: names the value, both nodes, and says it is defined later', () => {
    const errors = errorsOf(ifReading('late', [{ op_type: 'Relu', name: 'make_late', input: ['x'], output: ['late'] }]));
    expect(errors.map((d) => d.location?.node)).toEqual(['then_add', 'else_add']);
    expect(errors[0]).toMatchObject({ code: 'verify/undefined-value', location: { path: 'main/choose.then_branch/then_add' } });
    expect(errors[0]!.reason).toBe(
      "input #1 'late' is a value of the enclosing graph 'main' that is defined later than the node holding this subgraph: onnx.If 'choose' comes before onnx.Relu 'make_late', which defines 'late' (nodes of 'main' are out of topological order)",
    );
    expect(errors[0]!.hint).toBe("move onnx.Relu 'make_late' (and what it reads) before onnx.If 'choose': a subgraph reads the outer values defined before its node");
  });

  it('defined before the node holding the subgraph: valid; the holding node\'s own output: named as such', () => {
    const bytes = modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 15 }],
      graph: {
        name: 'main',
        node: [
          { op_type: 'Relu', name: 'make_early', input: ['x'], output: ['early'] },
          TRUE,
          {
            op_type: 'If',
            name: 'choose',
            input: ['c'],
            output: ['y'],
            attribute: ['then', 'else'].map((name) => ({
              name: `${name}_branch`,
              type: 5,
              g: { name, node: [{ op_type: 'Add', input: ['x', 'early'], output: [`${name}_out`] }], output: [tensorInfo(`${name}_out`, FLOAT, [2])] },
            })),
          },
        ],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
      },
    });
    expect(errorsOf(bytes)).toEqual([]);

    // A pass rewiring the branch to the If's own output (the importer refuses that file as a cycle).
    const model = decodeOnnx(bytes);
    const choose = model.graph.nodeList().find((n) => n.name === 'choose')!;
    choose.subgraphs[0]!.nodeList()[0]!.setInput(1, choose.output());
    const [own] = verifyModel(model).filter((d) => d.severity === 'error');
    expect(own!.reason).toBe("input #1 'y' is an output of onnx.If 'choose', the node holding this subgraph: its subgraphs run before it has outputs");
  });
});
