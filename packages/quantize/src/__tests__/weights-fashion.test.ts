/**
 * quantize-weights on the Fashion-MNIST fixtures: int4 (rtn, gptq, hqq) and int8 weight-only keep
 * accuracy on all 10,000 test images within the bounds (int4 ≤ 1.5 pp), the files pass
 * ONNX's full check, run in ONNX Runtime and shrink.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, evaluateAccuracy, FASHION_MNIST_DIR, loadFashionMnist } from '@modelpass/runtime';
import { onnxChecker, runPipeline } from './weights-helpers.js';

const root = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup' (tools/setup.sh installs Debian's dataset-fashion-mnist)`);
const work = mkdtempSync(join(tmpdir(), 'modelpass-qweights-fashion-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const testSet = loadFashionMnist({ split: 'test' });
const accuracyOf = async (path: string) => (await evaluateAccuracy(path, testSet)).accuracy;
const baseline = new Map<string, number>();

async function quantizedAccuracy(name: string, pipeline: string, tag: string) {
  const source = join(root, name, 'model.onnx');
  if (!baseline.has(name)) baseline.set(name, await accuracyOf(source));
  const model = readOnnx(source);
  const run = await runPipeline(model, pipeline);
  const out = join(work, `${name}-${tag}.onnx`);
  writeOnnx(model, out);
  onnxChecker(out);
  const accuracy = await accuracyOf(out);
  const drop = 100 * (baseline.get(name)! - accuracy);
  console.log(`${name} ${pipeline}: ${(100 * accuracy).toFixed(2)}% (fp32 ${(100 * baseline.get(name)!).toFixed(2)}%, drop ${drop.toFixed(2)} pp), file ${(statSync(out).size / statSync(source).size).toFixed(3)}× fp32, ${run.statistics.get('layers-quantized')} layers`);
  return { drop, run, ratio: statSync(out).size / statSync(source).size, model };
}

const CASES: readonly { pipeline: string; tag: string; maxDrop: number }[] = [
  { pipeline: 'quantize-weights{bits=4 block-size=32}', tag: 'int4-rtn', maxDrop: 1.5 },
  { pipeline: 'quantize-weights{bits=4 block-size=32 method=gptq dataset=fashion-mnist:train samples=256}', tag: 'int4-gptq', maxDrop: 1.5 },
  { pipeline: 'quantize-weights{bits=4 block-size=32 method=hqq}', tag: 'int4-hqq', maxDrop: 1.5 },
  { pipeline: 'quantize-weights{bits=8}', tag: 'int8', maxDrop: 0.5 },
];

describe('quantize-weights on the Fashion-MNIST fixtures (10,000 test images, ORT)', () => {
  for (const name of ['fashion-mlp', 'fashion-transformer']) {
    for (const { pipeline, tag, maxDrop } of CASES) {
      it(`${name} ${tag}: drop ≤ ${maxDrop} pp, checker-valid`, async () => {
        const { drop, run, ratio, model } = await quantizedAccuracy(name, pipeline, tag);
        expect(drop).toBeLessThanOrEqual(maxDrop);
        expect(run.statistics.get('layers-quantized')).toBe(name === 'fashion-mlp' ? 3 : 10);
        if (tag.startsWith('int4')) {
          expect([...model.graph.nodes()].filter((n) => n.op === 'com.microsoft.MatMulNBits').length).toBe(run.statistics.get('layers-quantized'));
          expect(ratio).toBeLessThan(name === 'fashion-mlp' ? 0.2 : 0.35);
        } else {
          expect(ratio).toBeLessThan(0.4);
        }
      }, 120_000);
    }
  }
});
