/**
 * Golden text-IR cases of quantize-weights, quantize-dynamic and convert-float16
 * (fixtures/<pass>/<case>/, a MatMul → Relu → Gemm(transB, alpha) model): the exact nodes, tensors
 * and attributes each pass writes. Each output is also run in ONNX Runtime against the float input
 * (cosine of the outputs ≥ 0.98 for int4, ≥ 0.999 otherwise). `UPDATE_GOLDENS=1` rewrites output.mpir.
 */
import { afterAll, expect } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { quantizePasses } from '@modelpass/quantize';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { cosine } from './weights-helpers.js';

const PASSES = ['quantize-weights', 'quantize-dynamic', 'convert-float16'];

function feedsFor(model: Model): Record<string, Tensor> {
  const input = model.graph.inputs[0]!;
  const shape = input.type.kind === 'tensor' ? (input.type.shape as number[]) : [];
  const dtype = input.type.kind === 'tensor' ? input.type.dtype : 'float32';
  const size = shape.reduce((n, d) => n * d, 1);
  return { [input.name]: Tensor.fromValues(dtype, shape, Array.from({ length: size }, (_, i) => Math.sin(i + 1))) };
}


async function runsInOrt(run: GoldenRun): Promise<void> {
  const before = await runOrt(run.input, feedsFor(run.input));
  const after = await runOrt(run.output, feedsFor(run.output));
  for (const [name, tensor] of before) {
    const similarity = cosine(tensor, after.get(name)!);
    expect(similarity, `cosine of '${name}'`).toBeGreaterThanOrEqual(run.testCase.pass === 'quantize-weights' && run.testCase.name.includes('int4') ? 0.98 : 0.999);
  }
}

afterAll(() => disposeSharedOrtRunner());

runGoldenCases({
  title: 'quantize-weights, quantize-dynamic, convert-float16 goldens',
  dir: new URL('../../fixtures', import.meta.url),
  passes: quantizePasses,
  requireCasesFor: PASSES,
  filter: (testCase) => PASSES.includes(testCase.pass),
  check: runsInOrt,
});
