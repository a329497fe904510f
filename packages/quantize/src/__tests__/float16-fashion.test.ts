/**
 * convert-float16 on the Fashion-MNIST fixtures: float16 runs in ONNX Runtime with outputs within
 * float16 tolerance of float32 and (nearly) the same predictions, files about half the size, both
 * float16 and bfloat16 files pass ONNX's full check; keep-io and keep behave as documented.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, evaluateAccuracy, FASHION_MNIST_DIR, loadFashionMnist, runOrt } from '@modelpass/runtime';
import { onnxChecker, runPipeline } from './weights-helpers.js';

const root = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup'`);
const work = mkdtempSync(join(tmpdir(), 'modelpass-float16-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const testSet = loadFashionMnist({ split: 'test', limit: 2000 });
const SHAPES: Readonly<Record<string, readonly number[]>> = { 'fashion-mlp': [784], 'fashion-cnn': [1, 28, 28], 'fashion-transformer': [28, 28], 'fashion-transformer-opset17': [28, 28] };

function batchOf(name: string, count: number): Tensor {
  const pixels = (testSet.samples.data() as Uint8Array).subarray(0, count * 784);
  return Tensor.fromValues('float32', [count, ...SHAPES[name]!], Array.from(pixels, (p) => p / 255));
}

describe('convert-float16', () => {
  for (const name of ['fashion-mlp', 'fashion-cnn', 'fashion-transformer', 'fashion-transformer-opset17']) {
    it(`${name}: float16 in ORT within float16 tolerance, same accuracy ±0.2 pp, file ≈ 0.5×; bfloat16 checker-valid`, async () => {
      const source = join(root, name, 'model.onnx');
      const model = readOnnx(source);
      const run = await runPipeline(model, 'convert-float16');
      const out = join(work, `${name}-fp16.onnx`);
      writeOnnx(model, out);
      onnxChecker(out);
      const ratio = statSync(out).size / statSync(source).size;
      const input = batchOf(name, 64);
      const reference = (await runOrt(source, { input })).get('logits')!;
      const half = (await runOrt(out, { input })).get('logits')!;
      expect(half.dtype).toBe('float32'); // keep-io
      const ref = reference.data() as Float32Array;
      const got = half.data() as Float32Array;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - got[i]!) / (1 + Math.abs(ref[i]!)));
      const before = (await evaluateAccuracy(source, testSet)).accuracy;
      const after = (await evaluateAccuracy(out, testSet)).accuracy;
      console.log(`${name} convert-float16: ${run.statistics.get('nodes-converted')} nodes converted, ${run.statistics.get('nodes-kept') ?? 0} kept, ${run.statistics.get('casts-inserted')} casts; max |Δlogit|/(1+|logit|) ${worst.toExponential(2)}; accuracy on 2,000 ${(100 * before).toFixed(2)}% → ${(100 * after).toFixed(2)}%; file ${ratio.toFixed(3)}×`);
      expect(worst).toBeLessThan(2e-2);
      expect(Math.abs(after - before)).toBeLessThanOrEqual(0.002);
      expect(ratio).toBeGreaterThan(0.45);
      expect(ratio).toBeLessThan(0.56);

      const bf16 = readOnnx(source);
      const bfRun = await runPipeline(bf16, 'convert-float16{type=bfloat16}');
      expect(bfRun.warnings.join('\n')).toMatch(/bfloat16 computation, which ONNX Runtime's CPU provider cannot run/);
      expect(run.warnings.join('\n')).not.toMatch(/bfloat16/);
      const bfOut = join(work, `${name}-bf16.onnx`);
      writeOnnx(bf16, bfOut);
      onnxChecker(bfOut);
      expect([...bf16.graph.constants].some((c) => c.constant?.dtype === 'bfloat16')).toBe(true);
    }, 120_000);
  }

  it('keep-io=false takes and returns float16; keep=[Softmax] leaves Softmax float32', async () => {
    const model = readOnnx(join(root, 'fashion-transformer', 'model.onnx'));
    await runPipeline(model, 'convert-float16{keep-io=false keep=[Softmax]}');
    expect(model.graph.inputs[0]!.type).toMatchObject({ dtype: 'float16' });
    for (const node of model.graph.nodesOf('onnx.Softmax')) expect(node.input(0).type).toMatchObject({ dtype: 'float32' });
    const out = join(work, 'transformer-fp16-io.onnx');
    writeOnnx(model, out);
    onnxChecker(out);
    const input = batchOf('fashion-transformer', 8);
    const halfInput = Tensor.fromValues('float16', input.shape, Array.from(input.data() as Float32Array));
    const logits = (await runOrt(out, { input: halfInput })).get('logits')!;
    expect(logits.dtype).toBe('float16');
  });
});
