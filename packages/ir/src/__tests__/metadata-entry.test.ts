import { describe, expect, it } from 'vitest';
import { Graph, tensorType } from '@modelpass/ir';

describe('metadataEntry', () => {
  it('reads one entry of a value or node without creating its metadata map', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [2]));
    const node = graph.createNode({ op: 'onnx.Relu', inputs: [x], outputs: [{ name: 'y', type: tensorType('float32', [2]) }] });
    const y = node.output(0);
    expect(y.metadataEntry('k')).toBeUndefined();
    expect(node.metadataEntry('k')).toBeUndefined();
    expect(y._metadata).toBeUndefined();
    expect(node._metadata).toBeUndefined();
    y.metadata.set('k', 'v');
    node.metadata.set('k', 'w');
    expect(y.metadataEntry('k')).toBe('v');
    expect(node.metadataEntry('k')).toBe('w');
    expect(x.metadataEntry('k')).toBeUndefined();
  });
});
