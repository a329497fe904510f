/**
 * Traced modules as torch writes them (QA s13): PointNet's `torch.eye(3)` added to a predicted
 * 3×3 transform, and a GPT-style position index `torch.arange(T)` of a traced size, which torch
 * prints as `torch.arange(annotate(number, T), …)`. Both were refused while importing ("eye has no
 * lowering", "name 'number' is not defined"). Referees: torch and ONNX Runtime.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript } from '@modelpass/torchscript';
import { folderMadeByTorch } from './torch/folder-made-by-torch.js';

let dir: string;
beforeAll(() => {
  dir = folderMadeByTorch(
    'modelpass-eye-arange-',
    `import sys, numpy as np, torch
torch.manual_seed(0)
out = sys.argv[1]
class Transform(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.fc = torch.nn.Linear(3, 9)
    def forward(self, x):
        t = self.fc(x.mean(2)).view(-1, 3, 3) + torch.eye(3)
        return torch.bmm(t, x) + torch.eye(3, 5, dtype=torch.int64).sum()
class Positions(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.wpe = torch.nn.Embedding(16, 4)
    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.wpe(pos) + ids.unsqueeze(2).float()
cases = [("transform", Transform(), torch.randn(2, 3, 7)), ("positions", Positions(), torch.randint(0, 9, (1, 6)))]
for name, module, x in cases:
    traced = torch.jit.trace(module.eval(), x)
    traced.save(out + "/" + name + ".pt")
    code = traced.code
    np.save(out + "/" + name + ".x.npy", x.numpy()); np.save(out + "/" + name + ".y.npy", traced(x).detach().numpy())
    open(out + "/" + name + ".code.txt", "w").write(code)
`,
  );
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  ['transform', [2, 3, 7], 'float32'],
  ['positions', [1, 6], 'int64'],
] as const)('%s: imports, and ONNX Runtime matches torch', async (name, shape, dtype) => {
  const model = readTorchScript(join(dir, `${name}.pt`), { inputs: [{ shape: [...shape], dtype }] });
  const path = join(dir, `${name}.onnx`);
  writeOnnx(model, path);
  const [output] = [...(await runOrt(path, { [model.graph.inputs[0]!.name]: readNpy(join(dir, `${name}.x.npy`)) })).values()];
  const expected = readNpy(join(dir, `${name}.y.npy`));
  expect(output!.shape).toEqual(expected.shape);
  const want = expected.toNumbers();
  output!.toNumbers().forEach((value, i) => expect(Math.abs(value - want[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]!))));
});
