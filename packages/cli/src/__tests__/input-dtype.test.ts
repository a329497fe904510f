/**
 * `--input-dtype NAME=DTYPE`: a TorchScript archive records no input types (inputs read as float32), so a
 * scripted text model whose token ids index an nn.Embedding could not be converted at all from the command
 * line (QA s10: "aten::embedding: indices must be int64 or int32, got float32", with no flag to say
 * otherwise). With `--input-dtype tokens=int64` it converts, and the result equals torch on the same ids.
 * On a format that declares its input types, the flag must agree with the file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeSharedOrtRunner, readNpy, runOrt } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const PYTHON = '/usr/bin/python3';
const temp = mkdtempSync(join(tmpdir(), 'modelpass-input-dtype-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});
const archive = join(temp, 'tagger.pt');

beforeAll(() => {
  const script = `
import sys, numpy as np, torch
torch.manual_seed(0)
class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 6)
        self.out = torch.nn.Linear(6, 3)
    def forward(self, tokens):
        return self.out(torch.tanh(self.embed(tokens)))
m = torch.jit.script(Tagger().eval())
m.save(sys.argv[1] + '/tagger.pt')
tokens = torch.tensor([[3, 19, 0, 7], [11, 2, 2, 5]], dtype=torch.int64)
np.save(sys.argv[1] + '/tokens.npy', tokens.numpy())
with torch.no_grad():
    np.save(sys.argv[1] + '/logits.npy', m(tokens).numpy())
`;
  writeFileSync(join(temp, 'make.py'), script);
  execFileSync(PYTHON, [join(temp, 'make.py'), temp], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('--input-dtype', () => {
  it('without it the embedding refuses float32 ids and the hint names the flag; with it the .onnx equals torch', async () => {
    const refused = await runCli(['convert', archive, '-o', join(temp, 'refused.onnx'), '--input-shape', 'tokens=batch,time'], temp);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('indices must be int64 or int32, got float32');
    expect(refused.stderr).toContain('--input-dtype tokens=int64');
    const output = join(temp, 'tagger.onnx');
    const converted = await runCli(['convert', archive, '-o', output, '--input-shape', 'tokens=batch,time', '--input-dtype', 'tokens=int64'], temp);
    expect(converted.code, converted.stderr).toBe(0);
    const [got] = [...(await runOrt(output, { tokens: readNpy(join(temp, 'tokens.npy')) })).values()];
    const want = readNpy(join(temp, 'logits.npy'));
    expect(got!.shape).toEqual([2, 4, 3]);
    const a = got!.toNumbers();
    const b = want.toNumbers();
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-6);
    const inspected = await runCli(['inspect', archive, '--input-shape', 'tokens=1,4', '--input-dtype', 'tokens=int64', '--json'], temp);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout).inputs).toEqual([{ name: 'tokens', dtype: 'int64', shape: [1, 4] }]);
    const compared = await runCli(['compare', archive, output, '--input-shape', 'tokens=batch,time', '--input-dtype', 'tokens=int64', '--dim', 'batch=2', '--dim', 'time=5'], temp);
    expect(compared.code, compared.stderr).toBe(0);
  }, 120_000);

  it('refuses an unknown dtype, a malformed flag and a dtype an ONNX file contradicts; nothing is written', async () => {
    const onnx = join(temp, 'tagger.onnx');
    if (!existsSync(onnx)) await runCli(['convert', archive, '-o', onnx, '--input-shape', 'tokens=batch,time', '--input-dtype', 'tokens=int64'], temp);
    const cases: [string[], number, string][] = [
      [[archive, '--input-dtype', 'tokens=int65'], 2, "'int65' is not a dtype"],
      [[archive, '--input-dtype', 'tokens'], 2, "--input-dtype 'tokens': expected NAME=DTYPE"],
      [[onnx, '--input-dtype', 'tokens=float32'], 1, "--input-dtype tokens: the model declares input 'tokens' as int64"],
      [[onnx, '--input-dtype', 'ids=int64'], 1, "--input-dtype ids: the model has no input 'ids'"],
    ];
    for (const [args, code, message] of cases) {
      const out = join(temp, 'refused-dtype.onnx');
      const run = await runCli(['convert', ...args, '-o', out, '--input-shape', 'tokens=batch,time'], temp);
      expect(run.code, message).toBe(code);
      expect(run.stderr, message).toContain(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);
});
