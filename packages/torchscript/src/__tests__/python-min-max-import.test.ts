/**
 * Python's min/max of numbers, as TorchScript prints them (`ops.prim.min([a, b])`, `ops.prim.max(a, b)`). QA s20: a
 * scripted list comprehension with `enumerate` over a ModuleList (`[relu(y) * i for i, y in enumerate(ys)]`) is printed
 * as `for i in range(ops.prim.min([9223372036854775807, torch.len(ys)]))`, and the import stopped at
 * 'prim::min has no lowering'. Known numbers fold; a size read at run time becomes an int64 Min/Max.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchArchive } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-min-max-'));
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

const input = (shape: number[]) => Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => i - 3));
const run = async (model: ReturnType<typeof readTorchScript>, shape: number[]) => [...(await runOrt(model, { x: input(shape) })).values()][0]!;

describe('ops.prim.min / ops.prim.max', () => {
  it('folds a list comprehension with enumerate (min of the int64 maximum and a list length)', async () => {
    const path = archiveOf('Enumerated', [
      'ys = annotate(List[Tensor], [])',
      '_0 = torch.append(ys, torch.relu(x))',
      '_1 = torch.append(ys, torch.neg(x))',
      '_2 = torch.append(ys, torch.abs(x))',
      'zs = annotate(List[Tensor], [])',
      '_3 = [9223372036854775807, torch.len(ys)]',
      'for i in range(ops.prim.min(_3)):',
      '  y = ys[i]',
      '  _4 = torch.append(zs, torch.mul(y, float(ops.prim.max(i, 1))))',
      'return torch.cat(zs, 1)',
    ]);
    const model = readTorchScript(path, { inputs: { x: { shape: [2, 3] } } });
    const out = await run(model, [2, 3]);
    const x = input([2, 3]).toNumbers();
    const expected = [0, 1].flatMap((row) => {
      const r = x.slice(row * 3, row * 3 + 3);
      return [...r.map((v) => Math.max(v, 0)), ...r.map((v) => -v), ...r.map((v) => Math.abs(v) * 2)];
    });
    expect(out.shape).toEqual([2, 9]);
    expect(Math.max(...out.toNumbers().map((v, i) => Math.abs(v - expected[i]!)))).toBe(0);
  });

  it('takes a size read at run time into an int64 Min (at most 3 columns of a [b, t] input)', async () => {
    const path = archiveOf('Clipped', ['_0 = ops.prim.min([torch.size(x, 1), 3, 9223372036854775807])', 'return torch.slice(x, 1, 0, _0, 1)']);
    const model = readTorchScript(path, { inputs: { x: { shape: ['b', 't'] } } });
    expect((await run(model, [2, 5])).shape).toEqual([2, 3]);
    expect((await run(model, [2, 2])).shape).toEqual([2, 2]);
  });

  it('refuses a min over a tensor that is not a size, naming the call', () => {
    const path = archiveOf('Mixed', ['_0 = ops.prim.min([x, 3])', 'return torch.relu(x)']);
    expect(() => readTorchScript(path, { inputs: { x: { shape: [2] } } })).toThrowError(ModelpassError);
    expect(() => readTorchScript(path, { inputs: { x: { shape: [2] } } })).toThrowError(/__torch__.py:7:\d+.*prim_min: min\(\) is read over numbers and sizes only, got Tensor/);
  });
});
