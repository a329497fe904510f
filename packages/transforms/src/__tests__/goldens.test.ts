/**
 * Golden text-IR tests: every folder `fixtures/<pass>/<case>/` holds `input.mpir`, the expected
 * `output.mpir` and optionally `options.json` (the pass's pipeline options, kebab-case, e.g.
 * `{"max-size": 1024}`). Each case runs `<pass>{options}` through a PassManager with the canonical
 * op registry and verify-each on, prints the result and compares it with `output.mpir` exactly.
 *
 * Self-checks beyond the text: a case named `declines-*` must leave the model unchanged (its output
 * equals its input, printed), and when every graph input has a static shape and a numeric dtype the
 * reference interpreter must give the same outputs before and after.
 *
 * `UPDATE_GOLDENS=1 npx vitest run goldens` rewrites every `output.mpir` (review the diff by eye).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTensorType, ModelpassError, parseModel, printModel, Tensor, type Model } from '@modelpass/ir';
import { createOpRegistry, runReference } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import { randomTensor } from './helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const UPDATE = process.env['UPDATE_GOLDENS'] === '1';

interface GoldenCase {
  pass: string;
  name: string;
  dir: string;
}

function discoverCases(): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const pass of readdirSync(FIXTURES).sort()) {
    const passDir = join(FIXTURES, pass);
    for (const name of readdirSync(passDir).sort()) {
      const dir = join(passDir, name);
      if (existsSync(join(dir, 'input.mpir'))) cases.push({ pass, name, dir });
    }
  }
  return cases;
}

function optionScalar(value: unknown): string {
  if (typeof value === 'string') return /^[^\s{}[\](),="'\\]+$/.test(value) ? value : JSON.stringify(value);
  return String(value);
}

/** `pass{key=value ...}` from options.json. */
function pipelineText(testCase: GoldenCase): string {
  const file = join(testCase.dir, 'options.json');
  if (!existsSync(file)) return testCase.pass;
  const options = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const entries = Object.entries(options).map(([key, value]) =>
    `${key}=${Array.isArray(value) ? `[${value.map(optionScalar).join(',')}]` : optionScalar(value)}`,
  );
  return entries.length === 0 ? testCase.pass : `${testCase.pass}{${entries.join(' ')}}`;
}

function environment(): PassEnvironment {
  const env = new PassEnvironment({ ops: createOpRegistry() });
  env.passes.register(transformPasses, '@modelpass/transforms');
  return env;
}

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

function expectSameNumbers(before: Map<string, unknown>, after: Map<string, unknown>): void {
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

/** The reference interpreter's outputs; undefined when it cannot run the model (e.g. training-mode Dropout). */
function referenceOutputs(model: Model, feeds: Record<string, Tensor>): Map<string, unknown> | undefined {
  try {
    return runReference(model, feeds);
  } catch (error) {
    if (error instanceof ModelpassError) return undefined;
    throw error;
  }
}

const cases = discoverCases();

describe('golden text IR per pass', () => {
  it('has at least one positive case for every pass', () => {
    const withPositive = new Set(cases.filter((c) => !c.name.startsWith('declines-')).map((c) => c.pass));
    const missing = transformPasses.map((p) => p.name).filter((name) => !withPositive.has(name));
    expect(missing).toEqual([]);
  });

  it.each(cases.map((c) => [`${c.pass}/${c.name}`, c] as const))('%s', async (_label, testCase) => {
    const inputText = readFileSync(join(testCase.dir, 'input.mpir'), 'utf8');
    const model = parseModel(inputText, { file: join(testCase.dir, 'input.mpir') });
    const original = printModel(model);
    const feeds = feedsFor(model);
    const before = feeds ? referenceOutputs(parseModel(inputText), feeds) : undefined;

    const manager = new PassManager({ environment: environment(), verifyEach: true });
    await manager.run(model, pipelineText(testCase));
    const printed = printModel(model);

    const outputFile = join(testCase.dir, 'output.mpir');
    if (UPDATE) writeFileSync(outputFile, printed);
    expect(existsSync(outputFile), `${outputFile} is missing: run with UPDATE_GOLDENS=1`).toBe(true);
    expect(printed).toBe(readFileSync(outputFile, 'utf8'));
    if (testCase.name.startsWith('declines-')) expect(printed, 'a declines-* case must leave the model unchanged').toBe(original);
    if (before && feeds) expectSameNumbers(before, runReference(model, feeds));
  });
});
