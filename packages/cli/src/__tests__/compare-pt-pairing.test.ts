/**
 * QA s11 R3 and R1. torch takes a .pt's forward arguments by position, so `compare m.onnx m.pt
 * --input-shape input=…` (ONNX input 'input', forward(x)) binds the shape to x, either model first,
 * with a note; the archive's own name x makes the .onnx refuse, and the error says how inputs pair.
 * `--bind n=3` (a non-tensor forward argument) is taken by inspect and by compare (models run as
 * read: torch feeds forward tensors only, so compare asks for --engine ort).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './run-cli.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-compare-pt-pairing-'));
  const script = join(work, 'make.py');
  writeFileSync(
    script,
    `import sys, torch
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)
    def forward(self, x):
        return torch.relu(self.lin(x))
class Scale(torch.nn.Module):
    def forward(self, x, n: int):
        return x * n + 1.0
out = sys.argv[1]
torch.manual_seed(0)
m = M().eval()
torch.onnx.export(m, (torch.randn(2, 4),), out + "/m.onnx", input_names=["input"], output_names=["y"], opset_version=13, dynamic_axes={"input": {0: "batch"}})
torch.jit.save(torch.jit.trace(m, torch.randn(2, 4)), out + "/m.pt")
torch.jit.save(torch.jit.script(Scale()), out + "/scale.pt")
`,
  );
  execFileSync('/usr/bin/python3', [script, work], { stdio: ['ignore', 'ignore', 'inherit'] });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('compare pairs a .pt by position', () => {
  it.each([
    ['m.onnx', 'm.pt'],
    ['m.pt', 'm.onnx'],
  ])('compare %s %s --input-shape input=2,4 binds the shape to forward(x) and agrees, with a note', (a, b) => {
    const result = spawnCli(['compare', join(work, a), join(work, b), '--input-shape', 'input=2,4']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain(`modelpass: note: '${join(work, 'm.pt')}' is fed by position: its forward arguments take the inputs of '${join(work, 'm.onnx')}' in order ('x' ← 'input')`);
    expect(result.stdout).toContain('inputs: input float32[2,4]');
  }, 120_000);

  it("the archive's own name is refused by the .onnx, and the error says how inputs pair (exit 2)", () => {
    const result = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'm.pt'), '--input-shape', 'x=2,4']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the model has no input 'x'");
    expect(result.stderr).toContain(`compare feeds '${join(work, 'm.pt')}' by position: its forward arguments take the other model's inputs in order`);
  }, 120_000);
});

describe('--bind on inspect and compare', () => {
  it('inspect scale.pt --bind n=3 reads the archive; without it the import error names --bind', () => {
    const bound = spawnCli(['inspect', join(work, 'scale.pt'), '--input-shape', 'x=2,3', '--bind', 'n=3']);
    expect(bound.code, bound.stderr).toBe(0);
    expect(bound.stdout).toContain('x: float32[2, 3]');
    const unbound = spawnCli(['inspect', join(work, 'scale.pt'), '--input-shape', 'x=2,3']);
    expect(unbound.code).toBe(1);
    expect(unbound.stderr).toContain('--bind n=');
  }, 120_000);

  it('compare scale.pt scale3.onnx --bind n=3 --engine ort agrees; on torch it is a usage error naming --engine ort', () => {
    const onnx = join(work, 'scale3.onnx');
    const made = spawnCli(['convert', join(work, 'scale.pt'), '-o', onnx, '--input-shape', 'x=2,3', '--bind', 'n=3']);
    expect(made.code, made.stderr).toBe(0);
    const result = spawnCli(['compare', join(work, 'scale.pt'), onnx, '--input-shape', 'x=2,3', '--bind', 'n=3', '--engine', 'ort']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const torch = spawnCli(['compare', join(work, 'scale.pt'), onnx, '--input-shape', 'x=2,3', '--bind', 'n=3']);
    expect(torch.code).toBe(2);
    expect(torch.stderr).toContain('add --engine ort');
  }, 120_000);
});
