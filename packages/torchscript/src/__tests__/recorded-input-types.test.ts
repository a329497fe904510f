/**
 * An archive modelpass writes records each tensor input's dtype and shape in extra/modelpass.json (`forward(self,
 * x: Tensor)` cannot say them), and the reader takes them where the caller gives none: QA s19 converted a Fashion-MNIST
 * .onnx (image float32[n,1,28,28]) to .pt, and `modelpass eval model.pt` was refused 'input image has no recorded
 * shape'; a text model's int64 token ids came back float32. What the caller gives still wins, field by field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-recorded-input-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** tokens int64[batch, seq] through an Embedding-like Gather, plus a float32 input named as torch.onnx names them. */
function textModelPath(): string {
  const b = new GraphBuilder();
  const tokens = b.input('tokens', tensorType('int64', ['batch', 'seq']));
  const bias = b.input('input.1', tensorType('float32', ['batch', 'seq', 4]));
  const table = b.constant(Tensor.fromValues('float32', [10, 4], Array.from({ length: 40 }, (_, i) => i / 8)), 'table');
  b.output(b.op1('onnx.Add', [b.op1('onnx.Gather', [table, tokens], { axis: attrs.int(0) }), bias]));
  const path = join(dir, 'text.pt');
  writeTorchScript(b.model({ onnx: 17 }), path);
  return path;
}

describe('input dtypes and shapes recorded in an archive modelpass wrote', () => {
  it('read back without any input spec: the same dtypes, shapes and names', () => {
    const read = readTorchScript(textModelPath());
    expect(read.graph.inputs.map((value) => [value.name, value.type])).toEqual([
      ['tokens', tensorType('int64', ['batch', 'seq'])],
      ['input.1', tensorType('float32', ['batch', 'seq', 4])],
    ]);
    expect(read.graph.outputs[0]!.type).toEqual(tensorType('float32', ['batch', 'seq', 4]));
  });

  it('a given shape or dtype wins over the recorded one, by argument or by input name', () => {
    const path = textModelPath();
    const read = readTorchScript(path, { inputs: { tokens: { shape: [2, 3] }, 'input.1': { shape: [2, 3, 4] } } });
    expect(read.graph.inputs.map((value) => value.type)).toEqual([tensorType('int64', [2, 3]), tensorType('float32', [2, 3, 4])]);
  });

  it('torch.jit.load still runs the archive (the record is an extra file it ignores)', () => {
    const path = textModelPath();
    const script = join(dir, 'run.py');
    writeFileSync(script, [
      'import sys, torch',
      'm = torch.jit.load(sys.argv[1])',
      'y = m(torch.tensor([[1, 2, 3]]), torch.zeros(1, 3, 4))',
      'print(list(y.shape), float(y[0, 2, 3]))',
    ].join('\n'));
    expect(runPython(script, [path]).trim()).toBe('[1, 3, 4] 1.875');
  });

  it('a record whose inputTypes are not what the writer writes is kept as an extra file, and nothing is assumed', () => {
    const path = join(dir, 'hand-made.pt');
    const script = join(dir, 'save.py');
    writeFileSync(script, [
      'import sys, torch',
      'class M(torch.nn.Module):',
      '    def forward(self, x):',
      '        return x + 1',
      'record = \'{"outputs": ["y"], "inputTypes": {"x": {"dtype": "int65", "shape": [2]}}}\'',
      "torch.jit.save(torch.jit.script(M()), sys.argv[1], _extra_files={'modelpass.json': record})",
    ].join('\n'));
    runPython(script, [path]);
    const notes: string[] = [];
    const read = readTorchScript(path, { onNote: (note) => notes.push(note) });
    expect(read.graph.inputs[0]!.type).toEqual(tensorType('float32', null));
    expect(notes.join('\n')).toContain('modelpass.json is not the output names and metadata modelpass writes there');
  });
});
