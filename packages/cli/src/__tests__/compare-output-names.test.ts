/**
 * `compare` pairs outputs by name. Two models whose only output is named differently printed
 * "logits: DISAGREE — only in a" and "logits2: DISAGREE — only in b" and nothing else; the verdict
 * (disagree, exit 1) stands, and a note now says the outputs were not compared because of their names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-output-names-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const renamed = join(temp, 'renamed-output.onnx');

beforeAll(() => {
  // The same CNN with its output renamed 'logits' → 'logits2', by ONNX's own Python package.
  const script = [
    'import sys, onnx',
    'm = onnx.load(sys.argv[1])',
    "old = m.graph.output[0].name; m.graph.output[0].name = 'logits2'",
    "for n in m.graph.node:\n    n.output[:] = ['logits2' if o == old else o for o in n.output]",
    'onnx.checker.check_model(m); onnx.save(m, sys.argv[2])',
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, cnn, renamed], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('compare with a renamed output', () => {
  it('still disagrees (exit 1) and says the outputs pair by name', async () => {
    const result = await runCli(['compare', cnn, renamed]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('logits: DISAGREE — only in a');
    expect(result.stdout).toContain("note: outputs pair by name: only a has 'logits', only b has 'logits2'");
    const same = await runCli(['compare', cnn, cnn]);
    expect(same.code).toBe(0);
    expect(same.stdout).not.toContain('note: outputs pair by name');
  });
});
