import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type RewritePattern } from '@modelpass/ir';
import { canonicalize, eliminateDropoutPass, eliminateNoopPass } from '@modelpass/transforms';
import { evaluate, expectClose, opsOf, randomTensor, runPass } from './helpers.js';

const f32 = (shape: (number | string)[]) => tensorType('float32', shape);

describe('canonicalize', () => {
  it('removes x*1, 1*x, x+0, x-0, x/1 when the constant cannot broadcast', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['N', 4]));
    const one = b.constant(Tensor.scalar('float32', 1), 'one');
    const zeros = b.constant(Tensor.fromValues('float32', [4], [0, 0, 0, 0]), 'zeros');
    const a = b.op1('onnx.Mul', [x, one]);
    const c = b.op1('onnx.Mul', [one, a]);
    const d = b.op1('onnx.Add', [c, zeros]);
    const e = b.op1('onnx.Sub', [d, zeros]);
    const f = b.op1('onnx.Div', [e, one]);
    const y = b.op1('onnx.Relu', [f], {}, { outputs: ['y'] });
    b.output(y);
    const model = b.model();
    const run = await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Relu']);
    expect(model.graph.outputs[0]!.name).toBe('y');
    expect(model.graph.constants).toHaveLength(0);
    expect(run.statistics.get('nodes-removed')).toBe(5);
    expect(verifyModel(model).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('leaves x*1 alone when the constant would broadcast x to a larger shape, and says why', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([4]));
    const ones = b.constant(Tensor.fromValues('float32', [2, 4], new Array(8).fill(1)), 'ones');
    b.output(b.op1('onnx.Mul', [x, ones]));
    const model = b.model();
    const run = await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Mul']);
    expect(run.debug.join('\n')).toMatch(/mul-by-one.*broadcast/);
  });

  it('keeps the graph output name when an Identity feeding it disappears', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const r = b.op1('onnx.Relu', [x], {}, { outputs: ['r'] });
    const y = b.op1('onnx.Identity', [r], {}, { outputs: ['y'] });
    b.output(y);
    const model = b.model();
    await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Relu']);
    expect(model.graph.outputs.map((v) => v.name)).toEqual(['y']);
  });

  it('keeps an Identity between a graph input and a graph output (no node to rename)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    b.output(b.op1('onnx.Identity', [x], {}, { outputs: ['y'] }));
    const model = b.model();
    const run = await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Identity']);
    expect(run.debug.join('\n')).toMatch(/graph output/);
  });

  it('cancels double transposes, double Not/Neg, and composes transposes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 3, 4]));
    const t1 = b.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0, 2]) });
    const t2 = b.op1('onnx.Transpose', [t1], { perm: attrs.ints([1, 0, 2]) });
    const n1 = b.op1('onnx.Neg', [t2]);
    const n2 = b.op1('onnx.Neg', [n1]);
    const t3 = b.op1('onnx.Transpose', [n2], { perm: attrs.ints([2, 0, 1]) });
    const t4 = b.op1('onnx.Transpose', [t3], { perm: attrs.ints([0, 2, 1]) });
    b.output(b.op1('onnx.Relu', [t4]));
    const model = b.model();
    await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Transpose', 'Relu']);
    // out[i] = x[p1[p2[i]]] with p1 = [2,0,1], p2 = [0,2,1]  →  [2,1,0]
    expect(model.graph.firstNode!.attr('perm', 'ints')).toEqual([2, 1, 0]);
  });

  it('merges Reshape of Reshape and removes a Cast to the same type', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 6]));
    const s1 = b.constant(Tensor.fromValues('int64', [2], [3n, 4n]), 's1');
    const s2 = b.constant(Tensor.fromValues('int64', [1], [-1n]), 's2');
    const r1 = b.op1('onnx.Reshape', [x, s1]);
    const r2 = b.op1('onnx.Reshape', [r1, s2]);
    const cast = b.op1('onnx.Cast', [x], { to: attrs.int(1) });
    b.output(r2, cast);
    const model = b.model();
    await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Reshape', 'Cast']);
    expect(model.graph.firstNode!.inputs[0]).toBe(x);
  });

  it("drops a Relu before a Clip whose constant min is >= 0 (torch's F.relu6: Relu then Clip(0, 6)), same values", async () => {
    const build = (min: number) => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([2, 8]));
      const lo = b.constant(Tensor.scalar('float32', min), 'lo');
      const hi = b.constant(Tensor.scalar('float32', 6), 'hi');
      const relu = b.op1('onnx.Relu', [x]);
      b.output(b.op1('onnx.Clip', [relu, lo, hi]), b.op1('onnx.Clip', [relu, lo, hi]));
      return b.model();
    };
    const input = { x: randomTensor([2, 8], 7, 0, 9) };
    const model = build(0);
    const before = evaluate(model, input);
    await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Clip', 'Clip']);
    const after = evaluate(model, input);
    after.forEach((t, i) => expectClose(before[i]!, t));
    // A negative lower bound lets through what Relu drops: the Relu stays.
    const negative = build(-1);
    await runPass(canonicalize, negative);
    expect(opsOf(negative)).toContain('Relu');
  });

  it('does not merge a Reshape whose target copies a dim (0) from the middle shape', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 6]));
    const s1 = b.constant(Tensor.fromValues('int64', [2], [3n, 4n]), 's1');
    const s2 = b.constant(Tensor.fromValues('int64', [2], [0n, -1n]), 's2');
    b.output(b.op1('onnx.Reshape', [b.op1('onnx.Reshape', [x, s1]), s2]));
    const model = b.model();
    await runPass(canonicalize, model);
    expect(opsOf(model)).toEqual(['Reshape', 'Reshape']);
  });

  it('fuses Unsqueeze chains and cancels Squeeze(Unsqueeze) on the same axes (opset 13 axes inputs)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([3, 4]));
    const a0 = b.constant(Tensor.fromValues('int64', [1], [0n]), 'a0');
    const a2 = b.constant(Tensor.fromValues('int64', [1], [-1n]), 'a2');
    const u1 = b.op1('onnx.Unsqueeze', [x, a0]); // [1,3,4]
    const u2 = b.op1('onnx.Unsqueeze', [u1, a2]); // [1,3,4,1]
    const both = b.constant(Tensor.fromValues('int64', [2], [0n, 3n]), 'both');
    const s = b.op1('onnx.Squeeze', [u2, both]);
    b.output(b.op1('onnx.Relu', [u2]), b.op1('onnx.Relu', [s]));
    const model = b.model();
    await runPass(canonicalize, model);
    const unsqueezes = [...model.graph.nodes()].filter((n) => n.opType === 'Unsqueeze');
    expect(unsqueezes).toHaveLength(1);
    const axes = unsqueezes[0]!.inputs[1]!.constant!.toNumbers();
    expect(axes).toEqual([0, 3]);
    expect(opsOf(model).filter((o) => o === 'Squeeze')).toHaveLength(0);
  });

  it('applies plugin patterns from the pass context', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    b.output(b.op1('onnx.Relu', [b.op1('onnx.Relu', [x])]));
    const model = b.model();
    const reluRelu: RewritePattern = {
      name: 'plugin-relu-relu',
      ops: ['onnx.Relu'],
      rewrite(node, rewriter) {
        const inner = node.inputs[0]?.producer;
        if (inner?.op !== 'onnx.Relu') return false;
        node.setInput(0, inner.input(0));
        if (!inner.output(0).hasUses) rewriter.eraseNode(inner);
        return true;
      },
    };
    await runPass(canonicalize, model, {}, [reluRelu]);
    expect(opsOf(model)).toEqual(['Relu']);
  });
});

