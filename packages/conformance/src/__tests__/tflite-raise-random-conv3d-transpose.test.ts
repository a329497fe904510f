/**
 * raise-tflite rules for RANDOM_UNIFORM, RANDOM_STANDARD_NORMAL, MULTINOMIAL and CONV_3D_TRANSPOSE, and RFFT2D's refusal
 * (issue 12 item 2: tf2onnx op names raise-tflite refused, 'has no ONNX lowering yet'; the random ops are also
 * legalize-tflite's own output). Random draws differ between TFLite and ORT by design, so for them both runtimes are
 * held to the same shapes, dtypes, ranges and seeded moments; CONV_3D_TRANSPOSE is compared value by value.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

function finish(graph: Graph, outputs: Value[]): Model {
  graph.setOutputs(outputs);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

function raised(model: Model): Model {
  raiseFromTflite(model, registerTfliteDialect(createOpRegistry()), { opset: 13 });
  expect(model.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
  return model;
}

const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const varianceOf = (values: number[]) => meanOf(values.map((v) => (v - meanOf(values)) ** 2));

describe('raise-tflite: RANDOM_UNIFORM, RANDOM_STANDARD_NORMAL, MULTINOMIAL', () => {
  const build = (seed: number) => () => {
    const graph = new Graph('main');
    const logits = graph.addInput('logits', tensorType('float32', [2, 3]));
    const shape = graph.addConstant('shape', Tensor.fromValues('int32', [2], [40, 100]));
    const samples = graph.addConstant('samples', Tensor.scalar('int32', 4000));
    const seeds = { seed: attrs.int(seed), seed2: attrs.int(seed === 0 ? 0 : 1) };
    return finish(graph, [
      ...add(graph, 'RANDOM_UNIFORM', [shape], [['uniform', tensorType('float32', [40, 100])]], seeds),
      ...add(graph, 'RANDOM_STANDARD_NORMAL', [shape], [['normal', tensorType('float32', [40, 100])]], seeds),
      ...add(graph, 'MULTINOMIAL', [logits, samples], [['classes', tensorType('int64', [2, 4000])]], seeds),
    ]);
  };
  const feeds = { logits: Tensor.fromValues('float32', [2, 3], [Math.log(0.7), Math.log(0.2), Math.log(0.1), 0, 0, -30]) };

  it('TFLite 2.9 and ORT on the raised model draw the same distributions (shapes, dtypes, ranges, moments)', async () => {
    for (const seed of [0, 7]) {
      const onTflite = await new TfliteEngine().run(build(seed)(), feeds);
      const onOrt = await runOrt(raised(build(seed)()), feeds);
      for (const outputs of [onTflite, onOrt]) {
        const uniform = outputs.get('uniform')!;
        const normal = outputs.get('normal')!;
        const classes = outputs.get('classes')!;
        expect([uniform.dtype, normal.dtype, classes.dtype]).toEqual(['float32', 'float32', 'int64']);
        expect([uniform.shape, normal.shape, classes.shape]).toEqual([[40, 100], [40, 100], [2, 4000]]);
        const u = uniform.toNumbers();
        expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...u)).toBeLessThan(1);
        expect(Math.abs(meanOf(u) - 0.5)).toBeLessThan(0.03);
        expect(Math.abs(varianceOf(u) - 1 / 12)).toBeLessThan(0.01);
        const n = normal.toNumbers();
        expect(Math.abs(meanOf(n))).toBeLessThan(0.07);
        expect(Math.abs(varianceOf(n) - 1)).toBeLessThan(0.1);
        const c = classes.toNumbers();
        const share = (row: number, k: number) => c.slice(row * 4000, row * 4000 + 4000).filter((v) => v === k).length / 4000;
        [0.7, 0.2, 0.1].forEach((p, k) => expect(Math.abs(share(0, k) - p), `class ${k}`).toBeLessThan(0.03));
        expect(share(1, 2)).toBe(0);
        expect(Math.abs(share(1, 0) - 0.5)).toBeLessThan(0.04);
      }
    }
  });

  it('a seed pair gives ONNX its seed; a run-time shape gives RandomUniformLike/RandomNormalLike of that shape', async () => {
    // TFLite's seed pair (7, 1) becomes ONNX's seed 7; (0, 0), "seed at random", none.
    const seedsOf = (model: Model) => model.graph.nodeList().filter((n) => n.op !== 'onnx.Constant').map((n) => [n.op, n.optionalAttr('seed', 'float')]);
    expect(seedsOf(raised(build(7)()))).toEqual([['onnx.RandomUniform', 7], ['onnx.RandomNormal', 7], ['onnx.Multinomial', 7]]);
    expect(seedsOf(raised(build(0)()))).toEqual([['onnx.RandomUniform', undefined], ['onnx.RandomNormal', undefined], ['onnx.Multinomial', undefined]]);
    const graph = new Graph('main');
    const shape = graph.addInput('shape', tensorType('int32', [3]));
    const model = raised(finish(graph, [
      ...add(graph, 'RANDOM_UNIFORM', [shape], [['u', tensorType('float32', [null, null, null])]]),
      ...add(graph, 'RANDOM_STANDARD_NORMAL', [shape], [['n', tensorType('float32', [null, null, null])]]),
    ]));
    const out = await runOrt(model, { shape: Tensor.fromValues('int32', [3], [2, 30, 50]) });
    expect(out.get('u')!.shape).toEqual([2, 30, 50]);
    expect(out.get('n')!.shape).toEqual([2, 30, 50]);
    expect(Math.abs(meanOf(out.get('u')!.toNumbers()) - 0.5)).toBeLessThan(0.03);
  });
});

describe('raise-tflite: CONV_3D_TRANSPOSE', () => {
  it('the raised model gives ORT the TFLite runtime outputs (SAME stride 2, VALID, dilation, bias, RELU)', async () => {
    const build = () => {
      const graph = new Graph('main');
      const x = graph.addInput('x', tensorType('float32', [1, 3, 4, 3, 2]));
      const filter = graph.addConstant('filter', ramp([2, 3, 2, 4, 2], 0.5, 0.3));
      const square = graph.addConstant('square', ramp([2, 2, 3, 2, 2], 0.5, 1.1));
      const bias = graph.addConstant('bias', Tensor.fromValues('float32', [2], [0.25, -0.5]));
      const i32 = (name: string, values: number[]) => graph.addConstant(name, Tensor.fromValues('int32', [5], values));
      const options = (padding: string, s: number[], d = [1, 1, 1], fused = 'NONE') => ({
        padding: attrs.string(padding), stride_d: attrs.int(s[0]!), stride_h: attrs.int(s[1]!), stride_w: attrs.int(s[2]!),
        dilation_d_factor: attrs.int(d[0]!), dilation_h_factor: attrs.int(d[1]!), dilation_w_factor: attrs.int(d[2]!), fused_activation_function: attrs.string(fused),
      });
      return finish(graph, [
        ...add(graph, 'CONV_3D_TRANSPOSE', [i32('out_same', [1, 6, 8, 6, 4]), filter, x], [['same', tensorType('float32', [1, 6, 8, 6, 4])]], options('SAME', [2, 2, 2])),
        ...add(graph, 'CONV_3D_TRANSPOSE', [i32('out_valid', [1, 4, 9, 6, 4]), filter, x], [['valid', tensorType('float32', [1, 4, 9, 6, 4])]], options('VALID', [1, 2, 2])),
        ...add(graph, 'CONV_3D_TRANSPOSE', [i32('out_odd', [1, 5, 7, 5, 4]), filter, x], [['odd', tensorType('float32', [1, 5, 7, 5, 4])]], options('SAME', [2, 2, 2])),
        ...add(graph, 'CONV_3D_TRANSPOSE', [i32('out_dil', [1, 3, 4, 3, 2]), square, x, bias], [['dilated_bias_relu', tensorType('float32', [1, 3, 4, 3, 2])]], options('SAME', [1, 1, 1], [1, 2, 1], 'RELU')),
      ]);
    };
    const feeds = { x: ramp([1, 3, 4, 3, 2], 1, 0.6) };
    const onTflite = await new TfliteEngine().run(build(), feeds);
    const onOrt = await runOrt(raised(build()), feeds);
    for (const [name, expected] of onTflite) {
      const want = expected.toNumbers();
      const got = onOrt.get(name)!.toNumbers();
      expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
      expect(Math.max(...want.map((v, i) => Math.abs(v - got[i]!))), name).toBeLessThanOrEqual(1e-5);
    }
    expect(Math.min(...onOrt.get('dilated_bias_relu')!.toNumbers())).toBe(0);
  });
});

describe('raise-tflite: RFFT2D', () => {
  it('is refused by node: its complex64 output has no ONNX Runtime type', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1, 4, 8]));
    const lengths = graph.addConstant('fft_length', Tensor.fromValues('int32', [2], [4, 8]));
    const model = finish(graph, add(graph, 'RFFT2D', [x, lengths], [['spectrum', tensorType('complex64', [1, 4, 5])]]));
    let error: unknown;
    try {
      raiseFromTflite(model, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    } catch (e) {
      error = e;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/node 'spectrum' \(tflite\.RFFT2D\).*complex64.*cannot be raised faithfully/);
  });
});
