/**
 * `compare` feeds both models the same inputs by name. Two models whose inputs are named differently
 * used to fail inside ONNX Runtime ("feed 'input' is not an input of model …") under a hint about
 * initializers; now the command names both input lists (exit 2) before running anything. A .pt run
 * on torch takes its inputs by position, so it still compares with a model of other input names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-names-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const renamed = join(temp, 'renamed.onnx');

beforeAll(() => {
  // The same CNN with its input renamed 'input' → 'image', by ONNX's own Python package.
  const script = [
    'import sys, onnx',
    'm = onnx.load(sys.argv[1])',
    "old = m.graph.input[0].name; m.graph.input[0].name = 'image'",
    "for n in m.graph.node:\n    n.input[:] = ['image' if i == old else i for i in n.input]",
    'onnx.checker.check_model(m); onnx.save(m, sys.argv[2])',
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, cnn, renamed], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('compare with differently named inputs', () => {
  it('names both input lists and exits 2, for random inputs and for --inputs', async () => {
    const random = await runCli(['compare', cnn, renamed]);
    expect(random.code).toBe(2);
    expect(random.stderr).toContain("the two models take different inputs: '" + cnn + "' takes 'input', '" + renamed + "' takes 'image'");
    expect(random.stderr).toContain('by name');
    expect(random.stderr).not.toContain('initializers');
    const given = await runCli(['compare', cnn, renamed, '--inputs', join(repoRoot, 'fixtures/models/fashion-cnn/test_data_set_0')]);
    expect(given.code).toBe(2);
    expect(given.stderr).toContain('the two models take different inputs');
  });

  it('still compares same-named inputs, and a .pt on torch by position', async () => {
    const same = await runCli(['compare', renamed, renamed]);
    expect(same.code, same.stderr).toBe(0);
    const archive = join(temp, 'cnn.pt');
    expect((await runCli(['convert', cnn, '-o', archive])).code).toBe(0);
    const torch = await runCli(['compare', renamed, archive]);
    expect(torch.code, torch.stderr).toBe(0);
    expect(torch.stdout).toContain('verdict: agree');
  }, 120_000);
});
