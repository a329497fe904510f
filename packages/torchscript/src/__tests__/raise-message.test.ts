/**
 * A `raise` on the path the given input shapes take is reported with the model's own message:
 * `torch.format` (TorchScript's `"…".format(…)`) is evaluated at import, so the user reads
 * "expected a 2-D input, got 4-D" rather than a placeholder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTorchScript, writeTorchArchive } from '@modelpass/torchscript';

const SOURCE = [
  'class Checked(Module):',
  '  __parameters__ = []',
  '  __buffers__ = []',
  '  training : bool',
  '  def forward(self: __torch__.Checked,',
  '    x: Tensor) -> Tensor:',
  '    _0 = torch.dim(x)',
  '    if torch.ne(_0, 2):',
  '      _1 = torch.format("Checked: expected a 2-D input, got {}-D ({{literal braces}}, {}, {})", _0, [1, 2], True)',
  '      ops.prim.RaiseException(_1)',
  '    else:',
  '      pass',
  '    return torch.relu(x)',
  '',
].join('\n');

let dir: string;
let archive: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-raise-'));
  archive = join(dir, 'checked.pt');
  writeTorchArchive(archive, {
    prefix: 'checked',
    version: 3,
    code: new Map([['code/__torch__.py', SOURCE]]),
    data: { kind: 'object', className: '__torch__.Checked', state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] },
    tensors: new Map(),
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raise messages', () => {
  it('imports when the shape passes the check', () => {
    const model = readTorchScript(archive, { inputs: { x: { shape: [3, 4] } } });
    expect(model.graph.nodeList().map((n) => n.op)).toContain('onnx.Relu');
  });

  it("shows the model's formatted message when the given shape takes the raising path", () => {
    let error: unknown;
    try {
      readTorchScript(archive, { inputs: { x: { shape: [1, 2, 3, 4] } } });
    } catch (thrown) {
      error = thrown;
    }
    expect(ModelpassError.is(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('the model raises an exception on this path: Checked: expected a 2-D input, got 4-D ({literal braces}, [1, 2], True)');
    expect(message).not.toContain('formatted message');
  });
});
