import { describe, expect, it } from 'vitest';
import {
  applyPatternsGreedily,
  attrs,
  Builder,
  defineOp,
  GraphBuilder,
  ModelpassError,
  OpRegistry,
  PatternSet,
  Tensor,
  tensorType,
  type Model,
} from '@modelpass/ir';

function chain(): { model: Model; b: GraphBuilder } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const a = b.op1('onnx.Relu', [x], {}, { name: 'first' });
  const c = b.op1('onnx.Neg', [a], {}, { name: 'last' });
  b.output(c);
  return { model: b.model(), b };
}

const order = (model: Model) => model.graph.nodeList().map((node) => node.name);

describe('Builder (insertion point)', () => {
  it('keeps the creation order of nodes inserted before a node, after a node, at the start and at the end', () => {
    const { model } = chain();
    const graph = model.graph;
    const x = graph.inputs[0]!;
    const last = graph.nodeList()[1]!;
    const before = Builder.before(last);
    before.create('onnx.Abs', [x], {}, { name: 'b1' });
    before.create('onnx.Abs', [x], {}, { name: 'b2' });
    const after = Builder.after(graph.firstNode!);
    after.create('onnx.Abs', [x], {}, { name: 'a1' });
    after.create('onnx.Abs', [x], {}, { name: 'a2' });
    const start = Builder.atStart(graph);
    start.create('onnx.Abs', [x], {}, { name: 's1' });
    start.create('onnx.Abs', [x], {}, { name: 's2' });
    const end = Builder.atEnd(graph);
    end.create('onnx.Abs', [x], {}, { name: 'e1' });
    end.create('onnx.Abs', [x], {}, { name: 'e2' });
    expect(order(model)).toEqual(['s1', 's2', 'first', 'a1', 'a2', 'b1', 'b2', 'last', 'e1', 'e2']);
  });

  it('makes unique names, adds constants, and types plain attributes (by schema when given)', () => {
    const { model } = chain();
    const graph = model.graph;
    const b = Builder.before(graph.lastNode!);
    const w1 = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'w');
    const w2 = b.constant(Tensor.fromValues('float32', [2], [3, 4]), 'w');
    expect(w1.name).toBe('w');
    expect(w2.name).not.toBe('w');
    expect(w2.type).toEqual(tensorType('float32', [2]));
    const n1 = b.create('onnx.Abs', [w1], { axis: 1, alpha: 0.5, mode: 'x', pads: [0, 1], scales: [0.5, 2], skip: undefined }, { name: 'first' });
    expect(n1.name).not.toBe('first');
    expect(Object.fromEntries([...n1.attributes].map(([k, v]) => [k, v.kind]))).toEqual({ axis: 'int', alpha: 'float', mode: 'string', pads: 'ints', scales: 'floats' });
    const registry = new OpRegistry([defineOp({ op: 'onnx.LeakyRelu', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }], attributes: { alpha: { kind: 'float' } } })]);
    const typed = Builder.atEnd(graph, { registry }).create('onnx.LeakyRelu', [w1], { alpha: 1 });
    expect(typed.getAttribute('alpha')).toEqual(attrs.float(1));
    expect(() => Builder.atEnd(graph, { registry }).create('onnx.LeakyRelu', [w1], { alpha: 'big' })).toThrow(/attribute 'alpha' of onnx.LeakyRelu/);
  });

  it('checks plain list attributes element by element against the schema, and takes only own keys', () => {
    const { model } = chain();
    const graph = model.graph;
    const x = graph.firstNode!.output(0);
    const registry = new OpRegistry([
      defineOp({ op: 'test.Lists', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }], attributes: { sizes: { kind: 'ints' }, gains: { kind: 'floats' }, names: { kind: 'strings' } } }),
    ]);
    const b = Builder.atEnd(graph, { registry });
    const node = b.create('test.Lists', [x], { sizes: [1, 2], gains: [1, 0.5], names: ['a', 'b'] });
    expect(node.getAttribute('sizes')).toEqual(attrs.ints([1, 2]));
    expect(node.getAttribute('gains')).toEqual(attrs.floats([1, 0.5]));
    expect(node.getAttribute('names')).toEqual(attrs.strings(['a', 'b']));
    expect(() => b.create('test.Lists', [x], { sizes: [1, 2.5] })).toThrow(/attribute 'sizes' of test.Lists cannot be built/);
    expect(() => b.create('test.Lists', [x], { gains: [1, 'x'] as unknown as number[] })).toThrow(/attribute 'gains' of test.Lists/);
    expect(() => b.create('test.Lists', [x], { names: ['a', 1] as unknown as string[] })).toThrow(/attribute 'names' of test.Lists/);
    expect(() => b.create('test.Lists', [x], { sizes: 3 })).toThrow(/attribute 'sizes' of test.Lists/);
    // Inherited enumerable keys are not attributes (as Object.entries would not list them).
    const inherited = Object.assign(Object.create({ names: ['inherited'] }) as Record<string, unknown>, { sizes: [4] });
    const own = b.create('test.Lists', [x], inherited as never);
    expect([...own.attributes.keys()]).toEqual(['sizes']);
  });

  it('refuses an anchor that is not in a graph', () => {
    const { model } = chain();
    const node = model.graph.lastNode!;
    node.output(0).replaceAllUsesWith(model.graph.firstNode!.output(0));
    node.erase();
    expect(() => Builder.before(node)).toThrow(ModelpassError);
  });
});

