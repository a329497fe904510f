import { describe, expect, it } from 'vitest';
import { Graph, Tensor } from '@modelpass/ir';

const scalar = (v: number): Tensor => Tensor.fromValues('float32', [], [v]);

describe('Graph constants: removal keeps the order of the rest', () => {
  it('lists constants in the order they were added, without the removed ones, also after re-adding one', () => {
    const graph = new Graph();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name, i) => graph.addConstant(name, scalar(i)));
    graph.removeConstant(b!);
    graph.removeConstant(b!); // a second removal does nothing
    const e = graph.addConstant('e', scalar(4));
    expect(b!.constant).toBeUndefined();
    // Marked a constant again before the list is read: once, at the end (its old place is gone).
    graph.markConstant(b!, scalar(9));
    expect(graph.constants.map((v) => v.name)).toEqual(['a', 'c', 'd', 'e', 'b']);
    graph.removeConstant(a!);
    graph.removeConstant(c!);
    expect(graph.constants.map((v) => v.name)).toEqual(['d', 'e', 'b']);
    expect(graph.constants).toHaveLength(3);
    expect(d!.constant?.toNumbers()).toEqual([3]);
    expect(e.isConstant).toBe(true);
  });

  it('refuses to remove a constant that is still read, and frees the name of a removed one', () => {
    const graph = new Graph();
    const w = graph.addConstant('w', scalar(1));
    graph.addOutput(w);
    expect(() => graph.removeConstant(w)).toThrow(/still has uses/);
    const v = graph.addConstant('v', scalar(2));
    graph.removeConstant(v);
    expect(graph.getValue('v')).toBeUndefined();
    expect(graph.constants.map((value) => value.name)).toEqual(['w']);
  });
});
