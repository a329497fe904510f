/**
 * A weight read by several layers (a Siamese branch applied to two inputs, the same Conv applied
 * twice, tied layers) is quantized once and stored once by quantize-dynamic and quantize-weights
 * (issue 9: each layer got its own copy, the file held the weight once per layer); each layer keeps
 * its own DequantizeLinear/MatMulNBits/MatMulInteger node, and ORT still fuses every one of them.
 * quantize-static already stored it once (compact-qdq merges identical initializers): checked too, with
 * its report, which claimed SQNR ∞ for the first layer's weight (its record named the merged-away copy).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model, type Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { OrtRunner } from '@modelpass/runtime';
import { transformPasses } from '@modelpass/transforms';
import { cosine, onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-shared-weights-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Two inputs through one shared MLP (Gemm transB=1, then MatMul [K, N]), distance out. */
function siamese(): Model {
  const b = new GraphBuilder();
  const a = b.input('a', tensorType('float32', ['batch', 64]));
  const c = b.input('c', tensorType('float32', ['batch', 64]));
  const w1 = b.constant(randomTensor([96, 64], 1, 0.3), 'w1');
  const b1 = b.constant(randomTensor([96], 2, 0.1), 'b1');
  const w2 = b.constant(randomTensor([96, 32], 3, 0.3), 'w2');
  const branch = (x: typeof a, side: string) => {
    const h = b.op1('onnx.Gemm', [x, w1, b1], { transB: attrs.int(1) }, { name: `${side}_gemm` });
    const r = b.op1('onnx.Relu', [h], {}, { name: `${side}_relu` });
    return b.op1('onnx.MatMul', [r, w2], {}, { name: `${side}_matmul` });
  };
  const d = b.op1('onnx.Sub', [branch(a, 'left'), branch(c, 'right')], {}, { name: 'sub', outputs: ['d'] });
  d.type = tensorType('float32', ['batch', 32]);
  b.output(d);
  return b.model({ onnx: 13 });
}

/**
 * The same Conv (weight and bias) applied twice, then a float ReduceMean (a Conv writing a graph output
 * stays float). `groups` 4: narrow groups that quantize-static merges (grouped-convs=merge).
 */
function convTwice(groups = 1): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 16, 8, 8]));
  const w = b.constant(randomTensor([16, 16 / groups, 3, 3], 4, 0.3), 'conv.weight');
  const bias = b.constant(randomTensor([16], 5, 0.1), 'conv.bias');
  const conv = { pads: attrs.ints([1, 1, 1, 1]), group: attrs.int(groups) };
  const once = b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, w, bias], conv, { name: 'conv1' })], {}, { name: 'relu1' });
  const twice = b.op1('onnx.Relu', [b.op1('onnx.Conv', [once, w, bias], conv, { name: 'conv2' })], {}, { name: 'relu2' });
  const y = b.op1('onnx.ReduceMean', [twice], { axes: attrs.ints([2, 3]) }, { name: 'mean', outputs: ['y'] });
  y.type = tensorType('float32', [1, 16, 1, 1]);
  b.output(y);
  return b.model({ onnx: 13 });
}

interface Written {
  readonly path: string;
  /** Initializers with at least `minElements` elements: name → element count. */
  readonly large: Map<string, number>;
  readonly statistics: ReadonlyMap<string, number>;
}

/** Lowers the quant<> types a materialize=false run left (transforms' materialize-qdq). */
async function materialize(model: Model): Promise<void> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  await new PassManager({ environment }).run(model, 'materialize-qdq');
}

async function quantizeAndWrite(model: Model, pipeline: string, name: string, minElements = 512): Promise<Written> {
  const [first, then] = pipeline.split(',');
  const run = await runPipeline(model, first!);
  if (then === 'materialize-qdq') await materialize(model);
  const path = join(work, `${name}.onnx`);
  writeOnnx(model, path);
  onnxChecker(path);
  const large = new Map(readOnnx(path).graph.constants.filter((value) => value.constant!.size >= minElements).map((value) => [value.name, value.constant!.size]));
  return { path, large, statistics: run.statistics };
}