describe('value mutation', () => {
  it('setConstant keeps the declared type in step with the data', () => {
    const b = new GraphBuilder();
    const w = b.constant(Tensor.fromValues('float32', [4], [1, 2, 3, 4]), 'w');
    w.setConstant(Tensor.fromValues('int8', [2, 2], [1, 2, 3, 4]));
    expect(w.type).toEqual(tensorType('int8', [2, 2]));
    expect(w.constant!.toNumbers()).toEqual([1, 2, 3, 4]);
    const relu = b.op1('onnx.Relu', [w]);
    expect(() => relu.setConstant(Tensor.scalar('float32', 1))).toThrow(/computed by the node/);
  });

  it('replaceAllUsesWith keeps graph output names: renaming a node output, or through an Identity', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2]));
    const y = b.op1('onnx.Relu', [x], {}, { outputs: ['y'], types: [tensorType('float32', [2])] });
    b.output(y);
    const z = Builder.before(y.producer!).op1('onnx.Abs', [x]);
    y.replaceAllUsesWith(z);
    expect(b.graph.outputs[0]).toBe(z);
    expect(z.name).toBe('y');
    expect(z.type).toEqual(tensorType('float32', [2]));
    z.replaceAllUsesWith(x);
    const output = b.graph.outputs[0]!;
    expect(output.name).toBe('y');
    expect(output.producer!.op).toBe('onnx.Identity');
    expect(output.producer!.inputs[0]).toBe(x);
    expect(z.hasUses).toBe(false);
  });

  it('nodesOf filters one graph by op, allNodesOf reaches subgraphs', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    b.op1('onnx.Relu', [x]);
    const inner = new GraphBuilder();
    inner.output(inner.op1('onnx.Relu', [x]));
    b.op1('onnx.If', [x], { then_branch: attrs.graph(inner.graph), else_branch: attrs.graph(new GraphBuilder().output(x).graph) });
    b.op1('onnx.Neg', [x]);
    expect([...b.graph.nodesOf('onnx.Relu', 'onnx.Neg')].map((n) => n.op)).toEqual(['onnx.Relu', 'onnx.Neg']);
    expect([...b.graph.allNodesOf('onnx.Relu')]).toHaveLength(2);
  });
});

describe('rewrite patterns see the model', () => {
  it('an opset-dependent pattern reads the opset from the rewriter', () => {
    const make = (opset: number) => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', [4]));
      b.output(b.op1('onnx.Relu', [x], {}, { outputs: ['y'] }));
      return b.model({ onnx: opset });
    };
    // Swish-like: Relu → Abs only when the model imports onnx ≥ 14, built with the rewriter's builder.
    const patterns = new PatternSet([
      {
        name: 'relu-to-abs-from-14',
        ops: ['onnx.Relu'],
        rewrite(node, rewriter) {
          if ((rewriter.opset() ?? 0) < 14) return false;
          const abs = rewriter.builder().op1('onnx.Abs', [node.input(0)]);
          rewriter.replaceNode(node, [abs]);
          return true;
        },
      },
    ]);
    const old = make(13);
    const fresh = make(14);
    expect(applyPatternsGreedily(old.graph, patterns, { model: old }).rewrites).toBe(0);
    expect(applyPatternsGreedily(fresh.graph, patterns, { model: fresh }).rewrites).toBe(1);
    expect(fresh.graph.nodeList().map((n) => n.op)).toEqual(['onnx.Abs']);
    expect(fresh.graph.outputs[0]!.name).toBe('y');
    const bare = make(14);
    expect(applyPatternsGreedily(bare.graph, patterns).rewrites).toBe(0);
  });
});
