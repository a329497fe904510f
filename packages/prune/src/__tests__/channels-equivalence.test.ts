/**
 * The proof of the dependency groups. For random CNN-shaped graphs: pick the channels each
 * prunable group will lose, make them provably irrelevant (zero every weight that reads them — the
 * input slices of the consuming Conv/Gemm/MatMul layers — and shrink the producer rows that make
 * them by 1e-6, so that prune-channels' own L1 criterion picks exactly them), then run
 * `prune-channels`: ONNX Runtime must compute the same outputs (within 1e-5) from the model before
 * and after, the pruned model must pass verify-each and ONNX's checker, and its output shapes stay.
 * A missed dependency (a residual partner, a Concat offset, a Flatten block, an SE gate, a depthwise
 * or grouped Conv, a Split size) changes the outputs or breaks the model.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, loadTestDataSet, runOrt } from '@modelpass/runtime';
import { analyzeChannelDependencies, chooseKeptChannels, keptIndices } from '@modelpass/prune';
import { onnxChecker, runPrune } from './channels-harness.js';
import { Random, RandomCnn } from './channels-random-graphs.js';
import { MINIATURE_ZOO } from './channels-miniature-zoo.js';

afterAll(() => disposeSharedOrtRunner());

const RATIO = 0.5;

/** Chooses the removed channels at random (evenly per granularity block) and prepares the weights. */
function prepare(model: Model, random: Random): number {
  inferShapes(model, { mode: 'refresh' });
  const analysis = analyzeChannelDependencies(model);
  let removed = 0;
  for (const group of analysis.groups()) {
    if (group.reasons.length > 0) continue;
    // Random scores through the pass's own choice (granularity, protected Split/Slice ranges).
    const choice = chooseKeptChannels(group, Float64Array.from({ length: group.size }, () => random.next()), RATIO);
    if (!choice.kept) continue;
    group.kept = choice.kept;
    removed += group.size - choice.kept.length;
  }
  const scale = (tensor: Tensor, axis: number, keep: Set<number>, factor: number): Tensor => {
    const values = tensor.toNumbers();
    const dim = tensor.shape[axis]!;
    const inner = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < values.length; i++) if (!keep.has(Math.floor(i / inner) % dim)) values[i]! *= factor;
    return Tensor.fromValues(tensor.dtype, tensor.shape, values);
  };
  for (const param of analysis.params) {
    const keep = new Set(keptIndices(param.layout));
    if (param.roles.has('consumer')) param.value.setConstant(scale(param.value.constant!, param.axis, keep, 0));
    else if (param.roles.has('producer')) param.value.setConstant(scale(param.value.constant!, param.axis, keep, 1e-6));
  }
  for (const grouped of analysis.groupedWeights) {
    const weight = grouped.node.inputs[1]!.constant!;
    const keep = new Set(keptIndices(grouped.input));
    const [out, perGroup] = weight.shape as [number, number];
    const inner = weight.shape.slice(2).reduce((a, b) => a * b, 1);
    const values = weight.toNumbers();
    for (let o = 0; o < out; o++) {
      const block = Math.floor(o / (out / grouped.groups));
      for (let j = 0; j < perGroup; j++) if (!keep.has(block * perGroup + j)) for (let k = 0; k < inner; k++) values[(o * perGroup + j) * inner + k] = 0;
    }
    grouped.node.inputs[1]!.setConstant(Tensor.fromValues(weight.dtype, weight.shape, values));
  }
  return removed;
}

function input(seed: number): Tensor {
  const random = new Random(seed);
  return Tensor.fromValues('float32', [1, 3, 8, 8], Array.from({ length: 192 }, () => random.next() * 2 - 1));
}

