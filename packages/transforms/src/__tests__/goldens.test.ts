/**
 * Golden text-IR tests through @modelpass/testing's harness: every folder `fixtures/<pass>/<case>/`
 * holds `input.mpir`, the expected `output.mpir` and optionally `options.json` (the pass's pipeline
 * options, kebab-case, e.g. `{"max-size": 1024}`). Each case runs `<pass>{options}` with the canonical
 * op registry and verify-each on and compares the printed result with `output.mpir` exactly; a case
 * named `declines-*` must leave the model unchanged.
 *
 * Beyond the text: when every graph input has a static shape and is float32, the reference
 * interpreter must give the same outputs before and after. The interpreter computes on stored
 * dtypes, so a model with quant<> types is first lowered with materialize-qdq (its reals).
 *
 * `UPDATE_GOLDENS=1 npx vitest run goldens` rewrites every `output.mpir` (review the diff by eye).
 */
import { expect } from 'vitest';
import { isTensorType, ModelpassError, Tensor, type Model } from '@modelpass/ir';
import { createOpRegistry, runReference } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { materializeQdq, transformPasses } from '@modelpass/transforms';
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

function hasQuantTypes(model: Model): boolean {
  for (const node of model.graph.allNodes()) if (node.outputs.some((v) => v?.type.kind === 'tensor' && v.type.quant)) return true;
  return [...model.graph.inputs, ...model.graph.constants].some((v) => v.type.kind === 'tensor' && v.type.quant !== undefined);
}

/** The model the reference interpreter can run: quant<> types lowered to QuantizeLinear/DequantizeLinear. */
async function interpretable(model: Model): Promise<Model> {
  if (!hasQuantTypes(model)) return model;
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register([materializeQdq], 'goldens');
  await new PassManager({ environment }).run(model, 'materialize-qdq{bump-opset=true}');
  return model;
}

async function expectSameNumbers(run: GoldenRun): Promise<void> {
  const input = await interpretable(run.input);
  const output = await interpretable(run.output);
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
