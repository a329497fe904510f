import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType, type QuantParams } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { TfliteEngine, SeededRandom } from '@modelpass/runtime';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import type { ThirdPartyModel } from '../../../../tools/fixtures/third-party.d.mts';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-engine-'));
const engine = new TfliteEngine();
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function feedsFor(entry: ThirdPartyModel, seed: number): Map<string, Tensor> {
  const random = new SeededRandom(seed);
  const feeds = new Map<string, Tensor>();
  for (const input of entry.inputs) {
    const count = input.testShape.reduce((n, d) => n * d, 1);
    const low = input.fill.low ?? -1;
    const high = input.fill.high ?? 1;
    const values = Float32Array.from({ length: count }, () => random.uniform(low, high));
    feeds.set(input.name, Tensor.fromValues('float32', input.testShape, values));
  }
  return feeds;
}

describe('TFLite engine on MediaPipe models (TFLite 2.9 runtime)', () => {
  const runnable = models.filter((entry) => !entry.id.startsWith('mediapipe-selfie'));

  it.each(runnable.map((entry) => [entry.id, entry] as const))('%s: read → write gives bit-identical outputs', async (_id, entry) => {
    const model = readTflite(entry.path);
    const out = join(dir, `${entry.id}.tflite`);
    writeTflite(model, out);
    const feeds = feedsFor(entry, 7);
    const original = await engine.run(entry.path, feeds);
    const written = await engine.run(out, feeds);
    expect([...original.keys()]).toEqual(entry.outputs.map((output) => output.name));
    expect([...written.keys()]).toEqual([...original.keys()]);
    for (const [name, tensor] of original) {
      const other = written.get(name)!;
      expect(other.shape).toEqual(tensor.shape);
      expect(Buffer.from(other.bytes()).equals(Buffer.from(tensor.bytes()))).toBe(true);
    }
    // Outputs are not constant (a model that ignores its input would pass the check above trivially).
    const again = await engine.run(out, feedsFor(entry, 8));
    const first = [...written.values()][0]!;
    expect(Buffer.from([...again.values()][0]!.bytes()).equals(Buffer.from(first.bytes()))).toBe(false);
  });

  it('runs an in-memory tflite-dialect model', async () => {
    const entry = runnable[0]!;
    const model = readTflite(entry.path);
    const feeds = feedsFor(entry, 3);
    const fromFile = await engine.run(entry.path, feeds);
    const fromModel = await engine.run(model, feeds);
    for (const [name, tensor] of fromFile) expect(fromModel.get(name)!.toNumbers()).toEqual(tensor.toNumbers());
  });

  it('refuses a model with a custom op it has no kernel for, naming the op', async () => {
    const entry = models.find((m) => m.id === 'mediapipe-selfie-segmentation')!;
    const error = await engine.run(entry.path, feedsFor(entry, 1)).catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toContain("custom op 'Convolution2DTransposeBias'");
  });

  it('runs a batch of k samples on a model built for a batch of 1, sample by sample', async () => {
    const entry = runnable[0]!;
    const one = feedsFor(entry, 11).get('input')!;
    const two = feedsFor(entry, 12).get('input')!;
    const both = Tensor.fromBytes('float32', [2, 128, 128, 3], Buffer.concat([one.bytes(), two.bytes()]));
    const batched = await engine.run(entry.path, { input: both });
    const first = await engine.run(entry.path, { input: one });
    const second = await engine.run(entry.path, { input: two });
    for (const [name, tensor] of batched) {
      expect(tensor.shape[0]).toBe(2);
      expect(Buffer.from(tensor.bytes()).equals(Buffer.concat([first.get(name)!.bytes(), second.get(name)!.bytes()]))).toBe(true);
    }
  });

  it('checks feeds against the model', async () => {
    const entry = runnable[0]!;
    const error = await engine.run(entry.path, { input: Tensor.fromValues('float32', [1, 2], [0, 0]) }).catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toContain("input 'input'");
    expect(engine.describe(entry.path).inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [1, 128, 128, 3] }]);
  });
});

