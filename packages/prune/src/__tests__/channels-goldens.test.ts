/**
 * Golden text-IR cases of prune-channels (fixtures/prune-channels/<case>/): conv→BN→ReLU→conv,
 * residual Add, Concat→Flatten→Gemm blocks, depthwise with a channel multiplier, Squeeze-Excitation,
 * Split with grouped convs, and cases that decline with their reasons (graph output, channel
 * shuffle, an op the analysis does not know). Every output must also run in ONNX Runtime with the
 * original's output shapes and pass ONNX's checker.
 */
import { afterAll, expect } from 'vitest';
import { isTensorType, Tensor, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { prunePasses } from '@modelpass/prune';
import { onnxChecker } from './channels-harness.js';

function feedsFor(model: Model): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of model.graph.inputs) {
    if (input.isConstant || !isTensorType(input.type) || !input.type.shape) continue;
    const shape = input.type.shape as number[];
    feeds[input.name] = Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => Math.sin(i + 1)));
  }
  return feeds;
}

async function runsInOrt(run: GoldenRun): Promise<void> {
  const feeds = feedsFor(run.input);
  const before = await runOrt(run.input, feeds);
  const after = await runOrt(run.output, feeds);
  for (const [name, tensor] of before) expect(after.get(name)?.shape, `shape of '${name}' in ONNX Runtime`).toEqual(tensor.shape);
  expect(onnxChecker(run.output)).toBe('');
}

afterAll(() => disposeSharedOrtRunner());

runGoldenCases({
  title: 'prune-channels goldens',
  dir: new URL('../../fixtures', import.meta.url),
  passes: prunePasses.filter((pass) => pass.name === 'prune-channels'),
  requireCasesFor: ['prune-channels'],
  filter: (c) => c.pass === 'prune-channels',
  check: runsInOrt,
});
