/**
 * Golden text-IR tests through @modelpass/testing's harness: every folder `fixtures/<pass>/<case>/`
 * holds `input.mpir`, the expected `output.mpir` and optionally `options.json` (the pass's pipeline
 * options, kebab-case, e.g. `{"max-size": 1024}`). Each case runs `<pass>{options}` with the canonical
 * op registry and verify-each on and compares the printed result with `output.mpir` exactly; a case
 * named `declines-*` must leave the model unchanged.
 *
 * Beyond the text: when every graph input has a static shape and is float32, the reference
 * interpreter must give the same outputs before and after.
 *
 * `UPDATE_GOLDENS=1 npx vitest run goldens` rewrites every `output.mpir` (review the diff by eye).
 */
import { expect } from 'vitest';
import { isTensorType, ModelpassError, Tensor, type Model } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { transformPasses } from '@modelpass/transforms';
import { randomTensor } from './helpers.js';

/** Deterministic feeds when every input is a statically shaped float tensor; undefined otherwise. */
function feedsFor(model: Model): Record<string, Tensor> | undefined {
  const feeds: Record<string, Tensor> = {};
  let seed = 11;
  for (const input of model.graph.inputs) {
    if (input.isConstant) continue;
    const type = input.type;
    if (!isTensorType(type) || type.shape === null || !type.shape.every((d) => typeof d === 'number')) return undefined;
    if (type.dtype !== 'float32') return undefined;
    feeds[input.name] = randomTensor(type.shape as number[], seed++);
  }
  return feeds;
}

/** The reference interpreter's outputs; undefined when it cannot run the model (e.g. training-mode Dropout). */
function referenceOutputs(model: Model, feeds: Record<string, Tensor>): Map<string, unknown> | undefined {
  try {
    return runReference(model, feeds);
  } catch (error) {
    if (error instanceof ModelpassError) return undefined;
    throw error;
  }
}

function expectSameNumbers({ input, output }: GoldenRun): void {
  const feeds = feedsFor(input);
  const before = feeds && referenceOutputs(input, feeds);
  if (!feeds || !before) return;
  const after = runReference(output, feeds);
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [name, a] of before) {
    const b = after.get(name);
    if (!(a instanceof Tensor) || !(b instanceof Tensor)) continue;
    expect(b.shape, `shape of output '${name}'`).toEqual(a.shape);
    if (a.dtype === 'string') continue;
    const x = a.toNumbers();
    const y = b.toNumbers();
    const scale = Math.max(1, ...x.map(Math.abs));
    const diff = Math.max(0, ...x.map((v, i) => (Number.isNaN(v) && Number.isNaN(y[i]!) ? 0 : Math.abs(v - y[i]!))));
    expect(diff, `max |before − after| of output '${name}'`).toBeLessThanOrEqual(1e-5 * scale);
  }
}

runGoldenCases({
  title: 'golden text IR per pass',
  dir: new URL('../../fixtures', import.meta.url),
  passes: transformPasses,
  requireCasesFor: transformPasses.map((pass) => pass.name),
  check: expectSameNumbers,
});
