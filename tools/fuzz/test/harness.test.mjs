/**
 * The fuzzer's own machinery, checked against a target that crashes, hangs, allocates, breaks its
 * property and admits an internal error on purpose: each must come out as its own finding, with
 * the case index, and the run must go on after the hang.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign, regenerateCase } from '../lib/campaign.mjs';
import { caseRandom } from '../lib/prng.mjs';

const planted = new URL('../test-support/planted-targets.mjs', import.meta.url).href;

test('crash, hang, memory, property and internal-error findings are each caught, and the run resumes after a hang', async () => {
  const count = 300;
  const report = await runCampaign({
    parser: 'planted-faults',
    seed: 5,
    count,
    options: { targetModules: [planted], hangKillMs: 1500, timeLimitMs: 1000, minimize: false, memorySlackMb: 8 },
  });
  const kinds = new Set(report.findings.map((f) => f.kind));
  for (const kind of ['crash', 'hang', 'memory', 'property', 'internal']) assert.ok(kinds.has(kind), `no ${kind} finding (got ${[...kinds].join(', ')})`);
  assert.equal(report.stats.cases, count, 'every case ran, the hung ones included');
  assert.ok(report.stats.accepted > 0 && report.stats.rejected > 0);
  for (const finding of report.findings.filter((f) => f.first)) {
    const input = await regenerateCase('planted-faults', 5, finding.index, { targetModules: [planted] });
    const expected = { crash: 7, hang: 13, memory: 21, property: 29, internal: 37 }[finding.kind];
    assert.equal(input[0], expected, `${finding.kind} finding at case ${finding.index} regenerates to the input that causes it`);
  }
});

test('a case is the same whatever else the run did (seed, parser, index → input)', () => {
  const a = caseRandom(9, 'onnx', 123456);
  const b = caseRandom(9, 'onnx', 123456);
  const c = caseRandom(9, 'onnx', 123457);
  const x = [a.u32(), a.u32(), a.u32()];
  assert.deepEqual([b.u32(), b.u32(), b.u32()], x);
  assert.notDeepEqual([c.u32(), c.u32(), c.u32()], x);
  assert.notDeepEqual([caseRandom(10, 'onnx', 123456).u32()], [x[0]]);
});
