/**
 * A scripted module that returns a NamedTuple with Optional fields left None, as torchvision's
 * googlenet and inception_v3 do in eval mode (`GoogLeNetOutputs(logits, None, None)`, QA s9): the
 * tuple is built from the archive's `class …(NamedTuple)` (fields in declaration order, keywords by
 * name), its None fields are no graph outputs (with a note), and ORT matches torch on the rest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt, TorchEngine } from '@modelpass/runtime';
import { readTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-named-tuple-'));
  const script = join(dir, 'make.py');
  writeFileSync(
    script,
    `import sys, numpy as np, torch
from typing import NamedTuple, Optional
class Outputs(NamedTuple):
    logits: torch.Tensor
    aux: Optional[torch.Tensor]
    scale: torch.Tensor
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
    def forward(self, x) -> Outputs:
        aux: Optional[torch.Tensor] = None
        if self.training:
            aux = x
        return Outputs(self.fc(x), aux, scale=x.sum(1))
torch.manual_seed(0)
m = torch.jit.script(M().eval())
m.save(sys.argv[1] + "/m.pt")
x = torch.randn(2, 4)
out = m(x)
np.save(sys.argv[1] + "/x.npy", x.numpy()); np.save(sys.argv[1] + "/logits.npy", out.logits.detach().numpy()); np.save(sys.argv[1] + "/scale.npy", out.scale.detach().numpy())
`,
  );
  runPython(script, [dir]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('imports the NamedTuple result, leaves its None field out with a note, and ORT matches torch', async () => {
  const notes: string[] = [];
  const model = readTorchScript(join(dir, 'm.pt'), { inputs: [{ shape: ['batch', 4] }], onNote: (note) => notes.push(note) });
  expect(notes).toEqual(["forward's output 1 is None: it is not a graph output"]);
  expect(model.graph.outputs).toHaveLength(2);
  const path = join(dir, 'm.onnx');
  writeOnnx(model, path);
  const outputs = [...(await runOrt(path, { [model.graph.inputs[0]!.name]: readNpy(join(dir, 'x.npy')) })).values()];
  for (const [index, name] of ['logits', 'scale'].entries()) {
    const expected = readNpy(join(dir, `${name}.npy`)).toNumbers();
    outputs[index]!.toNumbers().forEach((value, i) => expect(Math.abs(value - expected[i]!), name).toBeLessThan(1e-6));
  }
});

it('the torch engine skips the None field too, so outputs line up by position', async () => {
  const model = readTorchScript(join(dir, 'm.pt'), { inputs: [{ shape: ['batch', 4] }] });
  const outputs = await new TorchEngine().run(join(dir, 'm.pt'), { x: readNpy(join(dir, 'x.npy')) }, { outputs: model.graph.outputs.map((output) => output.name) });
  expect(outputs.size).toBe(2);
  const [logits, scale] = [...outputs.values()];
  expect(logits!.shape).toEqual([2, 3]);
  expect(scale!.toNumbers()).toEqual(readNpy(join(dir, 'scale.npy')).toNumbers());
}, 60_000);