/** i, x → WHILE (i < 3) { i + 1, x · [2, 0.5, -1, 3] }: regions written as subgraphs. */
function whileModel(): Model {
  const graph = new Graph('main');
  const i0 = graph.addInput('i0', tensorType('int32', [1]));
  const x0 = graph.addInput('x0', tensorType('float32', [1, 4]));
  const loop = graph.createNode({ op: 'tflite.WHILE', inputs: [i0, x0], outputs: [{ name: 'i_final', type: tensorType('int32', [1]) }, { name: 'x_final', type: tensorType('float32', [1, 4]) }] });
  const cond = new Graph('cond');
  loop.setAttribute('cond_subgraph', attrs.graph(cond));
  const ci = cond.addInput('cond_i', tensorType('int32', [1]));
  cond.addInput('cond_x', tensorType('float32', [1, 4]));
  const less = cond.createNode({ op: 'tflite.LESS', inputs: [ci, cond.addConstant('limit', Tensor.fromValues('int32', [1], [3]))], outputs: [{ name: 'again', type: tensorType('bool', [1]) }] });
  cond.setOutputs([less.output(0)]);
  const body = new Graph('body');
  loop.setAttribute('body_subgraph', attrs.graph(body));
  const bi = body.addInput('body_i', tensorType('int32', [1]));
  const bx = body.addInput('body_x', tensorType('float32', [1, 4]));
  const next = body.createNode({ op: 'tflite.ADD', inputs: [bi, body.addConstant('one', Tensor.fromValues('int32', [1], [1]))], outputs: [{ name: 'next_i', type: tensorType('int32', [1]) }] });
  const scaled = body.createNode({ op: 'tflite.MUL', inputs: [bx, body.addConstant('factor', Tensor.fromValues('float32', [1, 4], [2, 0.5, -1, 3]))], outputs: [{ name: 'next_x', type: tensorType('float32', [1, 4]) }] });
  body.setOutputs([next.output(0), scaled.output(0)]);
  graph.setOutputs([loop.output(0), loop.output(1)]);
  return new Model(graph);
}

const inQ: QuantParams = { scale: [Math.fround(0.1)], zeroPoint: [2], bits: 8 };
const wQ: QuantParams = { scale: [0.01, 0.02, 0.03].map(Math.fround), zeroPoint: [0, 0, 0], axis: 0, bits: 8 };
const outQ: QuantParams = { scale: [Math.fround(0.05)], zeroPoint: [-3], bits: 8 };
const weights = Int8Array.from({ length: 54 }, (_, i) => ((i * 37) % 31) - 15);
const biases = [100, -250, 40];

/** A full-integer CONV_2D: int8 activations, per-channel int8 filter, int32 bias, RELU6 fused. */
function int8ConvModel(): Model {
  const graph = new Graph('main');
  const input = graph.addInput('input', tensorType('int8', [1, 4, 4, 2], inQ));
  const filter = graph.addConstant('filter', Tensor.fromValues('int8', [3, 3, 3, 2], weights, wQ));
  const bias = graph.addConstant('bias', Tensor.fromValues('int32', [3], biases, { scale: wQ.scale.map((s) => Math.fround(s * inQ.scale[0]!)), zeroPoint: [0, 0, 0], axis: 0, bits: 32 }));
  const conv = graph.createNode({
    op: 'tflite.CONV_2D',
    inputs: [input, filter, bias],
    outputs: [{ name: 'output', type: tensorType('int8', [1, 4, 4, 3], outQ) }],
    attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(1), stride_h: attrs.int(1), fused_activation_function: attrs.string('RELU6') },
  });
  graph.setOutputs([conv.output(0)]);
  return new Model(graph);
}

