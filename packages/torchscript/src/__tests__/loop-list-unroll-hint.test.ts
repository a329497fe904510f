/**
 * A scripted `for i in range(x.size(1))` that appends to a list cannot become an ONNX Loop (the list is Python state);
 * with the input shapes given it unrolls. QA s20: without them the refusal said 'Python lists cannot depend on tensor
 * data' and gave no way forward, though the loop ran over a size, not data. Now it says so and how to give the shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTorchScript, writeTorchArchive } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-loop-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function archiveOf(name: string, body: string[]): string {
  const source = [`class ${name}(Module):`, '  __parameters__ = []', '  __buffers__ = []', '  training : bool', `  def forward(self: __torch__.${name},`, '    x: Tensor) -> Tensor:', ...body.map((line) => `    ${line}`), ''].join('\n');
  const path = join(dir, `${name}.pt`);
  writeTorchArchive(path, {
    prefix: name.toLowerCase(),
    version: 3,
    code: new Map([['code/__torch__.py', source]]),
    data: { kind: 'object', className: `__torch__.${name}`, state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] },
    tensors: new Map(),
  });
  return path;
}

const appendOverColumns = [
  'outs = annotate(List[Tensor], [])',
  'for i in range(torch.size(x, 1)):',
  '  _0 = torch.select(torch.slice(x), 1, i)',
  '  _1 = torch.append(outs, torch.mul(_0, float(torch.add(i, 1))))',
  'return torch.stack(outs, 1)',
];

describe('a list grown in a loop over a size', () => {
  it('unrolls with the input shapes given', () => {
    const model = readTorchScript(archiveOf('Columns', appendOverColumns), { inputs: { x: { shape: [2, 5] } } });
    const type = model.graph.outputs[0]!.type;
    expect(type.kind === 'tensor' ? type.shape : undefined).toEqual([2, 5]);
  });

  it('without them, names the loop, says the size is unknown and how to give the shapes', () => {
    const path = archiveOf('ColumnsUnknown', appendOverColumns);
    expect(() => readTorchScript(path, { inputs: { x: { shape: [2, 'n'] } } })).toThrowError(/__torch__\.py:8:\d+.*a list is changed inside a loop over a size not known while importing/);
    const error = (() => {
      try {
        readTorchScript(path);
      } catch (caught) {
        return caught as ModelpassError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ModelpassError);
    expect(error!.diagnostics[0]!.hint).toMatch(/--input-shape NAME=DIMS/);
  });

  it('a loop on tensor data keeps its own message', () => {
    const path = archiveOf('DataLoop', ['outs = annotate(List[Tensor], [])', 'for i in range(int(torch.sum(x))):', '  _0 = torch.append(outs, x)', 'return torch.relu(x)']);
    expect(() => readTorchScript(path, { inputs: { x: { shape: [2] } } })).toThrowError(/a list is changed inside a loop on tensor data/);
  });
});
