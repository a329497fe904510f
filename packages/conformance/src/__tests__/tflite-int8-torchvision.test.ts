/**
 * int8 TFLite from a torchvision-family net (issue 12's goal for quantized models), small enough for
 * every test run: mobilenet_v3_small (HardSwish, HardSigmoid squeeze-excitation, depthwise convs,
 * Pad-free SAME windows) exported by tools/fixtures/make_torchvision.py at 64×64 with seeded random
 * weights, quantize-static on 16 seeded inputs, then legalize-tflite. Random weights make accuracy
 * meaningless, so the judge is agreement with ORT's int8 model on 32 seeded inputs: the same top-1
 * for all but at most one, and logits cosine ≥ 0.999 (measured: 32/32, 0.99993). quantize-static
 * writes HardSigmoid's /6 into a DequantizeLinear scale (Q(s) → DQ(s/6)); before legalize-tflite
 * rescaled such pairs, this model's TFLite logits had cosine 0.64 and 0/32 top-1 agreement.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isTensorType, Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cache = join(root, '.fixtures-cache', 'torchvision-64');
const INPUTS = 32;

async function run(model: Model, pipeline: string): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

function argmax(values: readonly number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

describe('int8 TFLite of a torchvision net agrees with the ORT int8 model', () => {
  it('mobilenet_v3_small 64×64: full-integer TFLite, same top-1 on 31+ of 32 seeded inputs, logits cosine ≥ 0.999', async () => {
    execFileSync('/usr/bin/python3', [join(root, 'tools/fixtures/make_torchvision.py'), 'mobilenet_v3_small', '--size', '64', '--out', cache], { stdio: 'pipe' });
    const int8Onnx = readOnnx(join(cache, 'mobilenet_v3_small.onnx'));
    await run(int8Onnx, 'simplify,quantize-static{samples=16 min-conv-reduction=0}');
    const converted = decodeOnnx(encodeOnnx(int8Onnx));
    const statistics = await run(converted, 'legalize-tflite');
    // Convolutions, pools, squeeze-excitation means and residual adds run in int8; ops quantize-static's placement left
    // float in the ONNX model (elementwise ops ORT runs faster in float) run in float between DEQUANTIZE and QUANTIZE.
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES mobilenet_v3_small int8: ${statistics.get('int8-ops')} int8 ops, ${statistics.get('float-ops-in-int8-model')} float`);
    expect(statistics.get('int8-ops')).toBeGreaterThan(100);
    const file = encodeTflite(converted);

    const input = int8Onnx.graph.inputs[0]!;
    const shape = isTensorType(input.type) ? input.type.shape!.map((d) => (typeof d === 'number' ? d : 1)) : [];
    const engine = new TfliteEngine();
    let agree = 0;
    let worstCosine = 1;
    for (let i = 0; i < INPUTS; i++) {
      const x: Tensor = seededTensor(shape, 100 + i, -2, 2);
      const expected = [...(await runOrt(int8Onnx, { [input.name]: x })).values()][0]!.toNumbers();
      const actual = [...(await engine.run(file, { [converted.graph.inputs[0]!.name]: x })).values()][0]!.toNumbers();
      expect(actual).toHaveLength(expected.length);
      if (argmax(expected) === argmax(actual)) agree++;
      const dot = expected.reduce((s, v, k) => s + v * actual[k]!, 0);
      const norm = Math.sqrt(expected.reduce((s, v) => s + v * v, 0) * actual.reduce((s, v) => s + v * v, 0));
      worstCosine = Math.min(worstCosine, dot / norm);
    }
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES mobilenet_v3_small int8: top-1 agreement ${agree}/${INPUTS}, worst cosine ${worstCosine}`);
    expect(agree).toBeGreaterThanOrEqual(INPUTS - 1);
    expect(worstCosine).toBeGreaterThanOrEqual(0.999);
  }, 120_000);
});
