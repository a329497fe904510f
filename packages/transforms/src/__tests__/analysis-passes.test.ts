import { describe, expect, it } from 'vitest';
import { attrs, Graph, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { cse, dce, eliminateDuplicateInitializers, foldConstantsPass, foldShapes, optimize, simplify, transformPasses } from '@modelpass/transforms';
import { opsOf, runPass } from './helpers.js';

const f32 = (shape: (number | string)[]) => tensorType('float32', shape);

describe('dce', () => {
  it('removes dead nodes and unused initializers but keeps what a subgraph reads', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const cond = b.input('cond', tensorType('bool', []));
    const used = b.op1('onnx.Relu', [x]);
    b.op1('onnx.Sigmoid', [b.op1('onnx.Exp', [x])]);
    b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'unused');
    const then = new Graph('then');
    then.addOutput(then.createNode({ op: 'onnx.Neg', inputs: [used] }).output(0));
    const otherwise = new Graph('else');
    otherwise.addOutput(otherwise.createNode({ op: 'onnx.Abs', inputs: [used] }).output(0));
    b.output(b.op1('onnx.If', [cond], { then_branch: attrs.graph(then), else_branch: attrs.graph(otherwise) }));
    const model = b.model();
    const run = await runPass(dce, model);
    expect(opsOf(model)).toEqual(['Relu', 'If']);
    expect(model.graph.constants).toHaveLength(0);
    expect(run.statistics.get('nodes-removed')).toBe(2);
    expect(run.statistics.get('bytes-saved')).toBe(8);
  });

  it('removes an unused If together with its branches (their uses of outer values go too)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const cond = b.input('cond', tensorType('bool', []));
    const r = b.op1('onnx.Relu', [x]);
    const then = new Graph('then');
    then.addOutput(then.createNode({ op: 'onnx.Neg', inputs: [r] }).output(0));
    const otherwise = new Graph('else');
    otherwise.addOutput(otherwise.createNode({ op: 'onnx.Abs', inputs: [r] }).output(0));
    b.op1('onnx.If', [cond], { then_branch: attrs.graph(then), else_branch: attrs.graph(otherwise) });
    b.output(b.op1('onnx.Sigmoid', [x]));
    const model = b.model();
    await runPass(dce, model);
    expect(opsOf(model)).toEqual(['Sigmoid']);
    expect(x.useCount).toBe(1);
  });
});

describe('cse', () => {
  it('merges identical nodes and identical constants, not random ones', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const c1 = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c1');
    const c2 = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c2');
    const a1 = b.op1('onnx.Add', [x, c1]);
    const a2 = b.op1('onnx.Add', [x, c2]);
    const r1 = b.op1('onnx.RandomUniformLike', [x]);
    const r2 = b.op1('onnx.RandomUniformLike', [x]);
    b.output(b.op1('onnx.Mul', [a1, a2]), r1, r2);
    const model = b.model();
    const run = await runPass(cse, model);
    expect(opsOf(model)).toEqual(['Add', 'RandomUniformLike', 'RandomUniformLike', 'Mul']);
    expect(model.graph.constants).toHaveLength(1);
    expect(run.statistics.get('constants-merged')).toBe(1);
  });

  it('merges an expression inside an If branch with the same one computed before the If', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const cond = b.input('cond', tensorType('bool', []));
    const outer = b.op1('onnx.Exp', [x]);
    const then = new Graph('then');
    const inner = then.createNode({ op: 'onnx.Exp', inputs: [x] }).output(0);
    then.addOutput(then.createNode({ op: 'onnx.Neg', inputs: [inner] }).output(0));
    const otherwise = new Graph('else');
    otherwise.addOutput(otherwise.createNode({ op: 'onnx.Abs', inputs: [x] }).output(0));
    b.output(b.op1('onnx.If', [cond], { then_branch: attrs.graph(then), else_branch: attrs.graph(otherwise) }), outer);
    const model = b.model();
    await runPass(cse, model);
    expect([...then.nodes()].map((n) => n.opType)).toEqual(['Neg']);
    expect(then.firstNode!.inputs[0]).toBe(outer);
  });

  it('eliminate-duplicate-initializers keeps one tensor per distinct content', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const c1 = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c1');
    const c2 = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c2');
    const c3 = b.constant(Tensor.fromValues('float32', [2], [1, 3]), 'c3');
    b.output(b.op1('onnx.Add', [x, c1]), b.op1('onnx.Add', [x, c2]), b.op1('onnx.Add', [x, c3]));
    const model = b.model();
    const run = await runPass(eliminateDuplicateInitializers, model);
    expect(model.graph.constants.map((c) => c.name)).toEqual(['c1', 'c3']);
    expect(run.statistics.get('bytes-saved')).toBe(8);
  });
});

