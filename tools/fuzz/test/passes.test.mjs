/**
 * CI budget of the passes mode (valid models mutated by structure, then simplify, optimize,
 * legalize-tflite + writeTflite, quantize-dynamic, convert-float16, the ONNX writer and the
 * TorchScript writer): a short seeded run that must find no class outside findings/known-open.json
 * and must reach every pipeline, a replay of the saved inputs under findings/passes/, and the
 * oracle's unwrapping of a crash the pass manager wrapped in a ModelpassError.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ModelpassError } from '@modelpass/ir';
import { runCampaign } from '../lib/campaign.mjs';
import { decodeModelObject, encodeModelObject, mutateModelObject, MUTATION_NAMES } from '../lib/mutate-onnx-model.mjs';
import { caseRandom } from '../lib/prng.mjs';
import { reduceOnnxModel } from '../lib/reduce-onnx-model.mjs';
import { closeReplay, replayInput } from '../lib/replay.mjs';
import { PASS_PIPELINES, wrappedCrash } from '../lib/targets/passes.mjs';

const FINDINGS = fileURLToPath(new URL('../findings/', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const knownOpen = JSON.parse(readFileSync(join(FINDINGS, 'known-open.json'), 'utf8')).open;
const knownClasses = new Set(knownOpen.map((entry) => entry.class));
const SEED = 20261205;
const CASES = 60;

test(`passes mode: ${CASES} cases, seed ${SEED}: only ModelpassError or known-open findings, every pipeline reached`, async () => {
  const report = await runCampaign({ parser: 'passes', seed: SEED, count: CASES, options: { minimizeBudget: 20, timeLimitMs: 20000, hangKillMs: 90000 } });
  assert.equal(report.stats.cases, CASES);
  assert.ok(report.stats.accepted > 0, 'no mutated model was imported: the mutations no longer keep models valid');
  assert.ok(report.stats.rejected > 0, 'no mutated model was refused by the importer: the mutations no longer change anything');
  const pipelines = report.stats.target?.pipelines ?? {};
  for (const { name } of PASS_PIPELINES) {
    assert.ok((pipelines[name]?.ok ?? 0) > 0, `pipeline ${name} never completed a case: ${JSON.stringify(pipelines[name])}`);
  }
  const unknown = report.findings.filter((f) => f.first && !knownClasses.has(f.classKey));
  const lines = unknown.map((f) => `- ${f.kind} at case ${f.index}: ${f.classKey}\n  ${f.error?.message?.split('\n')[0]}\n  reproduce: node tools/fuzz/run.mjs --parser passes --seed ${SEED} --case ${f.index}`);
  assert.equal(unknown.length, 0, `passes: new finding classes:\n${lines.join('\n')}`);
});

test('saved passes inputs give ModelpassError or success (known-open ones excepted)', async () => {
  const folder = join(FINDINGS, 'passes');
  const problems = [];
  for (const name of existsSync(folder) ? readdirSync(folder).sort() : []) {
    if (!name.endsWith('.onnx') || name.includes('.original.')) continue;
    const outcome = await replayInput('passes', readFileSync(join(folder, name)));
    const known = knownOpen.find((entry) => entry.file === `passes/${name}`);
    if (outcome.outcome === 'finding' && !(known && known.class === outcome.class)) problems.push(`passes/${name}: ${outcome.class}\n  ${outcome.error.message.split('\n')[0]}`);
  }
  closeReplay();
  assert.equal(problems.length, 0, `regression inputs failing:\n${problems.join('\n')}`);
});

test('mutations are seeded, named, and keep a model encodable; the reducer shrinks it', () => {
  const bytes = new Uint8Array(readFileSync(join(REPO, 'fixtures/models/fashion-mlp/model.onnx')));
  const model = decodeModelObject(bytes);
  assert.ok(model?.graph?.node?.length > 0);
  const seen = new Set();
  for (let i = 0; i < 80; i++) {
    const a = mutateModelObject(caseRandom(7, 'passes', i), model);
    const b = mutateModelObject(caseRandom(7, 'passes', i), model);
    assert.deepEqual(a.applied, b.applied);
    assert.deepEqual(encodeModelObject(a.model), encodeModelObject(b.model));
    for (const line of a.applied) seen.add(line.split(':')[0]);
  }
  // The fixture has no Cast and one opset, but most mutations apply to it.
  assert.ok(seen.size >= MUTATION_NAMES.length - 3, `mutations applied: ${[...seen].join(', ')}`);
  const smaller = [...reduceOnnxModel(bytes)];
  assert.ok(smaller.length > 0 && smaller.every((candidate) => candidate.length < bytes.length));
});

test('a crash the pass manager wraps in a ModelpassError is unwrapped; a system error is not', () => {
  const crash = new TypeError("Cannot read properties of undefined (reading 'shape')");
  const wrapped = new ModelpassError({ reason: "pass 'simplify' failed: …", cause: new ModelpassError({ reason: 'inner', cause: crash }) });
  assert.equal(wrappedCrash(wrapped), crash);
  const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  assert.equal(wrappedCrash(new ModelpassError({ reason: 'cannot write', cause: full })), undefined);
  assert.equal(wrappedCrash(new ModelpassError({ reason: 'plain refusal' })), undefined);
});
