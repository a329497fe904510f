import { describe, expect, it } from 'vitest';
import { Graph, GraphBuilder, Use, tensorType, type Node, type Value } from '@modelpass/ir';

/** A deterministic pseudo-random sequence (so a failure reproduces). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('value.uses behaves as a live Set of uses', () => {
  it('matches a reference list of (user, index) pairs through random rewiring', () => {
    const next = random(7);
    const b = new GraphBuilder();
    const type = tensorType('float32', [4]);
    const values: Value[] = [b.input('a', type), b.input('b', type), b.input('c', type)];
    const nodes: Node[] = [];
    for (let i = 0; i < 12; i++) {
      const node = b.node('onnx.Add', [values[i % 3]!, values[(i + 1) % 3]!], {}, { types: [type] });
      nodes.push(node);
      values.push(node.output());
    }
    b.output(values[values.length - 1]!);
    // The reference: for every value, its uses as (user, index) in the order they were made.
    const reference = new Map<Value, [Node | Graph, number][]>(values.map((v) => [v, []]));
    for (const node of nodes) node.inputs.forEach((v, index) => reference.get(v!)!.push([node, index]));
    reference.get(values[values.length - 1]!)!.push([b.graph, 0]);
    for (let step = 0; step < 2000; step++) {
      const node = nodes[Math.floor(next() * nodes.length)]!;
      const index = Math.floor(next() * 3);
      const choice = Math.floor(next() * (values.length + 1));
      const value = choice === values.length ? null : values[choice]!;
      const old = node.inputs[index];
      if (old) {
        const list = reference.get(old)!;
        list.splice(list.findIndex(([user, i]) => user === node && i === index), 1);
      }
      node.setInput(index, value);
      if (value) reference.get(value)!.push([node, index]);
      if (step % 50 === 0 || step === 1999) {
        for (const v of values) {
          const expected = reference.get(v)!;
          expect([...v.uses].map((u) => [u.user, u.index])).toEqual(expected);
          expect(v.uses.size).toBe(expected.length);
          expect(v.useCount).toBe(expected.length);
          expect(v.hasUses).toBe(expected.length > 0);
          for (const use of v.uses) expect(v.uses.has(use)).toBe(true);
        }
      }
    }
  });

  it('lets a loop over the uses rewire the use it is on, like a Set', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [4]));
    const y = b.input('y', tensorType('float32', [4]));
    const sums = [0, 1, 2, 3].map(() => b.op1('onnx.Add', [x, x]));
    b.output(...sums);
    expect(x.useCount).toBe(8);
    let visited = 0;
    for (const use of x.uses) {
      visited++;
      use.node!.setInput(use.index, y);
    }
    expect(visited).toBe(8);
    expect(x.useCount).toBe(0);
    expect([...x.uses]).toEqual([]);
    expect(y.useCount).toBe(8);
    expect([...y.uses].map((u) => [u.node!.name, u.index])).toEqual(sums.flatMap((s) => [[s.producer!.name, 0], [s.producer!.name, 1]]));
  });

  it('skips uses removed before the loop reaches them and sees uses added meanwhile', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [4]));
    const other = b.input('o', tensorType('float32', [4]));
    const first = b.node('onnx.Relu', [x]);
    const second = b.node('onnx.Relu', [x]);
    const third = b.node('onnx.Relu', [x]);
    const seen: string[] = [];
    for (const use of x.uses) {
      seen.push(use.node!.name);
      if (use.node === first) {
        second.setInput(0, other); // removed before the loop gets there
        b.node('onnx.Neg', [x], {}, { name: 'late' }); // added while looping
      }
    }
    expect(seen).toEqual([first.name, third.name, 'late']);
  });

  it('offers the read-only Set interface', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [4]));
    const relu = b.node('onnx.Relu', [x]);
    b.output(x);
    const uses = x.uses;
    expect(x.uses).toBe(uses);
    const all = [...uses];
    expect(all.map((u) => u.isGraphOutput)).toEqual([false, true]);
    expect([...uses.keys()]).toEqual(all);
    expect([...uses.values()]).toEqual(all);
    expect([...uses.entries()]).toEqual(all.map((u) => [u, u]));
    const each: Use[] = [];
    uses.forEach((u, same, set) => {
      expect(same).toBe(u);
      expect(set).toBe(uses);
      each.push(u);
    });
    expect(each).toEqual(all);
    expect(uses.has(new Use(relu, 0))).toBe(false);
    relu.setInput(0, null);
    expect(uses.size).toBe(1);
    expect(uses.has(all[0]!)).toBe(false);
    expect(new Set(uses).size).toBe(1);
  });

  it('keeps isGraphInput true exactly for graph inputs', () => {
    const g = new Graph('g');
    const x = g.addInput('x', tensorType('float32', [1]));
    const node = g.createNode({ op: 'onnx.Relu', inputs: [x] });
    expect(x.isGraphInput).toBe(true);
    expect(node.output().isGraphInput).toBe(false);
    node.erase();
    g.removeInput(x);
    expect(x.isGraphInput).toBe(false);
    expect(g.inputs).toEqual([]);
  });
});