describe('fold-constants and fold-shapes', () => {
  it('folds constant arithmetic through the reference kernels and materializes Constant nodes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const k = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [2], [3, 4])) });
    const c = b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c');
    const sum = b.op1('onnx.Add', [k, c]);
    const sq = b.op1('onnx.Mul', [sum, sum]);
    b.output(b.op1('onnx.Add', [x, sq]));
    const model = b.model();
    const run = await runPass(foldConstantsPass, model);
    expect(opsOf(model)).toEqual(['Add']);
    const folded = model.graph.firstNode!.inputs[1]!;
    expect(folded.constant!.toNumbers()).toEqual([16, 36]);
    expect(run.statistics.get('nodes-folded')).toBe(2);
  });

  it('respects max-size for results larger than their inputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([1000]));
    const shape = b.constant(Tensor.fromValues('int64', [1], [1000n]), 'shape');
    const filled = b.op1('onnx.ConstantOfShape', [shape], { value: attrs.tensor(Tensor.fromValues('float32', [1], [2])) });
    b.output(b.op1('onnx.Mul', [x, filled]));
    const model = b.model();
    const run = await runPass(foldConstantsPass, model, { maxSize: 100 });
    expect(opsOf(model)).toEqual(['ConstantOfShape', 'Mul']);
    expect(run.debug.join('\n')).toMatch(/max-size/);
    // 4000 bytes of result for 8 bytes of dead input: above the default growth budget of 1024
    const growth = await runPass(foldConstantsPass, model, { maxSize: 4000 });
    expect(opsOf(model)).toEqual(['ConstantOfShape', 'Mul']);
    expect(growth.debug.join('\n')).toMatch(/max-growth 1024/);
    expect(growth.statistics.get('declined-for-growth')).toBe(1);
    const allowed = await runPass(foldConstantsPass, model, { maxSize: 4000, maxGrowth: 4000 });
    expect(opsOf(model)).toEqual(['Mul']);
    expect(allowed.statistics.get('bytes-saved')).toBe(-(4000 - 8));
  });

  it('counts a constant input as freed only when nothing else reads it', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([400]));
    const w = b.constant(Tensor.fromValues('float32', [400], Array.from({ length: 400 }, (_, i) => i)), 'w');
    const negated = b.op1('onnx.Neg', [w]);
    b.output(b.op1('onnx.Add', [b.op1('onnx.Mul', [x, w]), negated]));
    const shared = b.model();
    const run = await runPass(foldConstantsPass, shared);
    expect(opsOf(shared)).toEqual(['Neg', 'Mul', 'Add']);
    expect(run.debug.join('\n')).toMatch(/would replace only 0 bytes|declared result of 1600 bytes/);

    const alone = new GraphBuilder();
    const y = alone.input('y', f32([400]));
    const v = alone.constant(Tensor.fromValues('float32', [400], Array.from({ length: 400 }, (_, i) => i)), 'v');
    alone.output(alone.op1('onnx.Mul', [y, alone.op1('onnx.Neg', [v])]));
    const single = alone.model();
    const folded = await runPass(foldConstantsPass, single);
    expect(opsOf(single)).toEqual(['Mul']);
    expect(folded.statistics.get('bytes-saved')).toBe(0);
  });

  it('folds Shape, and Gather of a Shape on static dims even with a dynamic batch', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['N', 3, 4]));
    const shape = b.op1('onnx.Shape', [x]);
    const idx = b.constant(Tensor.fromValues('int64', [2], [1n, 2n]), 'idx');
    const dims = b.op1('onnx.Gather', [shape, idx], { axis: attrs.int(0) });
    const prod = b.op1('onnx.ReduceProd', [dims], { keepdims: attrs.int(1) });
    const batch = b.op1('onnx.Gather', [shape, b.constant(Tensor.fromValues('int64', [1], [0n]), 'zero')]);
    const target = b.op1('onnx.Concat', [batch, prod], { axis: attrs.int(0) });
    b.output(b.op1('onnx.Reshape', [x, target]));
    const model = b.model();
    const run = await runPass(foldShapes, model);
    expect(opsOf(model)).toEqual(['Shape', 'Gather', 'Concat', 'Reshape']);
    expect(run.statistics.get('shapes-folded')).toBe(1);
    const concat = [...model.graph.nodes()].find((n) => n.opType === 'Concat')!;
    expect(concat.inputs[1]!.constant!.toNumbers()).toEqual([12]);
  });

  it('takes another round when a Shape is left and a fold made the index of a Gather of it constant', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['N', 3, 4]));
    const shape = b.op1('onnx.Shape', [x]);
    // The index is shape arithmetic itself: constant only once the first round's fold has run.
    const index = b.op1('onnx.Add', [b.constant(Tensor.fromValues('int64', [1], [1n]), 'one'), b.constant(Tensor.fromValues('int64', [1], [1n]), 'also-one')]);
    const dim = b.op1('onnx.Gather', [shape, index], { axis: attrs.int(0) });
    const batch = b.op1('onnx.Gather', [shape, b.constant(Tensor.fromValues('int64', [1], [0n]), 'zero')]);
    b.output(b.op1('onnx.Reshape', [x, b.op1('onnx.Concat', [batch, dim, b.constant(Tensor.fromValues('int64', [1], [-1n]), 'rest')], { axis: attrs.int(0) })]));
    const model = b.model();
    const run = await runPass(foldShapes, model);
    expect(opsOf(model)).toEqual(['Shape', 'Gather', 'Concat', 'Reshape']);
    expect(run.statistics.get('shapes-folded')).toBe(1);
    const concat = [...model.graph.nodes()].find((n) => n.opType === 'Concat')!;
    expect(concat.inputs[1]!.constant!.toNumbers()).toEqual([4]);
  });
});

