/**
 * quantize-dynamic on the Fashion-MNIST fixtures: both forms keep accuracy on all 10,000 test
 * images within 0.5 pp, pass ONNX's full check and run in ONNX Runtime; the integer form is the
 * chain ORT fuses (its optimized graph holds MatMulIntegerToFloat / DynamicQuantizeMatMul).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, evaluateAccuracy, FASHION_MNIST_DIR, loadFashionMnist, OrtRunner } from '@modelpass/runtime';
import { linearModel, maxAbsDiff, onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const root = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup'`);
const work = mkdtempSync(join(tmpdir(), 'modelpass-qdynamic-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const testSet = loadFashionMnist({ split: 'test' });
const accuracyOf = async (path: string) => (await evaluateAccuracy(path, testSet)).accuracy;

/** Op types of the graph ORT runs after its optimizations (written with optimizedModelFilePath). */
async function ortOptimizedOps(path: string): Promise<string[]> {
  const optimized = join(work, 'optimized.onnx');
  const runner = new OrtRunner({ sessionOptions: { optimizedModelFilePath: optimized, graphOptimizationLevel: 'all' } });
  try {
    await runner.describe(path);
  } finally {
    await runner.dispose();
  }
  const ops = [...readOnnx(optimized).graph.nodes()].map((node) => node.op.slice(node.op.lastIndexOf('.') + 1));
  return ['MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'MatMulInteger', 'ConvInteger', 'DynamicQuantizeLinear'].map((op) => `${op}×${ops.filter((o) => o === op).length}`).filter((entry) => !entry.endsWith('×0'));
}

describe('quantize-dynamic', () => {
  for (const name of ['fashion-mlp', 'fashion-transformer', 'fashion-cnn']) {
    for (const format of ['integer', 'dqlinear']) {
      it(`${name} format=${format}: drop ≤ 0.5 pp on 10k test images, checker-valid`, async () => {
        const source = join(root, name, 'model.onnx');
        const before = await accuracyOf(source);
        const model = readOnnx(source);
        const run = await runPipeline(model, `quantize-dynamic{format=${format}}`);
        const out = join(work, `${name}-${format}.onnx`);
        writeOnnx(model, out);
        onnxChecker(out);
        const after = await accuracyOf(out);
        const drop = 100 * (before - after);
        const ratio = statSync(out).size / statSync(source).size;
        const fused = await ortOptimizedOps(out);
        console.log(`${name} quantize-dynamic{format=${format}}: ${(100 * after).toFixed(2)}% (fp32 ${(100 * before).toFixed(2)}%, drop ${drop.toFixed(2)} pp), file ${ratio.toFixed(3)}×, ${run.statistics.get('layers-quantized')} layers; ORT graph: ${fused.join(', ')}`);
        expect(drop).toBeLessThanOrEqual(0.5);
        expect(ratio).toBeLessThan(0.4);
        // Conv stays float by default (ConvInteger is slower than float Conv in ORT)
        expect(fused.filter((op) => op.startsWith('ConvInteger'))).toEqual([]);
        // ORT fuses every MatMul/Gemm of the integer form; of the QDQ form only MatMuls over 3-D activations (see qdq-form.ts)
        if (format !== 'integer') return;
        const fusedLayers = fused.filter((op) => op.startsWith('MatMulIntegerToFloat') || op.startsWith('DynamicQuantizeMatMul')).reduce((n, op) => n + Number(op.split('×')[1]), 0);
        expect(fusedLayers).toBe(run.statistics.get('layers-quantized')!);
        expect(fused.filter((op) => op.startsWith('MatMulInteger×'))).toEqual([]);
      }, 120_000);
    }
  }

  it('Gemm with alpha/beta, per tensor and uint8 weights: outputs close to float', async () => {
    for (const options of ['', 'per-channel=false', 'weights=uint8', 'format=dqlinear weights=uint8 per-channel=false', 'format=dqlinear']) {
      const model = linearModel(100, 24, { alpha: 0.5, beta: 2 });
      const feeds = { x: randomTensor([5, 100], 9, 3) };
      const reference = await new OrtRunner().run(model, feeds);
      await runPipeline(model, `quantize-dynamic{${options}}`);
      const path = join(work, 'linear-dynamic.onnx');
      writeOnnx(model, path);
      onnxChecker(path);
      const runner = new OrtRunner();
      const outputs = await runner.run(path, feeds);
      await runner.dispose();
      for (const name of ['y', 'z']) {
        const range = Math.max(...Array.from(reference.get(name)!.data() as Float32Array, Math.abs));
        expect(maxAbsDiff(outputs.get(name)!, reference.get(name)!) / range, `${options} ${name}`).toBeLessThan(0.02);
      }
    }
  });

  it('unknown skip names and bad op lists are errors naming the option', async () => {
    await expect(runPipeline(linearModel(8, 4), 'quantize-dynamic{skip=[nope]}')).rejects.toThrow(/option 'skip'.*'nope'/);
    await expect(runPipeline(linearModel(8, 4), 'quantize-dynamic{ops=[Relu]}')).rejects.toThrow(/ops/);
  });
});

describe('quantize-dynamic on Conv with uint8 weights', () => {
  it('fashion-cnn by default: Conv left float with no warning, MatMul/Gemm quantized', async () => {
    const model = readOnnx(join(root, 'fashion-cnn', 'model.onnx'));
    const run = await runPipeline(model, 'quantize-dynamic');
    expect([...model.graph.nodesOf('onnx.ConvInteger')]).toHaveLength(0);
    expect([...model.graph.nodesOf('onnx.Conv')]).toHaveLength(2);
    expect(run.statistics.get('layers-quantized')).toBe(2);
    expect(run.warnings.filter((w) => w.includes('ConvInteger'))).toEqual([]);
  });

  it('fashion-cnn weights=uint8: Conv on request warns, ConvInteger gets per-tensor weights (ORT takes one zero point), still within 0.5 pp', async () => {
    const source = join(root, 'fashion-cnn', 'model.onnx');
    const before = await accuracyOf(source);
    const model = readOnnx(source);
    const run = await runPipeline(model, 'quantize-dynamic{weights=uint8 ops=[MatMul,Gemm,Conv]}');
    expect(run.warnings.some((w) => w.includes('ConvInteger'))).toBe(true);
    const conv = [...model.graph.nodesOf('onnx.ConvInteger')];
    expect(conv).toHaveLength(2);
    for (const node of conv) expect(node.input(3).constant!.rank).toBe(0);
    const out = join(work, 'cnn-uint8.onnx');
    writeOnnx(model, out);
    onnxChecker(out);
    expect(100 * (before - (await accuracyOf(out)))).toBeLessThanOrEqual(0.5);
  }, 60_000);
});
