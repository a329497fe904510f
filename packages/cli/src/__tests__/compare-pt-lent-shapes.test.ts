/**
 * `modelpass compare a.onnx b.pt` (QA s13 R4): an archive records no input shapes, so a traced
 * model whose forward splits its input (split_with_sizes needs the rank while the archive is read)
 * was refused until --input-shape repeated what the ONNX side declares. The other model's fully
 * static inputs now lend their shapes to the archive (said on stderr; --input-shape still wins),
 * by name or — when the forward names its argument otherwise — by position, either model first.
 * An input with symbolic dims lends the shape the random inputs get (--dim, else 1; QA s18 round 16: a text model's
 * ids [batch, seq] needed --input-shape beside --dim; round 17: with the archive first too).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';
import { modelsMadeByTorch } from './torch-made-models.js';

let work: string;
beforeAll(() => {
  work = modelsMadeByTorch(
    'modelpass-compare-lent-shapes-',
    `import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.o = torch.nn.Linear(4, 3)
    def forward(self, x):
        a, b = torch.split(x, [4, 2], dim=-1)
        return self.o(a) * b.sum(-1, keepdim=True)
out = sys.argv[1]
m = M().eval()
x = torch.randn(2, 5, 6)
torch.onnx.export(m, (x,), out + "/m.onnx", input_names=["input"], output_names=["y"], opset_version=13)
torch.onnx.export(m, (x,), out + "/dyn.onnx", input_names=["input"], output_names=["y"], opset_version=13, dynamic_axes={"input": {0: "batch"}})
torch.jit.save(torch.jit.trace(m, (x,)), out + "/m.pt")
`,
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each([
  ['m.onnx', 'm.pt'],
  ['m.pt', 'm.onnx'],
])('compare %s %s without --input-shape feeds the archive the ONNX side static shape and agrees', (first, second) => {
  const result = spawnCli(['compare', join(work, first), join(work, second), '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toContain('modelpass: input: [2,5,6] (the .pt records no input shapes; taken from');
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree' });
}, 120_000);

it('the archive second: a symbolic dim lends the size the random inputs get (--dim, else 1)', () => {
  const sized = spawnCli(['compare', join(work, 'dyn.onnx'), join(work, 'm.pt'), '--dim', 'batch=3', '--json']);
  expect(sized.code, sized.stdout + sized.stderr).toBe(0);
  expect(sized.stderr).toContain("modelpass: input: [3,5,6] (the .pt records no input shapes; taken from '");
  expect(sized.stderr).toContain('its symbolic dims sized as the random inputs');
  expect(JSON.parse(sized.stdout)).toMatchObject({ verdict: 'agree', inputs: [{ name: 'input', shape: [3, 5, 6] }] });
  const defaulted = spawnCli(['compare', join(work, 'dyn.onnx'), join(work, 'm.pt'), '--json']);
  expect(defaulted.code, defaulted.stdout + defaulted.stderr).toBe(0);
  expect(defaulted.stderr).toContain('modelpass: input: [1,5,6] (the .pt records no input shapes');
}, 120_000);

it('the archive first: a symbolic dim lends the --dim size (else 1), and a --dim neither model has is refused (QA s18 round 17)', () => {
  const sized = spawnCli(['compare', join(work, 'm.pt'), join(work, 'dyn.onnx'), '--dim', 'batch=3', '--json']);
  expect(sized.code, sized.stdout + sized.stderr).toBe(0);
  expect(sized.stderr).toContain("modelpass: input: [3,5,6] (the .pt records no input shapes; taken from '");
  expect(JSON.parse(sized.stdout)).toMatchObject({ verdict: 'agree', inputs: [{ name: 'input', shape: [3, 5, 6] }] });
  const defaulted = spawnCli(['compare', join(work, 'm.pt'), join(work, 'dyn.onnx'), '--json']);
  expect(defaulted.code, defaulted.stdout + defaulted.stderr).toBe(0);
  expect(defaulted.stderr).toContain('modelpass: input: [1,5,6] (the .pt records no input shapes');
  const unknown = spawnCli(['compare', join(work, 'm.pt'), join(work, 'dyn.onnx'), '--dim', 'seq=3']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("--dim seq=…: the inputs of the first model have no dimension 'seq'");
}, 120_000);

it('--input-shape wins over the lent shape (no note)', () => {
  const given = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'm.pt'), '--input-shape', 'input=2,5,6', '--json']);
  expect(given.code, given.stdout + given.stderr).toBe(0);
  expect(given.stderr).not.toContain('records no input shapes');
  const dynamic = spawnCli(['compare', join(work, 'dyn.onnx'), join(work, 'm.pt'), '--input-shape', 'input=batch,5,6', '--dim', 'batch=3', '--json']);
  expect(dynamic.code, dynamic.stdout + dynamic.stderr).toBe(0);
  expect(dynamic.stderr).not.toContain('records no input shapes');
}, 120_000);
