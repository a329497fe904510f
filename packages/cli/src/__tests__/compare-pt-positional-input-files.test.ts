/**
 * `modelpass compare m.pt m.onnx --inputs DIR` with positional files (`input_0.npy`, ONNX test data's names), QA s20:
 * a traced super-resolution net whose forward upsamples to `(h * 2, w * 2)` needs its input shape while the archive
 * is read, and only files named after an input gave one, so the archive was refused ('aten::upsample_bilinear2d:
 * output_size[0] must be a known int') though input_0.npy said [1,3,8,10]. input_N feeds the other model's N-th
 * input and the archive's N-th argument: its shape is now lent to the archive, said on stderr, either model first.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';
import { modelsMadeByTorch } from './torch-made-models.js';

let work: string;
beforeAll(() => {
  work = modelsMadeByTorch(
    'modelpass-compare-positional-files-',
    `import os, sys, numpy, torch
import torch.nn.functional as F
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.c = torch.nn.Conv2d(3, 3, 3, padding=1)
    def forward(self, x):
        return F.interpolate(self.c(x), size=(x.shape[2] * 2, x.shape[3] * 2), mode="bilinear", align_corners=True)
out = sys.argv[1]
m = M().eval()
x = torch.randn(1, 3, 8, 10)
torch.onnx.export(m, (x,), out + "/m.onnx", input_names=["img"], output_names=["y"], opset_version=13)
torch.jit.save(torch.jit.trace(m, (x,)), out + "/m.pt")
os.mkdir(out + "/inputs")
numpy.save(out + "/inputs/input_0.npy", x.numpy())
`,
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each([
  ['m.pt', 'm.onnx'],
  ['m.onnx', 'm.pt'],
])('compare %s %s --inputs with input_0.npy gives the archive that file shape and agrees', (first, second) => {
  const result = spawnCli(['compare', join(work, first), join(work, second), '--inputs', join(work, 'inputs'), '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toContain('modelpass: img: [1,3,8,10] (the .pt records no input shapes; taken from the --inputs file input_0;');
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree', inputs: [{ name: 'img', shape: [1, 3, 8, 10] }] });
}, 120_000);

it('--input-shape still wins over the positional file (no note)', () => {
  const result = spawnCli(['compare', join(work, 'm.pt'), join(work, 'm.onnx'), '--inputs', join(work, 'inputs'), '--input-shape', 'img=1,3,8,10', '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).not.toContain('records no input shapes');
}, 120_000);