/** y = cond ? x · 2 : x + 10, the branches as IF's then/else regions. */
function ifModel(): Model {
  const graph = new Graph('main');
  const cond = graph.addInput('cond', tensorType('bool', [1]));
  const x = graph.addInput('x', tensorType('float32', [3]));
  const node = graph.createNode({ op: 'tflite.IF', inputs: [cond, x], outputs: [{ name: 'y', type: tensorType('float32', [3]) }] });
  const branch = (name: string, op: string, constant: number): Graph => {
    const body = new Graph(name);
    node.setAttribute(name === 'then' ? 'then_subgraph' : 'else_subgraph', attrs.graph(body));
    const input = body.addInput(`${name}_x`, tensorType('float32', [3]));
    const k = body.addConstant(`${name}_k`, Tensor.fromValues('float32', [1], [constant]));
    const result = body.createNode({ op, inputs: [input, k], outputs: [{ name: `${name}_y`, type: tensorType('float32', [3]) }] });
    body.setOutputs([result.output(0)]);
    return body;
  };
  branch('then', 'tflite.MUL', 2);
  branch('else', 'tflite.ADD', 10);
  graph.setOutputs([node.output(0)]);
  return new Model(graph);
}

describe('TFLite engine on models modelpass writes', () => {
  it('runs IF with then/else regions, also after read → write', async () => {
    const out = join(dir, 'if.tflite');
    writeTflite(ifModel(), out);
    const again = join(dir, 'if-again.tflite');
    writeTflite(readTflite(out), again);
    for (const path of [out, again]) {
      const x = Tensor.fromValues('float32', [3], [1, -2, 0.5]);
      expect((await engine.run(path, { cond: Tensor.fromValues('bool', [1], [true]), x })).get('y')!.toNumbers()).toEqual([2, -4, 1]);
      expect((await engine.run(path, { cond: Tensor.fromValues('bool', [1], [false]), x })).get('y')!.toNumbers()).toEqual([11, 8, 10.5]);
    }
  });

  it('runs a WHILE loop whose cond and body are regions', async () => {
    const out = join(dir, 'while.tflite');
    writeTflite(whileModel(), out);
    const result = await engine.run(out, { i0: Tensor.fromValues('int32', [1], [0]), x0: Tensor.fromValues('float32', [1, 4], [1, 1, 1, 1]) });
    expect(result.get('i_final')!.toNumbers()).toEqual([3]);
    expect(result.get('x_final')!.toNumbers()).toEqual([8, 0.125, -1, 27]);
  });

  it('runs a per-channel int8 convolution as the quantization parameters say (within 1 LSB of exact arithmetic)', async () => {
    const out = join(dir, 'conv-int8.tflite');
    writeTflite(int8ConvModel(), out);
    const random = new SeededRandom(5);
    const x = Int8Array.from({ length: 32 }, () => random.integer(-128, 127));
    const result = (await engine.run(out, { input: Tensor.fromValues('int8', [1, 4, 4, 2], x) })).get('output')!;
    expect(result.dtype).toBe('int8');
    const got = result.toNumbers();
    let exact = 0;
    for (let y = 0; y < 4; y++) {
      for (let xx = 0; xx < 4; xx++) {
        for (let oc = 0; oc < 3; oc++) {
          let acc = biases[oc]!;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1;
              const ix = xx + kx - 1;
              if (iy < 0 || iy > 3 || ix < 0 || ix > 3) continue;
              for (let ic = 0; ic < 2; ic++) acc += (x[(iy * 4 + ix) * 2 + ic]! - inQ.zeroPoint[0]!) * weights[((oc * 3 + ky) * 3 + kx) * 2 + ic]!;
            }
          }
          const real = acc * inQ.scale[0]! * wQ.scale[oc]!;
          const q = Math.min(117, Math.max(-3, Math.round(real / outQ.scale[0]!) + outQ.zeroPoint[0]!));
          const actual = got[(y * 4 + xx) * 3 + oc]!;
          expect(Math.abs(actual - q)).toBeLessThanOrEqual(1);
          if (actual === q) exact++;
        }
      }
    }
    expect(exact).toBeGreaterThan(40);
    expect(new Set(got).size).toBeGreaterThan(5);
  });
});
