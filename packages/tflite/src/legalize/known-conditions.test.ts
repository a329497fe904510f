/**
 * Silero VAD's structure in small: an If on the value of input `sr` whose branches hold Ifs on shapes, one
 * testing the rank of what another returns. Fixed as `convert --input-value sr=… --input-shape x=…` fixes
 * them (sr a constant, x static), every condition of the taken branch is known, while the branch not taken,
 * meant for another length, holds an If that can never be resolved at this one (its operand has no type) —
 * which made legalize-tflite refuse the whole model before known-conditions.ts inlined the taken branch
 * first ("its body holds 'if_batch' (onnx.If), which could not be resolved at conversion time").
 */
import { describe, expect, it } from 'vitest';
import { attrs, Graph, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../__tests__/helpers.js';
import { conditionInputs } from './known-conditions.js';

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const scalarI64 = (value: number): Tensor => Tensor.fromValues('int64', [], [BigInt(value)]);

function branch(name: string, build: (b: GraphBuilder) => Value): Graph {
  const b = new GraphBuilder(new Graph(name));
  b.output(build(b));
  return b.graph;
}

/**
 * y = sr == 16000 ? (len == 1 ? Squeeze(h, 1) : h) → (rank 1 ? Unsqueeze(·, 1) : ReduceSum(·, 1)) · 2
 *                 : (n == 1 ? ReduceMean(p, 1) : ReduceSum(p)) − 1 with p = h + [0.5, −1, 2] (len 1 or 3),
 * for x [n, len] and h = Relu(x): y is [1, 1] at n = 1.
 */
function ifInIf(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['n', 'len']));
  const sr = b.input('sr', tensorType('int64', []));
  const wide = branch('wide', (w) => {
    const h = w.op1('onnx.Relu', [x], {}, { name: 'relu', outputs: ['relu_x'] });
    const length = w.op1('onnx.Gather', [w.op1('onnx.Shape', [h], {}, { name: 'shape_x', outputs: ['shape_x'] }), w.constant(scalarI64(1), 'one_index')], { axis: attrs.int(0) }, { name: 'length', outputs: ['length'] });
    const isOne = w.op1('onnx.Equal', [length, w.constant(scalarI64(1), 'one')], {}, { name: 'is_one', outputs: ['is_one'] });
    const squeezed = branch('squeezed', (s) => s.op1('onnx.Squeeze', [h, s.constant(i64([1]), 'squeeze_axes')], {}, { name: 'squeeze', outputs: ['squeezed_x'] }));
    const kept = branch('kept', (k) => k.op1('onnx.Identity', [h], {}, { name: 'keep', outputs: ['kept_x'] }));
    const [picked] = w.op('onnx.If', [isOne], { then_branch: attrs.graph(squeezed), else_branch: attrs.graph(kept) }, { outputs: 1, name: 'if_length' });
    const rank = w.op1('onnx.Size', [w.op1('onnx.Shape', [picked!], {}, { name: 'shape_picked', outputs: ['shape_picked'] })], {}, { name: 'rank', outputs: ['rank'] });
    const isVector = w.op1('onnx.Equal', [rank, w.constant(scalarI64(1), 'rank_one')], {}, { name: 'is_vector', outputs: ['is_vector'] });
    const lifted = branch('lifted', (l) => l.op1('onnx.Unsqueeze', [picked!, l.constant(i64([1]), 'unsqueeze_axes')], {}, { name: 'unsqueeze', outputs: ['lifted_x'] }));
    const summed = branch('summed', (s) => s.op1('onnx.ReduceSum', [picked!, s.constant(i64([1]), 'sum_axes')], { keepdims: attrs.int(1) }, { name: 'sum', outputs: ['summed_x'] }));
    const [column] = w.op('onnx.If', [isVector], { then_branch: attrs.graph(lifted), else_branch: attrs.graph(summed) }, { outputs: 1, name: 'if_rank' });
    return w.op1('onnx.Mul', [column!, w.constant(Tensor.scalar('float32', 2), 'two')], {}, { name: 'double', outputs: ['doubled'] });
  });
  // Meant for one sample per row (len 1), as Silero's 8 kHz branch is for 256-sample chunks: at other lengths its
  // Add [n, len] + [3] does not broadcast and has no type, so the If on its batch can never be resolved there.
  const narrow = branch('narrow', (n) => {
    const relu = n.op1('onnx.Relu', [x], {}, { name: 'relu_narrow', outputs: ['relu_narrow'] });
    const projected = n.op1('onnx.Add', [relu, n.constant(Tensor.fromValues('float32', [3], [0.5, -1, 2]), 'offsets')], {}, { name: 'spread', outputs: ['projected'] });
    const batch = n.op1('onnx.Gather', [n.op1('onnx.Shape', [projected], {}, { name: 'shape_projected', outputs: ['shape_projected'] }), n.constant(scalarI64(0), 'zero_index')], { axis: attrs.int(0) }, { name: 'batch', outputs: ['batch'] });
    const single = n.op1('onnx.Equal', [batch, n.constant(scalarI64(1), 'batch_one')], {}, { name: 'is_single', outputs: ['is_single'] });
    const mean = branch('mean', (m) => m.op1('onnx.ReduceMean', [projected], { axes: attrs.ints([1]), keepdims: attrs.int(1) }, { name: 'mean', outputs: ['mean_projected'] }));
    const total = branch('total', (t) => t.op1('onnx.ReduceSum', [projected, t.constant(i64([0, 1]), 'total_axes')], { keepdims: attrs.int(0) }, { name: 'total', outputs: ['total_projected'] }));
    const [column] = n.op('onnx.If', [single], { then_branch: attrs.graph(mean), else_branch: attrs.graph(total) }, { outputs: 1, name: 'if_batch' });
    return n.op1('onnx.Sub', [column!, n.constant(Tensor.scalar('float32', 1), 'minus_one')], {}, { name: 'shift', outputs: ['shifted'] });
  });
  const isWide = b.op1('onnx.Equal', [sr, b.constant(scalarI64(16000), 'rate')], {}, { name: 'is_wide', outputs: ['is_wide'] });
  const [y] = b.op('onnx.If', [isWide], { then_branch: attrs.graph(wide), else_branch: attrs.graph(narrow) }, { outputs: 1, name: 'if_rate' });
  b.output(y!);
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' }); // the exporter's types: symbolic inside the branches
  return model;
}

