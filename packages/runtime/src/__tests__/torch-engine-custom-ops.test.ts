/**
 * A TorchScript archive calling torchvision.ops.nms loads only once torchvision has registered its ops
 * (torchvision::nms): the torch engine's runner failed with torch's "Unknown builtin op: torchvision::nms" and a
 * traceback. It now imports torchvision when the Python has it, and says what is missing when it has not.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { readNpy, TorchEngine } from '@modelpass/runtime';

const MAKE = `
import sys, numpy as np, torch, torchvision
class Nms(torch.nn.Module):
    def forward(self, boxes, scores):
        return torchvision.ops.nms(boxes, scores, 0.5)
out = sys.argv[1]
boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10]], dtype=torch.float32)
scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
module = torch.jit.script(Nms())
torch.jit.save(module, out + "/nms.pt")
np.save(out + "/keep.npy", module(boxes, scores).numpy())
`;

/** A Python in which `import torchvision` fails, as on a machine with torch only. */
const WITHOUT_TORCHVISION = `#!/bin/sh
exec /usr/bin/python3 -c "
import sys, builtins
real_import = builtins.__import__
def without_torchvision(name, *args, **kwargs):
    if name.split('.')[0] == 'torchvision':
        raise ImportError('No module named ' + repr(name))
    return real_import(name, *args, **kwargs)
builtins.__import__ = without_torchvision
code = sys.argv[2]
sys.argv = [sys.argv[0]] + sys.argv[3:]
exec(compile(code, '<runner>', 'exec'))
" "$@"
`;

const feeds = {
  boxes: Tensor.fromValues('float32', [4, 4], [0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 0, 0, 9, 10]),
  scores: Tensor.fromValues('float32', [4], [0.9, 0.8, 0.7, 0.6]),
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-torch-custom-ops-'));
  writeFileSync(join(dir, 'make.py'), MAKE);
  execFileSync('/usr/bin/python3', [join(dir, 'make.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the torch engine and torchvision ops', () => {
  it('runs an archive calling torchvision.ops.nms, giving torch\'s own result', async () => {
    const outputs = await new TorchEngine().run(join(dir, 'nms.pt'), feeds);
    expect(outputs.get('output_0')!.toNumbers()).toEqual(readNpy(join(dir, 'keep.npy')).toNumbers());
    expect(outputs.get('output_0')!.toNumbers()).toEqual([0, 2]);
  }, 120_000);

  it('names the custom op and what to install when the Python has no torchvision', async () => {
    const python = join(dir, 'python-without-torchvision');
    writeFileSync(python, WITHOUT_TORCHVISION);
    chmodSync(python, 0o755);
    const error = await new TorchEngine({ python }).run(join(dir, 'nms.pt'), feeds).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(
      /torch cannot load '.*nms\.pt': it calls torchvision's custom op torchvision::nms, which torch knows only with torchvision imported, and '.*python-without-torchvision' cannot import torchvision \(No module named 'torchvision'\)/,
    );
    expect(error?.message).toMatch(/hint: install torchvision for that Python \(Debian: apt-get install -y --no-install-recommends python3-torchvision\)/);
  }, 120_000);
});
