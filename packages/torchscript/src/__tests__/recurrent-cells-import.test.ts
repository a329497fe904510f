/**
 * Recurrent cells stepped by a Python loop, as a stranger writes a decoder (QA s9): scripted
 * `torch.lstm_cell` / `gru_cell` / `rnn_tanh_cell` / `rnn_relu_cell`, and the traced cells' own
 * code (`torch.unsafe_chunk` of the gates); a scripted loop whose trip count comes from `t.item()`.
 * Referees: Debian torch (the archive's outputs) and ONNX Runtime on the imported model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError, type Dim } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchArchive } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
let counts: Record<string, number>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-recurrent-cells-'));
  counts = JSON.parse(runPython(join(here, 'torch/make-cell-models.py'), [dir])) as Record<string, number>;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODELS: Array<[string, Dim[], string]> = [
  ...['lstm', 'gru', 'tanh', 'relu'].flatMap((kind): Array<[string, Dim[], string]> => [
    [`${kind}_scripted`, ['batch', 4, 6], kind === 'relu' ? 'onnx.Relu' : 'onnx.Tanh'],
    [`${kind}_traced`, ['batch', 4, 6], kind === 'relu' ? 'onnx.Relu' : 'onnx.Tanh'],
  ]),
  ['item_loop', [1, 8], 'onnx.Loop'],
];

describe.each(MODELS)('%s', (name, shape, op) => {
  it(`imports at [${shape.join(', ')}] (with ${op}) and ORT matches torch on every case`, async () => {
    const model = readTorchScript(join(dir, `${name}.pt`), { inputs: [{ shape }] });
    expect([...model.graph.nodes()].some((node) => node.op === op)).toBe(true);
    const onnxPath = join(dir, `${name}.onnx`);
    writeOnnx(model, onnxPath);
    for (let i = 0; i < counts[name]!; i++) {
      const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, `${name}.input${i}.npy`)) })).values()];
      const expected = readNpy(join(dir, `${name}.expected${i}.npy`));
      expect(output!.shape).toEqual(expected.shape);
      const worst = output!.toNumbers().reduce((w, v, j) => Math.max(w, Math.abs(v - expected.toNumbers()[j]!)), 0);
      expect(worst, `case ${i}`).toBeLessThan(1e-5);
    }
  }, 60_000);
});

it('an op with no lowering whose result is unpacked is named as such, not as "cannot unpack Tensor"', () => {
  const source = ['class M(Module):', '  __parameters__ = []', '  __buffers__ = []', '  training : bool',
    '  def forward(self: __torch__.M,', '    x: Tensor) -> Tensor:', '    a, b, = torch.no_such_split(x, 2)', '    return a', ''].join('\n');
  const path = join(dir, 'opaque.pt');
  writeTorchArchive(path, {
    prefix: 'opaque', version: 3, code: new Map([['code/__torch__.py', source]]),
    data: { kind: 'object', className: '__torch__.M', state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] }, tensors: new Map(),
  });
  expect(() => readTorchScript(path, { inputs: [{ shape: [2, 4] }] })).toThrow(ModelpassError);
  expect(() => readTorchScript(path, { inputs: [{ shape: [2, 4] }] })).toThrow(/opaque\.pt:code\/__torch__\.py:7:\d+: aten::no_such_split has no lowering \(its result is unpacked into 2 names\)/);
});
