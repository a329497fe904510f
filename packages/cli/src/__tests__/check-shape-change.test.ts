/**
 * `convert --check` when a pass changes a tensor's SHAPE (prune-channels: 16 → 12 channels): the
 * tensors are not comparable element by element, and the failure must say "shape changed old → new"
 * rather than "max abs inf / cosine n/a" as if the values had blown up. Likewise for outputs that
 * changed shape or went missing, measured by the runtime's own compareOutputs.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import type { PassRunInfo } from '@modelpass/pass-manager';
import { validateReport } from '@modelpass/report';
import { compareOutputs } from '@modelpass/runtime';
import { formatCheckFailure, formatCheckLine } from '../check/check-output.js';
import { checkFailureReason } from '../check/check-instrumentation.js';
import { outputsCheck } from '../report/outputs-check.js';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

let temp: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-check-shape-')));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('convert --check when a pass changes shapes', () => {
  it('says the first diverging tensor changed shape (16 → 12 channels), in text and in the report', () => {
    const report = join(temp, 'report.json');
    const result = spawnCli(['convert', cnn, '-o', join(temp, 'out.onnx'), '-p', 'prune-channels{ratio=0.25}', '--check', '--report', report, '--reproducer', join(temp, 'repro')], temp);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("tensor '/conv1/Conv_output_0' (shape changed [1,16,28,28] → [1,12,28,28] — not compared element by element)");
    expect(result.stderr).toContain("output '/conv1/Conv_output_0': shape changed [1,16,28,28] → [1,12,28,28]");
    expect(result.stderr).not.toMatch(/max abs (inf|Infinity)|cosine n\/a/);
    const json = validateReport(JSON.parse(readFileSync(report, 'utf8')), report);
    expect(json.check!.divergence).toMatchObject({ node: '/conv1/Conv', maxAbsError: 'Infinity', cosine: null, shapeChange: { before: [1, 16, 28, 28], after: [1, 12, 28, 28] } });
  });
});

describe('check text for outputs that are not comparable', () => {
  const pass = { passName: 'narrow', index: 2, owner: {}, options: {}, nesting: [] } as unknown as PassRunInfo;
  const expected = new Map([
    ['logits', Tensor.fromValues('float32', [1, 4], [1, 2, 3, 4])],
    ['scores', Tensor.fromValues('float32', [1, 2], [0.5, 0.5])],
    ['gone', Tensor.fromValues('float32', [1], [1])],
  ]);
  const actual = new Map([
    ['logits', Tensor.fromValues('float32', [1, 3], [1, 2, 3])],
    ['scores', Tensor.fromValues('float32', [1, 2], [0.5, 0.75])],
  ]);
  const check = outputsCheck(compareOutputs(expected, actual, { atol: 1e-5, rtol: 1e-3 }), 'onnxruntime');

  it('carries the shapes and the missing side into the report form', () => {
    expect(check.outputs.map((o) => [o.name, o.shapeChange, o.missingIn])).toEqual([
      ['logits', { before: [1, 4], after: [1, 3] }, undefined],
      ['scores', undefined, undefined],
      ['gone', undefined, 'after'],
    ]);
  });

  it('prints the shape change and the missing output instead of infinite errors', () => {
    const line = formatCheckLine(pass, check);
    expect(line).toContain("output 'logits' shape changed [1,4] → [1,3]");
    expect(line).toContain("output 'gone' missing after the change");
    expect(line).toContain('max abs 0.25'); // the one comparable output keeps its figures
    const failure = { pass, check, notes: [] };
    const text = formatCheckFailure(failure, { atol: 1e-5, rtol: 1e-3, inputs: { source: 'random', seed: 0, samples: 1 }, status: 'failed' });
    expect(text).toContain("output 'logits': shape changed [1,4] → [1,3] — not compared element by element");
    expect(text).toContain("'logits' (shape changed [1,4] → [1,3]");
    expect(checkFailureReason(failure)).toContain("'gone' (missing after the change (not compared))");
    expect(text).not.toMatch(/inf|n\/a/i);
  });

  it('prints the error of a comparable output as the reports do, not as a raw double', () => {
    const off = outputsCheck(compareOutputs(new Map([['y', Tensor.fromValues('float32', [1], [1])]]), new Map([['y', Tensor.fromValues('float32', [1], [5.386996269226074])]])), 'onnxruntime');
    const reason = checkFailureReason({ pass, check: off, notes: [] });
    expect(reason).toContain("'y' (max abs 4.387) beyond");
    expect(reason).not.toContain('4.38699626');
  });
});