/** What `--input-value sr=RATE --input-shape x=SHAPE` do: sr a constant, x static. */
function fixed(model: Model, rate: number | undefined, shape: number[] | undefined): Model {
  const graph = model.graph;
  if (shape) graph.inputs.find((input) => input.name === 'x')!.type = tensorType('float32', shape);
  if (rate !== undefined) {
    const sr = graph.inputs.find((input) => input.name === 'sr')!;
    const constant = graph.addConstant(graph.uniqueName('sr_value'), scalarI64(rate));
    sr.replaceAllUsesWith(constant);
    graph.removeInput(sr);
  }
  return model;
}

async function legalize(model: Model): Promise<Model> {
  await runTflitePipeline(model, 'legalize-tflite', { verifyEach: true });
  return model;
}

const opsOf = (model: Model): string[] => [...model.graph.allNodes()].map((node) => node.op);

describe('legalize-tflite: Ifs whose conditions the fixed inputs decide, inlined level by level', () => {
  it('sr=16000, x [1,4]: both shape Ifs resolve inside the taken branch (Identity, then ReduceSum)', async () => {
    const model = await legalize(fixed(ifInIf(), 16000, [1, 4]));
    const ops = opsOf(model);
    expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
    expect(ops).not.toContain('tflite.IF');
    expect(ops).not.toContain('tflite.SELECT_V2');
    expect(ops).toContain('tflite.SUM');
    expect(ops).toContain('tflite.MUL');
    expect(ops).not.toContain('tflite.MEAN');
    expect(model.graph.outputs[0]!.type).toEqual(tensorType('float32', [1, 1]));
  });

  it('sr=16000, x [1,1]: the other shape branches (Squeeze, then Unsqueeze), no reduction', async () => {
    const ops = opsOf(await legalize(fixed(ifInIf(), 16000, [1, 1])));
    expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
    expect(ops).not.toContain('tflite.SUM');
    expect(ops).not.toContain('tflite.MEAN');
    expect(ops).toContain('tflite.MUL');
  });

  it('sr=8000, x [1,1]: the other rate branch only', async () => {
    const ops = opsOf(await legalize(fixed(ifInIf(), 8000, [1, 1])));
    expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
    expect(ops).toContain('tflite.SUB');
    expect(ops).toContain('tflite.MEAN');
    expect(ops).not.toContain('tflite.MUL');
    expect(ops).not.toContain('tflite.SUM');
  });

  it('sr left an input, x [1,1]: every shape If resolves in both branches, the rate is chosen at run time', async () => {
    const ops = opsOf(await legalize(fixed(ifInIf(), undefined, [1, 1])));
    expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
    expect(ops.some((op) => op === 'tflite.SELECT_V2' || op === 'tflite.IF')).toBe(true);
    expect(ops).toContain('tflite.MUL');
    expect(ops).toContain('tflite.SUB');
  });

  it('sr left an input, x [1,4]: refused at the rate If, naming the --input-value that fixes it', async () => {
    const error = await legalize(fixed(ifInIf(), undefined, [1, 4])).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const diagnostic = (error as ModelpassError).diagnostics.find((d) => d.location?.node === 'if_rate');
    expect(diagnostic?.reason).toMatch(/its condition is computed from the value of input 'sr': fix it for the conversion \(modelpass convert --input-value sr=…\)/);
  });

  it('sr fixed, x left symbolic: the shape If in the taken branch is refused naming --input-shape x=…', async () => {
    const error = await legalize(fixed(ifInIf(), 16000, undefined)).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const diagnostic = (error as ModelpassError).diagnostics.find((d) => d.location?.node === 'if_length');
    expect(diagnostic?.reason).toMatch(/its condition reads the shape of input 'x', which is not static: give it \(--input-shape x=…\)/);
    expect(diagnostic?.reason).not.toMatch(/--input-value/);
  });

  it("an output declared by the other branch's shape takes the taken branch's static shape (QA s17 round 15)", async () => {
    // torch declares a scripted If by the branch its trace took: y = (sr == 16000 ? ReduceSum(x, 0) : x) * 2 traced
    // at 16000 declares y [4]; at 8000 ONNX Runtime computes [2,4] (a warning only), and so must the .tflite.
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 4]));
    const sr = b.input('sr', tensorType('int64', []));
    const summed = branch('summed', (s) => s.op1('onnx.ReduceSum', [x, s.constant(i64([0]), 'axes')], { keepdims: attrs.int(0) }, { name: 'sum', outputs: ['summed_x'] }));
    const kept = branch('kept', (k) => k.op1('onnx.Identity', [x], {}, { name: 'keep', outputs: ['kept_x'] }));
    const isWide = b.op1('onnx.Equal', [sr, b.constant(scalarI64(16000), 'rate')], {}, { name: 'is_wide', outputs: ['is_wide'] });
    const [picked] = b.op('onnx.If', [isWide], { then_branch: attrs.graph(summed), else_branch: attrs.graph(kept) }, { outputs: 1, name: 'if_rate' });
    const y = b.op1('onnx.Mul', [picked!, b.constant(Tensor.scalar('float32', 2), 'two')], {}, { name: 'double', outputs: ['y'] });
    y.type = tensorType('float32', [4]);
    b.output(y);
    const narrow = await legalize(fixed(b.model({ onnx: 17 }), 8000, undefined));
    expect(narrow.graph.outputs[0]!.type).toEqual(tensorType('float32', [2, 4]));
    expect(opsOf(narrow).filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  });

  it('conditionInputs tells the values a condition reads from the shapes it reads', () => {
    const model = ifInIf();
    const rate = model.graph.nodeList().find((node) => node.name === 'if_rate')!;
    expect(conditionInputs(rate)).toEqual({ values: [model.graph.inputs[1]], shapes: [] });
    const length = [...model.graph.allNodes()].find((node) => node.name === 'if_length')!;
    expect(conditionInputs(length)).toEqual({ values: [], shapes: [model.graph.inputs[0]] });
  });
});