async function outputsOf(source: Model | string, feeds: Record<string, Tensor>): Promise<Tensor[]> {
  const runner = new OrtRunner();
  try {
    const outputs = await runner.run(source, feeds);
    return [...outputs.values()];
  } finally {
    await runner.dispose();
  }
}

/** Op types of the graph ORT runs after all its optimizations. */
async function optimizedOps(path: string): Promise<string[]> {
  const optimized = path.replace(/\.onnx$/, '.ort.onnx');
  const runner = new OrtRunner({ sessionOptions: { optimizedModelFilePath: optimized, graphOptimizationLevel: 'all' } });
  try {
    await runner.describe(path);
  } finally {
    await runner.dispose();
  }
  return [...readOnnx(optimized).graph.nodes()].map((node) => node.op.slice(node.op.lastIndexOf('.') + 1));
}

const count = (ops: readonly string[], op: string) => ops.filter((o) => o === op).length;

describe('a weight shared by two layers is stored once', () => {
  const siameseFeeds = { a: randomTensor([4, 64], 11), c: randomTensor([4, 64], 12) };

  for (const pipeline of ['quantize-dynamic', 'quantize-dynamic{format=dqlinear}', 'quantize-dynamic{weights=uint8 per-channel=false}']) {
    it(`${pipeline}: Siamese branch — one int8 copy of each weight, ORT fuses all four layers`, async () => {
      const model = siamese();
      const reference = await outputsOf(siamese(), siameseFeeds);
      const written = await quantizeAndWrite(model, pipeline, pipeline.replace(/\W+/g, '_'));
      // w1 (96×64) and w2 (96×32) once each, not twice
      expect([...written.large.values()].sort((x, y) => x - y)).toEqual([3072, 6144]);
      expect(written.statistics.get('layers-quantized')).toBe(4);
      expect(written.statistics.get('weights-shared')).toBe(2);
      expect(written.statistics.get('weight-bytes-before')).toBe((96 * 64 + 96 * 32) * 4);
      const quantized = await outputsOf(written.path, siameseFeeds);
      expect(cosine(quantized[0]!, reference[0]!)).toBeGreaterThan(0.999);
      const ops = await optimizedOps(written.path);
      if (!pipeline.includes('dqlinear')) expect(count(ops, 'DynamicQuantizeMatMul') + count(ops, 'MatMulIntegerToFloat')).toBe(4);
    }, 60_000);
  }

  for (const pipeline of ['quantize-weights', 'quantize-weights{method=hqq}', 'quantize-weights{method=gptq samples=16}', 'quantize-weights{method=gptq samples=16 sequential=true}', 'quantize-weights{bits=8}']) {
    it(`${pipeline}: Siamese branch — one quantized copy of each weight`, async () => {
      const model = siamese();
      const reference = await outputsOf(siamese(), siameseFeeds);
      const written = await quantizeAndWrite(model, pipeline, pipeline.replace(/\W+/g, '_'), 1024);
      // 4-bit: B holds two codes a byte (3072 and 1536 bytes); 8-bit: the codes as they are
      expect(written.large.size).toBe(2);
      expect(written.statistics.get('weights-shared')).toBe(2);
      expect(written.statistics.get('shared-weights-copied') ?? 0).toBe(0);
      const quantized = await outputsOf(written.path, siameseFeeds);
      expect(cosine(quantized[0]!, reference[0]!)).toBeGreaterThan(pipeline.includes('bits=8') ? 0.999 : pipeline.includes('gptq') ? 0.97 : 0.98);
      const ops = await optimizedOps(written.path);
      if (!pipeline.includes('bits=8')) expect(count(ops, 'MatMulNBits')).toBe(4);
    }, 60_000);
  }

  it('quantize-dynamic{ops=[Conv]}: the same Conv twice — one ConvInteger weight and one broadcast bias', async () => {
    const feeds = { x: randomTensor([1, 16, 8, 8], 13) };
    const model = convTwice();
    const reference = await outputsOf(convTwice(), feeds);
    const written = await quantizeAndWrite(model, 'quantize-dynamic{ops=[Conv]}', 'conv-twice-dynamic', 16);
    expect([...written.large.values()].sort((x, y) => x - y)).toEqual([16, 16, 2304]);
    expect(written.statistics.get('weights-shared')).toBe(1);
    expect(cosine((await outputsOf(written.path, feeds))[0]!, reference[0]!)).toBeGreaterThan(0.999);
  }, 60_000);

  for (const format of ['qdq', 'qoperator']) {
    it(`quantize-static{format=${format}}: the same Conv twice — one int8 weight, both Convs fused to QLinearConv`, async () => {
      const feeds = { x: randomTensor([1, 16, 8, 8], 13) };
      const model = convTwice();
      const reference = await outputsOf(convTwice(), feeds);
      const report = join(work, `conv-twice-${format}.report.json`);
      const written = await quantizeAndWrite(model, `quantize-static{format=${format} samples=16 report=${report}}`, `conv-twice-static-${format}`);
      expect([...written.large.values()]).toEqual([2304]);
      // The report measures both layers' weight against the float one: the same finite SQNR (the merged
      // duplicate's record named a removed initializer and claimed SQNR ∞, cosine 1).
      const weights = (JSON.parse(readFileSync(report, 'utf8')) as { tensors: { kind: string; node: string; sqnrDb: number | string; cosine: number }[] }).tensors.filter((t) => t.kind === 'weight');
      expect(weights.map((t) => t.node)).toEqual(['conv1', 'conv2']);
      for (const t of weights) {
        expect(typeof t.sqnrDb, t.node).toBe('number');
        expect(t.sqnrDb as number).toBeGreaterThan(30);
        expect(t.sqnrDb as number).toBeLessThan(70);
        expect(t.cosine).toBeLessThan(1);
      }
      expect(weights[0]!.sqnrDb).toBe(weights[1]!.sqnrDb);
      expect(cosine((await outputsOf(written.path, feeds))[0]!, reference[0]!)).toBeGreaterThan(0.99);
      const ops = await optimizedOps(written.path);
      expect(count(ops, 'QLinearConv')).toBe(2);
      expect(count(ops, 'Conv')).toBe(0);
    }, 60_000);
  }

  // quantize-static quantizes a shared weight once and both layers read that int8 constant (the lowered
  // path also merged copies afterwards; materialize=false → materialize-qdq and a TFLite export did not).
  for (const [label, groups, pipeline, elements] of [
    ['materialize=false then materialize-qdq', 1, 'quantize-static{samples=16 materialize=false},materialize-qdq', 2304],
    ['a narrow grouped Conv twice (groups merged)', 4, 'quantize-static{samples=16}', 2304],
    ['a narrow grouped Conv twice, materialize=false', 4, 'quantize-static{samples=16 materialize=false},materialize-qdq', 576],
  ] as const) {
    it(`quantize-static, ${label}: one int8 weight, ORT fuses both Convs`, async () => {
      const feeds = { x: randomTensor([1, 16, 8, 8], 13) };
      const model = convTwice(groups);
      const reference = await outputsOf(convTwice(groups), feeds);
      const written = await quantizeAndWrite(model, pipeline, `conv-twice-${groups}-${pipeline.length}`);
      expect([...written.large.values()]).toEqual([elements]);
      if (groups === 1) expect([...written.large.keys()]).toEqual(['conv.weight']);
      expect(cosine((await outputsOf(written.path, feeds))[0]!, reference[0]!)).toBeGreaterThan(0.99);
      const ops = await optimizedOps(written.path);
      expect(count(ops, 'QLinearConv')).toBe(2);
      expect(count(ops, 'Conv')).toBe(0);
    }, 60_000);
  }
});
