/**
 * Accuracy-aware quantize-static: with a budget tighter than the drop of full quantization, the pass
 * measures per-layer sensitivity in ONNX Runtime and keeps layers float until the budget holds; the
 * written model, evaluated here independently, is within it. Missing halves of the option pair are
 * refused by name. The report file carries the per-layer table and per-tensor SQNR/cosine.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { writeOnnx } from '@modelpass/onnx';
import type { QuantizationReport } from '@modelpass/quantize';
import { fixturePath, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

describe('quantize-static{max-drop eval-dataset}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-accuracy-'));

  it('keeps the most sensitive layers of fashion-mlp float until a 0.01 pp budget holds', async () => {
    requireReferees();
    const model = readFixture('fashion-mlp');
    const report = join(dir, 'mlp-report.json');
    const debug: string[] = [];
    const statistics = await runPipeline(model, `simplify,quantize-static{dataset=fashion-mnist:train samples=256 max-drop=0.01 eval-dataset=fashion-mnist:test report=${report}}`, debug);
    const out = join(dir, 'mlp.onnx');
    writeOnnx(model, out);
    const fp32 = await testAccuracy(fixturePath('fashion-mlp'));
    const int8 = await testAccuracy(out);
    expect((fp32 - int8) * 100).toBeLessThanOrEqual(0.01 + 1e-9);
    const json = JSON.parse(readFileSync(report, 'utf8')) as QuantizationReport & { accuracy: { layers: { node: string; keptFloat: boolean; sensitivity: number }[]; final: number; baseline: number } };
    const kept = json.accuracy.layers.filter((layer) => layer.keptFloat).map((layer) => layer.node);
    expect(json.accuracy.layers).toHaveLength(3);
    expect(kept.length).toBeGreaterThan(0);
    expect(statistics['quantize-static']!['layers-kept-float']).toBe(kept.length);
    expect(json.accuracy.final).toBeCloseTo(int8 * 100, 6);
    expect(json.accuracy.baseline).toBeCloseTo(fp32 * 100, 6);
    // The layers kept float are really float: their Gemm reads float weights, no DequantizeLinear.
    for (const name of kept) {
      const gemm = [...model.graph.nodes()].find((node) => node.name === name)!;
      expect(gemm.input(1).constant?.dtype).toBe('float32');
    }
    expect(json.leftFloat.map((l) => l.node)).toEqual(expect.arrayContaining(kept));
    expect(json.tensors.every((t) => typeof t.sqnrDb === 'number' && t.sqnrDb > 20)).toBe(true);
    expect(debug.some((line) => line.includes('kept float'))).toBe(true);
  });

  it.each([
    ['max-drop=0.3', 'needs an evaluation dataset'],
    ['eval-dataset=fashion-mnist:test', 'needs a budget'],
    ['eval-dataset=fashion-mnist:test max-drop=0', 'needs a budget: max-drop is 0, which turns the accuracy-aware mode off'],
  ])('%s alone is refused', async (options, message) => {
    requireReferees();
    const model = readFixture('fashion-mlp');
    const run = runPipeline(model, `quantize-static{dataset=fashion-mnist:train samples=64 ${options}}`);
    await expect(run).rejects.toThrow(message);
    await run.catch((error: unknown) => expect(ModelpassError.is(error) || (error instanceof Error && error.message.includes(message))).toBe(true));
  });

  it('max-drop without eval-dataset and without dataset fails on the options before any calibration warning', async () => {
    const environment = new PassEnvironment({ ops: createOpRegistry() });
    environment.passes.register(quantizePasses, '@modelpass/quantize');
    const seen: string[] = [];
    const manager = new PassManager({ environment, onDiagnostic: (d) => void seen.push(d.reason) });
    const run = manager.run(readFixture('fashion-mlp'), 'quantize-static{max-drop=0.3}');
    await expect(run).rejects.toThrow('max-drop needs an evaluation dataset');
    expect(seen).toEqual([]);
  });
});
