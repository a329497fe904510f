import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { compareModels, createEngine, defaultEngineFor, readNpy, TorchEngine } from '@modelpass/runtime';

// Debian torch (tools/setup.sh installs python3-torch) makes a two-input, two-output module, its
// ONNX export, a variant with other weights, and torch's own outputs on fixed inputs.
const MAKE = `
import sys, numpy as np, torch
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
    def forward(self, x, y):
        h = torch.tanh(self.fc(x))
        return h * y, h.sum(1)
out = sys.argv[1]
torch.manual_seed(0)
m = M().eval()
x = torch.randn(2, 4); y = torch.randn(2, 3)
np.save(out + "/x.npy", x.numpy()); np.save(out + "/y.npy", y.numpy())
torch.jit.save(torch.jit.script(m), out + "/m.pt")
with torch.no_grad():
    a, b = m(x, y)
np.save(out + "/a.npy", a.numpy()); np.save(out + "/b.npy", b.numpy())
torch.onnx.export(m, (x, y), out + "/m.onnx", input_names=["x", "y"], output_names=["prod", "total"], opset_version=13)
torch.manual_seed(1)
torch.jit.save(torch.jit.script(M().eval()), out + "/other.pt")
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-torch-engine-'));
  // torch.jit.script reads the module's source, so the script must be a file
  writeFileSync(join(dir, 'make.py'), MAKE);
  execFileSync('/usr/bin/python3', [join(dir, 'make.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the torch engine', () => {
  it('runs a .pt with torch.jit.load and gives torch\'s outputs exactly, by position', async () => {
    const engine = createEngine('torch');
    const outputs = await engine.run(join(dir, 'm.pt'), new Map([['x', readNpy(join(dir, 'x.npy'))], ['y', readNpy(join(dir, 'y.npy'))]]));
    expect([...outputs.keys()]).toEqual(['output_0', 'output_1']);
    expect(Buffer.from(outputs.get('output_0')!.bytes()).equals(Buffer.from(readNpy(join(dir, 'a.npy')).bytes()))).toBe(true);
    expect(Buffer.from(outputs.get('output_1')!.bytes()).equals(Buffer.from(readNpy(join(dir, 'b.npy')).bytes()))).toBe(true);
    const named = await engine.run(join(dir, 'm.pt'), { x: readNpy(join(dir, 'x.npy')), y: readNpy(join(dir, 'y.npy')) }, { outputs: ['p', 't'] });
    expect([...named.keys()]).toEqual(['p', 't']);
  }, 120_000);

  it('is the default engine for .pt files, and compare matches an ONNX export against torch', async () => {
    expect(defaultEngineFor('a/b/model.pt')).toBe('torch');
    const same = await compareModels(join(dir, 'm.onnx'), join(dir, 'm.pt'), { atol: 1e-5, rtol: 1e-4 });
    expect(same.engines).toEqual(['ort', 'torch']);
    expect(same.perOutput.map((o) => o.name)).toEqual(['prod', 'total']);
    expect(same.withinTolerance).toBe(true);
    const other = await compareModels(join(dir, 'm.onnx'), join(dir, 'other.pt'));
    expect(other.withinTolerance).toBe(false);
  }, 120_000);

  it('says what to install when the Python has no torch, and names a missing Python', async () => {
    const noTorch = join(dir, 'python-without-site');
    writeFileSync(noTorch, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(noTorch, 0o755);
    const feeds = { x: Tensor.fromValues('float32', [2, 4], new Array(8).fill(0)), y: Tensor.fromValues('float32', [2, 3], new Array(6).fill(0)) };
    await expect(new TorchEngine({ python: noTorch }).run(join(dir, 'm.pt'), feeds)).rejects.toThrow(/needs PyTorch/);
    await expect(new TorchEngine({ python: join(dir, 'no-such-python') }).run(join(dir, 'm.pt'), feeds)).rejects.toThrow(/cannot start .*no-such-python/);
  }, 60_000);

  it('refuses what is not a TorchScript file, with torch\'s reason', async () => {
    const feeds = { x: Tensor.fromValues('float32', [2, 4], new Array(8).fill(0)) };
    await expect(createEngine('torch').run(join(dir, 'missing.pt'), feeds)).rejects.toThrow(/TorchScript archive .*missing\.pt.*does not exist/);
    await expect(createEngine('torch').run(join(dir, 'x.npy'), feeds)).rejects.toThrow(/torch could not run .*x\.npy/);
    await expect(createEngine('torch').run(new Uint8Array(4), feeds)).rejects.toThrow(/runs TorchScript archives/);
  }, 60_000);
});
