/**
 * QA s11 R5: `diff tagger.pt tagger.onnx` of a token model stopped at the embedding's error, whose
 * hint names --input-dtype, which diff did not take ("unknown option '--input-shape' for 'diff'").
 * diff now takes --input-shape and --input-dtype as convert and compare do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-diff-input-flags-'));
  const script = join(work, 'make.py');
  writeFileSync(
    script,
    `import sys, torch
class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.out = torch.nn.Linear(4, 3)
    def forward(self, tokens):
        return self.out(self.emb(tokens))
torch.manual_seed(0)
torch.jit.save(torch.jit.script(Tagger().eval()), sys.argv[1] + "/tagger.pt")
`,
  );
  execFileSync('/usr/bin/python3', [script, work], { stdio: ['ignore', 'ignore', 'inherit'] });
  const made = spawnCli(['convert', join(work, 'tagger.pt'), '-o', join(work, 'tagger.onnx'), '--input-shape', 'tokens=1,5', '--input-dtype', 'tokens=int64']);
  expect(made.code, made.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('diff tagger.pt tagger.onnx --input-shape tokens=1,5 --input-dtype tokens=int64 reads both and compares their tensors', () => {
  const result = spawnCli(['diff', join(work, 'tagger.pt'), join(work, 'tagger.onnx'), '--input-shape', 'tokens=1,5', '--input-dtype', 'tokens=int64', '--json']);
  expect(result.code, result.stderr).toBeLessThan(2);
  const diff = JSON.parse(result.stdout) as { tensors?: { compared: number } };
  expect(diff.tensors?.compared).toBeGreaterThan(0);
  const contradicted = spawnCli(['diff', join(work, 'tagger.pt'), join(work, 'tagger.onnx'), '--input-shape', 'tokens=1,5', '--input-dtype', 'tokens=int32']);
  expect(contradicted.code).toBe(2);
  expect(contradicted.stderr).toContain('tokens');
}, 120_000);
