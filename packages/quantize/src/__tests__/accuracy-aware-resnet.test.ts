/**
 * Accuracy-aware mode on fashion-resnet with a calibration method whose plain form misses the
 * budget: TensorRT's KL search without the coverage guard (`min-coverage=0`) loses 0.8 pp there. With `max-drop=0.3` the pass measures each Conv/Gemm's sensitivity in ONNX Runtime,
 * keeps the most sensitive float until the drop holds, and writes the per-layer table. Evaluated on
 * the first 2,000 test images (an IDX subset written here) so each of the ~12 trials is short; the
 * written model is evaluated again, independently, on the same images.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import type { QuantizationReport } from '@modelpass/quantize';
import { FASHION_DIR, fixturePath, readFixture, requireReferees, runPipeline } from './static-helpers.js';

/** The first `count` items of a gzipped IDX file, written uncompressed (header counts rewritten). */
function idxPrefix(source: string, target: string, count: number): void {
  const raw = gunzipSync(readFileSync(source));
  const dims = raw[3]!;
  const itemBytes = Array.from({ length: dims - 1 }, (_, k) => raw.readUInt32BE(8 + 4 * k)).reduce((a, b) => a * b, 1);
  const header = Buffer.from(raw.subarray(0, 4 + 4 * dims));
  header.writeUInt32BE(count, 4);
  writeFileSync(target, Buffer.concat([header, raw.subarray(header.length, header.length + count * itemBytes)]));
}

type AccuracyReport = QuantizationReport & {
  accuracy: { baseline: number; fullyQuantized: number; final: number; maxDrop: number; exclude: string[]; layers: { node: string; op: string; sensitivity: number; accuracyWithoutIt: number; keptFloat: boolean }[] };
};

describe('quantize-static{max-drop} on fashion-resnet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-accuracy-resnet-'));
  const images = join(dir, 'images.idx');
  const labels = join(dir, 'labels.idx');
  idxPrefix(join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'), images, 2000);
  idxPrefix(join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'), labels, 2000);
  const evalDataset = `idx:${images},${labels}`;

  // Distribution with min-coverage=0 (85.95% on these images) reaches the budget too, but only by keeping
  // 8 of the 9 layers float (87.60%): run it with method 'distribution' by hand; it doubles this test's time.
  it.each(['entropy'])('calibration=%s min-coverage=0: keeps the most sensitive layers float until the 0.3 pp budget holds, and reports every layer', async (method) => {
    requireReferees();
    const model = readFixture('fashion-resnet');
    const report = join(dir, `${method}.json`);
    const debug: string[] = [];
    const statistics = await runPipeline(model, `simplify,quantize-static{dataset=fashion-mnist:train samples=256 calibration=${method} min-coverage=0 max-drop=0.3 eval-dataset="${evalDataset}" report="${report}"}`, debug);
    const out = join(dir, `${method}.onnx`);
    writeOnnx(model, out);
    const dataset = loadDataset(evalDataset);
    const fp32 = (await evaluateAccuracy(fixturePath('fashion-resnet'), dataset, { batchSize: 500 })).accuracy * 100;
    const int8 = (await evaluateAccuracy(out, dataset, { batchSize: 500 })).accuracy * 100;
    const { accuracy } = JSON.parse(readFileSync(report, 'utf8')) as AccuracyReport;
    console.log(`fashion-resnet ${method} min-coverage=0: fp32 ${fp32.toFixed(2)}%, all quantized ${accuracy.fullyQuantized.toFixed(2)}%, final ${int8.toFixed(2)}% keeping ${accuracy.layers.filter((l) => l.keptFloat).map((l) => l.node).join(', ')} float`);
    // The plain method misses the budget, so the mode has work to do; the written model meets it.
    expect(accuracy.baseline - accuracy.fullyQuantized).toBeGreaterThan(0.3);
    expect(fp32 - int8).toBeLessThanOrEqual(0.3 + 1e-9);
    expect(accuracy.final).toBeCloseTo(int8, 6);
    expect(accuracy.baseline).toBeCloseTo(fp32, 6);
    // One row per quantized Conv/Gemm, most sensitive first; the kept ones are a prefix of that order.
    expect(accuracy.layers.length).toBeGreaterThanOrEqual(9);
    const sensitivities = accuracy.layers.map((l) => l.sensitivity);
    expect(sensitivities).toEqual([...sensitivities].sort((a, b) => b - a));
    const kept = accuracy.layers.filter((l) => l.keptFloat).map((l) => l.node);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(accuracy.layers.slice(0, kept.length).map((l) => l.node));
    expect(statistics['quantize-static']!['layers-kept-float']).toBe(kept.length);
    for (const name of kept) {
      const conv = [...model.graph.nodes()].find((node) => node.name === name)!;
      expect(conv.input(1).constant?.dtype, name).toBe('float32');
    }
    expect(debug.some((line) => line.includes('kept float'))).toBe(true);
  }, 600_000);
});