describe('eliminations', () => {
  it('removes inference Dropout but keeps one in training mode or with a used mask', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const d1 = b.op1('onnx.Dropout', [x]);
    const yes = b.constant(Tensor.scalar('bool', true), 'training');
    const d2 = b.op1('onnx.Dropout', [d1, null, yes]);
    const [d3, mask] = b.op('onnx.Dropout', [d2], {}, { outputs: 2 });
    b.output(b.op1('onnx.Relu', [d3!]), mask!);
    const model = b.model();
    await runPass(eliminateDropoutPass, model);
    expect(opsOf(model)).toEqual(['Dropout', 'Dropout', 'Relu']);
  });

  it('removes no-op Transpose, Pad, Reshape (with 0 and -1), Expand and Slice', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['N', 3, 4]));
    const t = b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 1, 2]) });
    const pads = b.constant(Tensor.fromValues('int64', [6], [0n, 0n, 0n, 0n, 0n, 0n]), 'pads');
    const p = b.op1('onnx.Pad', [t, pads]);
    const shape = b.constant(Tensor.fromValues('int64', [3], [0n, 3n, -1n]), 'shape');
    const r = b.op1('onnx.Reshape', [p, shape]);
    const ones = b.constant(Tensor.fromValues('int64', [2], [1n, 4n]), 'ones');
    const e = b.op1('onnx.Expand', [r, ones]);
    const starts = b.constant(Tensor.fromValues('int64', [1], [0n]), 'starts');
    const ends = b.constant(Tensor.fromValues('int64', [1], [9223372036854775807n]), 'ends');
    const s = b.op1('onnx.Slice', [e, starts, ends]);
    b.output(b.op1('onnx.Relu', [s]));
    const model = b.model();
    await runPass(eliminateNoopPass, model);
    expect(opsOf(model)).toEqual(['Relu']);
    expect(model.graph.firstNode!.inputs[0]).toBe(x);
  });

  it('keeps a Reshape that really changes the shape and an Expand that broadcasts', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['N', 3, 4]));
    const shape = b.constant(Tensor.fromValues('int64', [3], [0n, 4n, -1n]), 'shape');
    const big = b.constant(Tensor.fromValues('int64', [3], [1n, 3n, 4n]), 'big');
    b.output(b.op1('onnx.Reshape', [x, shape]), b.op1('onnx.Expand', [b.input('z', f32([3, 4])), big]));
    const model = b.model();
    await runPass(eliminateNoopPass, model);
    expect(opsOf(model)).toEqual(['Reshape', 'Expand']);
  });
});