async function checkSeed(seed: number): Promise<{ removed: number; blocks: string[] }> {
  const random = new Random(seed);
  const builder = new RandomCnn(random);
  const model = builder.build(random.int(2, 5));
  const removed = prepare(model, random);
  const reference = decodeOnnx(encodeOnnx(model));
  const { statistics } = await runPrune(model, `prune-channels{ratio=${RATIO}}`);
  const context = `seed ${seed}, blocks ${builder.blocks.join(' ')}`;
  expect(statistics['channels-removed'] ?? 0, context).toBe(removed);
  const feeds = { x: input(seed) };
  const before = await runOrt(reference, feeds);
  const after = await runOrt(model, feeds);
  for (const [name, expected] of before) {
    const actual = after.get(name)!;
    expect(actual.shape, `${context}: shape of ${name}`).toEqual(expected.shape);
    const e = expected.toNumbers();
    const a = actual.toNumbers();
    const worst = Math.max(...e.map((v, i) => Math.abs(v - a[i]!) / Math.max(1, Math.abs(v))));
    expect(worst, `${context}: ${name}`).toBeLessThanOrEqual(1e-5);
  }
  if (removed > 0 && seed % 5 === 0) expect(onnxChecker(model), context).toBe('');
  return { removed, blocks: builder.blocks };
}

describe('prune-channels keeps outputs when the removed channels are provably irrelevant', () => {
  it('on 40 random conv/residual/concat/depthwise/grouped/SE/split/slice/shuffle graphs', { timeout: 180_000 }, async () => {
    let prunedGraphs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const { removed } = await checkSeed(seed);
        if (removed > 0) prunedGraphs++;
      }),
      { numRuns: Number(process.env.CHANNEL_RUNS ?? 40), seed: Number(process.env.CHANNEL_SEED ?? 20261203) },
    );
    expect(prunedGraphs).toBeGreaterThan(Number(process.env.CHANNEL_RUNS ?? 40) * 0.75);
  });
});

describe('the same proof on the trained fixtures', () => {
  for (const name of ['fashion-cnn', 'fashion-mlp', 'fashion-transformer', 'fashion-transformer-opset17']) {
    it(name, { timeout: 60_000 }, async () => {
      const dir = new URL(`../../../../fixtures/models/${name}/`, import.meta.url).pathname;
      const model = readOnnx(`${dir}model.onnx`);
      const removed = prepare(model, new Random(7));
      expect(removed).toBeGreaterThan(0);
      const reference = decodeOnnx(encodeOnnx(model));
      const { statistics } = await runPrune(model, `prune-channels{ratio=${RATIO}}`);
      expect(statistics['channels-removed']).toBe(removed);
      const { inputs } = loadTestDataSet(`${dir}test_data_set_0`, reference);
      const before = await runOrt(reference, inputs);
      const after = await runOrt(model, inputs);
      for (const [output, expected] of before) {
        const e = expected.toNumbers();
        const a = after.get(output)!.toNumbers();
        expect(after.get(output)!.shape).toEqual(expected.shape);
        expect(Math.max(...e.map((v, i) => Math.abs(v - a[i]!) / Math.max(1, Math.abs(v))))).toBeLessThanOrEqual(1e-5);
      }
      expect(onnxChecker(model)).toBe('');
    });
  }
});

describe('the same proof on miniature torchvision-family nets', () => {
  for (const { name, build } of MINIATURE_ZOO) {
    it(name, { timeout: 60_000 }, async () => {
      const model = build(new Random(42));
      const removed = prepare(model, new Random(9));
      expect(removed).toBeGreaterThan(0);
      const reference = decodeOnnx(encodeOnnx(model));
      const { statistics } = await runPrune(model, `prune-channels{ratio=${RATIO}}`);
      expect(statistics['channels-removed']).toBe(removed);
      const random = new Random(3);
      const feeds = { image: Tensor.fromValues('float32', [1, 3, 32, 32], Array.from({ length: 3072 }, () => random.next() * 2 - 1)) };
      const e = (await runOrt(reference, feeds)).get('logits')!.toNumbers();
      const a = (await runOrt(model, feeds)).get('logits')!.toNumbers();
      expect(Math.max(...e.map((v, i) => Math.abs(v - a[i]!) / Math.max(1, Math.abs(v))))).toBeLessThanOrEqual(1e-5);
    });
  }
});
