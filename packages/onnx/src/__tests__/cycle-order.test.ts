// The reader's cycle check takes a fast path when the nodes are listed in data-flow order (as ONNX requires and
// exporters write); a list out of that order must still be read when it has no cycle, and refused when it has one.
import { describe, expect, it } from 'vitest';
import { decodeOnnx } from '@modelpass/onnx';
import type { OnnxTypes } from '../proto.js';
import { FLOAT, modelBytes, tensorInfo } from './helpers.js';

function model(nodes: OnnxTypes.NodeProto.$Properties[]): Uint8Array {
  return modelBytes({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'g', node: nodes, input: [tensorInfo('x', FLOAT, [1])], output: [tensorInfo('z', FLOAT, [1])] },
  });
}

const relu = (name: string, input: string, output: string) => ({ op_type: 'Relu', name, input: [input], output: [output] });

describe('cycle check and node order', () => {
  it('reads an acyclic graph whose nodes are listed out of data-flow order, keeping their order', () => {
    const read = decodeOnnx(model([relu('last', 'y', 'z'), relu('middle', 'a', 'y'), relu('first', 'x', 'a')]));
    expect([...read.graph.nodes()].map((node) => node.name)).toEqual(['last', 'middle', 'first']);
  });

  it('refuses a node that reads its own output, and a cycle listed after nodes in order', () => {
    expect(() => decodeOnnx(model([relu('self', 'z', 'z')]))).toThrow(/graph 'g' has a cycle: 'self' \(onnx\.Relu\) → 'self'/);
    expect(() => decodeOnnx(model([relu('ok', 'x', 'a'), relu('p', 'q_out', 'p_out'), relu('q', 'p_out', 'q_out'), relu('out', 'a', 'z')]))).toThrow(/has a cycle: '(p|q)' .* → '(p|q)' .* → '(p|q)'/);
  });
});
