/**
 * The TorchScript source parser (locations, errors) and the importer's edges: an op with no
 * lowering kept as an opaque aten op (refused by ONNX by name and location, written back to torch),
 * a branch on tensor data refused with its location, input ranks given by the caller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { assertNoAtenOps, parseTorchScript, readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython, torchRun } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-source-'));
  runPython(join(here, 'torch/make-small-archives.py'), [dir]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelpassError);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError');
}

describe('parseTorchScript', () => {
  const source = [
    'class Block(Module):',
    '  __parameters__ = ["weight", ]',
    '  weight : Tensor',
    '  stride : Final[Tuple[int, int]] = (1, 1)',
    '  __annotations__["0"] = __torch__.torch.nn.modules.conv.Conv2d',
    '  def forward(self: __torch__.Block,',
    '    x: Tensor) -> Tensor:',
    '    _0 = getattr(self, "0")',
    '    if torch.__is__(self.weight, None):',
    '      y = annotate(List[int], [])',
    '    else:',
    '      y, z, = (x, x)',
    '    return (_0).forward(torch.add(x, CONSTANTS.c0, alpha=-1.5e-3), )',
    'def helper(a: int=2) -> int:',
    '  return a if a >= 0 else -a',
    '',
  ].join('\n');

  it('keeps classes, fields, methods and statements with their file:line:col', () => {
    const file = parseTorchScript(source, 'code/__torch__.py');
    const block = file.classes.get('Block')!;
    expect(block.fields.map((f) => f.kind)).toEqual(['assign', 'annotated', 'annotated', 'assign']);
    const forward = block.methods.get('forward')!;
    expect(forward.params.map((p) => p.name)).toEqual(['self', 'x']);
    expect(forward.body.map((s) => s.kind)).toEqual(['assign', 'if', 'return']);
    expect(forward.body[1]!).toMatchObject({ at: { file: 'code/__torch__.py', line: 9, column: 5 } });
    expect(file.functions.get('helper')!.params[0]).toMatchObject({ name: 'a', defaultValue: { kind: 'int', value: 2 } });
  });

  it.each([
    ['class A(Module):\n  def f(self):\n    return (1, \n', /unclosed bracket/],
    ['def f(x):\n    y = 1\n  z = 2\n', /inconsistent indentation/],
    ['def f(x):\n  return x +\n', /expected an expression, found end of line in TorchScript source/],
    ['def f(x):\n  y = "abc\n', /unterminated string/],
    ['def f(x):\n  y = x $ 2\n', /unexpected character "\$"/],
  ])('refuses %j with a located error', (text, message) => {
    const error = caught(() => parseTorchScript(text, 'code/bad.py'));
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/code\/bad\.py:\d+:\d+/);
  });
});

describe('importer edges', () => {
  it('keeps an op with no lowering as aten.<op> located at its call; ONNX refuses it by name, TorchScript writes it back', () => {
    const model = readTorchScript(join(dir, 'logcumsumexp.pt'));
    const opaque = [...model.graph.nodes()].filter((node) => node.op.startsWith('aten.'));
    expect(opaque.map((node) => node.op)).toEqual(['aten.logcumsumexp']);
    expect(opaque[0]!.loc).toMatchObject({ file: expect.stringMatching(/logcumsumexp\.pt:code\/__torch__\.py$/), line: expect.any(Number) });
    const error = caught(() => assertNoAtenOps(model, join(dir, 'logcumsumexp.onnx'), 'ONNX'));
    expect(error.message).toMatch(/aten\.logcumsumexp \(node 'logcumsumexp' at .*logcumsumexp\.pt:code\/__torch__\.py:\d+:\d+\)/);
    const written = join(dir, 'logcumsumexp.rewritten.pt');
    writeTorchScript(model, written);
    torchRun(written, join(dir, 'tokens.npy'), join(dir, 'logcumsumexp.out.npy'));
    expect(readNpy(join(dir, 'logcumsumexp.out.npy')).toNumbers()).toEqual(readNpy(join(dir, 'logcumsumexp.expected.npy')).toNumbers());
  }, 60_000);

  it('lowers a branch on tensor data (early returns included) to an ONNX If located at the if', async () => {
    const model = readTorchScript(join(dir, 'data_if.pt'), { inputs: [{ shape: ['batch', 'time', 8] }] });
    const branches = [...model.graph.nodes()].filter((node) => node.op === 'onnx.If');
    expect(branches).toHaveLength(1);
    expect(branches[0]!.loc).toMatchObject({ file: expect.stringMatching(/data_if\.pt:code\/__torch__\.py$/) });
    const onnxPath = join(dir, 'data_if.onnx');
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, 'tokens.npy')) })).values()];
    const expected = readNpy(join(dir, 'data_if.expected.npy')).toNumbers();
    output!.toNumbers().forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-5));
  }, 60_000);

  it('needs the input rank for negative dims, and imports exactly once it is given', async () => {
    const error = caught(() => readTorchScript(join(dir, 'token_head.pt')));
    expect(error.message).toMatch(/unknown rank/);
    const model = readTorchScript(join(dir, 'token_head.pt'), { inputs: [{ shape: ['batch', 'time', 8] }] });
    const onnxPath = join(dir, 'token_head.onnx');
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, 'tokens.npy')) })).values()];
    const expected = readNpy(join(dir, 'token_head.expected.npy')).toNumbers();
    output!.toNumbers().forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-5));
  }, 60_000);

  it('lowers torch.flatten(x, 2) to a rank-3 Reshape, not ONNX Flatten (which always gives rank 2)', async () => {
    const model = readTorchScript(join(dir, 'flatten_from_2.pt'), { inputs: [{ shape: [2, 5, 8] }] });
    const onnxPath = join(dir, 'flatten_from_2.onnx');
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(dir, 'tokens.npy')) })).values()];
    const expected = readNpy(join(dir, 'flatten_from_2.expected.npy'));
    expect(output!.shape).toEqual(expected.shape);
    const want = expected.toNumbers();
    output!.toNumbers().forEach((value, i) => expect(Math.abs(value - want[i]!)).toBeLessThan(1e-4));
  }, 60_000);

  it('refuses a for loop over a huge constant range at once, naming the limit, instead of unrolling it', () => {
    const started = Date.now();
    const error = caught(() => readTorchScript(join(dir, 'huge_for.pt'), { inputs: [{ shape: [2, 4] }] }));
    expect(error.message).toMatch(/range\(\) of 1000000000 items is more than the importer unrolls \(100000\)/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
