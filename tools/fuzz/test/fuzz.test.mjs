/**
 * CI budget of the fuzzer: a few thousand seeded cases per parser (fixed seeds, so a failure
 * reproduces with the printed command), plus a replay of every saved regression input under
 * findings/<parser>/. Known-open finding classes (findings/known-open.json) are tolerated but
 * listed; any other finding class fails the test.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCampaign } from '../lib/campaign.mjs';
import { closeReplay, replayInput } from '../lib/replay.mjs';
import { PARSER_NAMES } from '../lib/targets/index.mjs';

const FINDINGS = fileURLToPath(new URL('../findings/', import.meta.url));
const knownOpen = JSON.parse(readFileSync(join(FINDINGS, 'known-open.json'), 'utf8')).open;
const knownClasses = new Set(knownOpen.map((entry) => entry.class));

/** Cases per parser: sized so all of them take well under a minute on a busy 2-core machine. */
// Time limit 4 s here (1 s in long runs): CI machines are shared and slow; long runs hold the 1 s goal.
const BUDGET = { npy: 3000, 'tensor-proto': 2000, pipeline: 2000, 'plugin-manifest': 1500, mpir: 1000, onnx: 800, 'onnx-file': 400, torchscript: 400 };
const SEED = 20261203;

test('every parser has a CI budget', () => {
  assert.deepEqual(Object.keys(BUDGET).sort(), [...PARSER_NAMES].sort());
});

for (const parser of PARSER_NAMES) {
  test(`fuzz ${parser}: ${BUDGET[parser]} cases, seed ${SEED}, only ModelpassError or known-open findings`, async () => {
    const report = await runCampaign({ parser, seed: SEED, count: BUDGET[parser], options: { minimizeBudget: 60, timeLimitMs: 4000, hangKillMs: 8000 } });
    assert.equal(report.stats.cases, BUDGET[parser]);
    // The run must reach the parser's interesting paths: some inputs accepted, some rejected.
    assert.ok(report.stats.accepted > 0, `${parser}: no input was accepted; the generators no longer reach past the first check`);
    assert.ok(report.stats.rejected > 0, `${parser}: no input was rejected; the mutators no longer produce bad input`);
    const unknown = report.findings.filter((f) => f.first && !knownClasses.has(f.classKey));
    const lines = unknown.map((f) => `- ${f.kind} at case ${f.index}: ${f.classKey}\n  ${f.error?.message?.split('\n')[0]}\n  reproduce: node tools/fuzz/run.mjs --parser ${parser} --seed ${SEED} --case ${f.index}`);
    assert.equal(unknown.length, 0, `${parser}: new finding classes:\n${lines.join('\n')}`);
    const tolerated = report.findings.filter((f) => f.first).map((f) => f.classKey);
    if (tolerated.length) console.log(`${parser}: known-open findings seen: ${tolerated.join('; ')}`);
  });
}

test('saved regression inputs give ModelpassError or success (known-open ones excepted)', async () => {
  const problems = [];
  const fixedKnown = [];
  for (const parser of PARSER_NAMES) {
    const folder = join(FINDINGS, parser);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      if (name.endsWith('.json') || name.includes('.original.')) continue;
      const outcome = await replayInput(parser, readFileSync(join(folder, name)));
      const known = knownOpen.find((entry) => entry.file === `${parser}/${name}`);
      if (outcome.outcome === 'finding' && !(known && known.class === outcome.class)) {
        problems.push(`${parser}/${name}: ${outcome.class}\n  ${outcome.error.message.split('\n')[0]}`);
      } else if (known && outcome.outcome !== 'finding') {
        fixedKnown.push(`${parser}/${name}`);
      }
    }
  }
  closeReplay();
  if (fixedKnown.length) console.log(`known-open findings that no longer reproduce (remove them from findings/known-open.json): ${fixedKnown.join(', ')}`);
  assert.equal(problems.length, 0, `regression inputs failing:\n${problems.join('\n')}`);
});
