/**
 * Golden text-IR tests (fixtures/<pass>/<case>/) through @modelpass/testing. Beyond the text, each
 * pruned model must still load and run in ONNX Runtime (sparse initializers included) with the
 * output shapes of the original.
 */
import { afterAll, expect } from 'vitest';
import { isTensorType, Tensor, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { prunePasses } from '@modelpass/prune';

function feedsFor(model: Model): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of model.graph.inputs) {
    if (input.constant !== undefined || !isTensorType(input.type) || !input.type.shape) continue; // defaults run as they are
    const shape = input.type.shape as number[];
    const size = shape.reduce((n, d) => n * d, 1);
    feeds[input.name] = Tensor.fromValues('float32', shape, Array.from({ length: size }, (_, i) => Math.sin(i + 1)));
  }
  return feeds;
}

async function runsInOrt(run: GoldenRun): Promise<void> {
  const feeds = feedsFor(run.input);
  const before = await runOrt(run.input, feeds);
  const after = await runOrt(run.output, feeds);
  for (const [name, tensor] of before) expect(after.get(name)?.shape, `shape of '${name}' in ONNX Runtime`).toEqual(tensor.shape);
}

afterAll(() => disposeSharedOrtRunner());

runGoldenCases({
  title: 'prune goldens',
  dir: new URL('../../fixtures', import.meta.url),
  passes: [...prunePasses].filter((pass) => pass.name === 'prune-magnitude' || pass.name === 'prune-nm'),
  requireCasesFor: ['prune-magnitude', 'prune-nm'],
  filter: (c) => c.pass === 'prune-magnitude' || c.pass === 'prune-nm',
  check: runsInOrt,
});
