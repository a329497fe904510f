/**
 * A branch on a size the given input shape fixes (`if x.size(2) == 1: x = x.squeeze(2)`, as silero
 * VAD's decoder has) is taken while importing: `torch._shape_as_tensor` of a static shape and
 * `bool()` of a known condition fold, so no If is written (an If whose untaken branch squeezes a dim
 * of size 2 is refused by ONNX Runtime's type inference). Referees: torch and ORT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-static-size-branch-'));
  const script = join(dir, 'make.py');
  writeFileSync(
    script,
    `import sys, numpy as np, torch
class M(torch.nn.Module):
    def forward(self, x):
        s = torch._shape_as_tensor(x)
        if bool(torch.eq(torch.index_select(s, 0, torch.tensor([2])), 1)):
            x = torch.squeeze(x, 2)
        else:
            x = torch.sum(x, 2)
        return x * 2.0
m = torch.jit.script(M())
m.save(sys.argv[1] + "/m.pt")
for name, shape in [("one", (2, 3, 1)), ("three", (2, 3, 3))]:
    x = torch.randn(*shape)
    np.save(sys.argv[1] + "/" + name + ".x.npy", x.numpy()); np.save(sys.argv[1] + "/" + name + ".y.npy", m(x).numpy())
`,
  );
  runPython(script, [dir]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  ['one', [2, 3, 1]],
  ['three', [2, 3, 3]],
])('with x=%s the branch is taken while importing (no If) and ORT matches torch', async (name, shape) => {
  const model = readTorchScript(join(dir, 'm.pt'), { inputs: [{ shape }] });
  expect([...model.graph.allNodes()].map((node) => node.op)).not.toContain('onnx.If');
  const path = join(dir, `${name}.onnx`);
  writeOnnx(model, path);
  const [output] = [...(await runOrt(path, { [model.graph.inputs[0]!.name]: readNpy(join(dir, `${name}.x.npy`)) })).values()];
  const expected = readNpy(join(dir, `${name}.y.npy`));
  expect(output!.shape).toEqual(expected.shape);
  output!.toNumbers().forEach((value, i) => expect(Math.abs(value - expected.toNumbers()[i]!)).toBeLessThan(1e-6));
});

it('with the size symbolic the branch stays an If', () => {
  const model = readTorchScript(join(dir, 'm.pt'), { inputs: [{ shape: [2, 3, 'n'] }] });
  expect([...model.graph.allNodes()].map((node) => node.op)).toContain('onnx.If');
});