describe('simplify and optimize', () => {
  it('reach a fixed point combining folding, canonicalization and DCE', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 3]));
    const shape = b.op1('onnx.Shape', [x]);
    const reshaped = b.op1('onnx.Reshape', [x, shape]);
    const one = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.scalar('float32', 1)) });
    const scaled = b.op1('onnx.Mul', [reshaped, one]);
    b.output(b.op1('onnx.Relu', [scaled], {}, { outputs: ['y'] }));
    const model = b.model();
    const run = await runPass(simplify, model);
    expect(opsOf(model)).toEqual(['Relu']);
    expect(model.graph.constants).toHaveLength(0);
    expect(run.statistics.get('nodes-removed')).toBe(4);
    expect(run.statistics.get('iterations')).toBe(2); // one round that changes, one that does not
    const again = b.model();
    const optimized = await runPass(optimize, again);
    expect(opsOf(again)).toEqual(['Relu']);
    // optimize's iterations are the rounds of its two simplify runs (at least one each; it used to report 0).
    expect(optimized.statistics.get('iterations')).toBeGreaterThanOrEqual(2);
  });

  it('exports every pass with a unique name', () => {
    const names = transformPasses.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['canonicalize', 'dce', 'cse', 'fold-constants', 'fold-shapes', 'simplify', 'optimize']));
  });
});
