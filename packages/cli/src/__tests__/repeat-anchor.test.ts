/**
 * `repeat{times=N}` from the command line: a count above the limit is refused before any work
 * (`repeat{times=1e9}(dce)` used to run for hours), and the real `dce` reports "no change" once
 * nothing is left to remove, which ends the repeat early.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { validateReport } from '@modelpass/report';
import { spawnCli } from './run-cli.js';

// Two dead nodes in a chain (the Neg reads only the dead Relu): one dce run removes both.
const withDeadCode = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4]) {
  %y: float32[1,4] = onnx.Sigmoid(%x) name="live"
  %d: float32[1,4] = onnx.Relu(%x) name="dead"
  %e: float32[1,4] = onnx.Neg(%d) name="dead_too"
  return %y
}
}`);

let temp: string;
let model: string;
beforeAll(() => {
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-repeat-')));
  model = join(temp, 'dead.onnx');
  writeFileSync(model, encodeOnnx(withDeadCode));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('convert with repeat{…}', () => {
  it('refuses times above the limit, naming the option, the value and the limit', () => {
    const result = spawnCli(['convert', model, '-o', join(temp, 'huge.onnx'), '-p', 'repeat{times=1e9}(dce)'], temp);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("option 'times' of anchor 'repeat' expects an integer in [1, 1000], got '1e9'");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops after the first dce round that removes nothing', () => {
    const report = join(temp, 'report.json');
    const result = spawnCli(['convert', model, '-o', join(temp, 'out.onnx'), '-p', 'repeat{times=1000}(dce)', '--report', report], temp);
    expect(result.code, result.stderr).toBe(0);
    const json = validateReport(JSON.parse(readFileSync(report, 'utf8')), report);
    expect(json.passes.map((p) => [p.name, p.changed, p.statistics['nodes-removed']])).toEqual([
      ['dce', true, 2],
      ['dce', false, 0],
    ]);
  });
});
