/**
 * Scripted modules as people write them (QA s13): `forward(x, mask: Optional[Tensor] = None)` called
 * without a mask, returning `(x, outs)` with `outs` a List[Tensor], and a module returning a
 * Dict[str, Tensor]. The reader made `mask` a float32 input ('masked_fill: mask must be a bool tensor')
 * and refused list and dict outputs; now the mask takes its default unless given a shape, and outputs
 * are flattened in the order the torch engine flattens them. Referees: torch and ONNX Runtime.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, type TorchScriptInputSpec } from '@modelpass/torchscript';
import { folderMadeByTorch } from './torch/folder-made-by-torch.js';

let dir: string;
beforeAll(() => {
  dir = folderMadeByTorch(
    'modelpass-optional-nested-',
    `import sys, numpy as np, torch
from typing import Dict, List, Optional, Tuple
torch.manual_seed(0)
out = sys.argv[1]
class Blocks(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.layers = torch.nn.ModuleList([torch.nn.Linear(8, 8) for _ in range(3)])
    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        outs: List[torch.Tensor] = []
        for layer in self.layers:
            x = torch.tanh(layer(x))
            outs.append(x * 0.5)
        if mask is not None:
            x = x.masked_fill(mask, 0.0)
        return x, outs
class Features(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    def forward(self, x) -> Dict[str, torch.Tensor]:
        y = self.conv(x)
        return {"feat": y, "pool": y.mean([2, 3])}
def flat(value):
    if isinstance(value, torch.Tensor): return [value]
    if isinstance(value, (tuple, list)): return [t for item in value for t in flat(item)]
    return [t for item in value.values() for t in flat(item)]
x = torch.randn(2, 8); mask = torch.rand(2, 8) > 0.5; image = torch.randn(1, 3, 5, 5)
blocks = torch.jit.script(Blocks().eval()); blocks.save(out + "/blocks.pt")
features = torch.jit.script(Features().eval()); features.save(out + "/features.pt")
np.save(out + "/x.npy", x.numpy()); np.save(out + "/mask.npy", mask.numpy()); np.save(out + "/image.npy", image.numpy())
for name, result in [("blocks", blocks(x)), ("masked", blocks(x, mask)), ("features", features(image))]:
    for i, t in enumerate(flat(result)): np.save(out + "/" + name + "." + str(i) + ".npy", t.detach().numpy())
`,
  );
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectTorchOutputs(archive: string, inputs: Record<string, TorchScriptInputSpec>, feeds: Record<string, string>, expected: string, count: number): Promise<void> {
  const notes: string[] = [];
  const model = readTorchScript(join(dir, archive), { inputs, onNote: (note) => notes.push(note) });
  expect(model.graph.outputs).toHaveLength(count);
  const path = join(dir, `${expected}.onnx`);
  writeOnnx(model, path);
  const results = [...(await runOrt(path, Object.fromEntries(Object.entries(feeds).map(([name, file]) => [name, readNpy(join(dir, file))])))).values()];
  results.forEach((result, i) => {
    const want = readNpy(join(dir, `${expected}.${i}.npy`));
    expect(result.shape).toEqual(want.shape);
    const values = want.toNumbers();
    result.toNumbers().forEach((value, j) => expect(Math.abs(value - values[j]!)).toBeLessThan(1e-5));
  });
}

it('an Optional[Tensor] argument left out is None (with a note), and a List[Tensor] output is flattened', async () => {
  await expectTorchOutputs('blocks.pt', { x: { shape: [2, 8] } }, { x: 'x.npy' }, 'blocks', 4);
});

it('the Optional[Tensor] argument becomes an input when it is given a shape', async () => {
  await expectTorchOutputs('blocks.pt', { x: { shape: [2, 8] }, mask: { shape: [2, 8], dtype: 'bool' } }, { x: 'x.npy', mask: 'mask.npy' }, 'masked', 4);
});

it('a Dict[str, Tensor] output is flattened in insertion order', async () => {
  await expectTorchOutputs('features.pt', { x: { shape: [1, 3, 5, 5] } }, { x: 'image.npy' }, 'features', 2);
});
