/**
 * `modelpass compare a.onnx b.pt` with random inputs (QA s12 N7): an archive records no input
 * dtypes, so its token ids were read as float32 and the embedding refused them, although the ONNX
 * side declares int64 'ids'. The other model now lends its non-float32 input dtypes to the archive
 * (said on stderr; --input-dtype still wins), by name or — when the forward names its argument
 * otherwise — by position.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';
import { modelsMadeByTorch } from './torch-made-models.js';

let work: string;
beforeAll(() => {
  work = modelsMadeByTorch(
    'modelpass-compare-lent-dtypes-',
    `import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.e = torch.nn.Embedding(30, 6); self.o = torch.nn.Linear(6, 3)
    def forward(self, ids):
        return self.o(self.e(ids).mean(1))
class Renamed(torch.nn.Module):
    def __init__(self, inner):
        super().__init__(); self.inner = inner
    def forward(self, tokens):
        return self.inner(tokens)
out = sys.argv[1]
m = M().eval()
ids = torch.randint(0, 30, (2, 5))
torch.onnx.export(m, (ids,), out + "/m.onnx", input_names=["ids"], output_names=["y"], dynamic_axes={"ids": {0: "batch", 1: "len"}}, opset_version=13)
torch.jit.save(torch.jit.script(m), out + "/m.pt")
torch.jit.save(torch.jit.script(Renamed(m)), out + "/renamed.pt")
`,
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each(['m.pt', 'renamed.pt'])('compare m.onnx %s with random inputs feeds the archive int64 ids from the ONNX side and agrees', (archive) => {
  const result = spawnCli(['compare', join(work, 'm.onnx'), join(work, archive), '--dim', 'batch=2', '--dim', 'len=4', '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toContain("modelpass: ids: int64 (the .pt records no input dtypes; taken from");
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree' });
}, 120_000);

it('--input-dtype wins over the lent dtype (no note)', () => {
  const result = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'm.pt'), '--input-dtype', 'ids=int64', '--dim', 'batch=2', '--dim', 'len=4', '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).not.toContain('records no input dtypes');
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree' });
}, 120_000);
