/**
 * `modelpass compare a.onnx b.pt` of a module calling torchvision.ops.nms failed at modelpass's TorchScript reader
 * ("call of ops.torchvision.nms is not supported") although torch runs the archive. compare now runs such an
 * archive on torch as it is (the torch engine imports torchvision), fed the other model's inputs by position, and
 * says so; with --engine ort (which runs what the reader made of it) the reader's refusal stands.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const MAKE = `
import sys, torch, torchvision
class Nms(torch.nn.Module):
    def forward(self, boxes, scores):
        return torchvision.ops.nms(boxes, scores, 0.5)
out = sys.argv[1]
boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10]], dtype=torch.float32)
scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
torch.jit.save(torch.jit.script(Nms()), out + "/nms.pt")
torch.onnx.export(Nms(), (boxes, scores), out + "/nms.onnx", opset_version=11, input_names=["boxes", "scores"], output_names=["keep"])
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-compare-torchvision-'));
  writeFileSync(join(dir, 'make.py'), MAKE);
  execFileSync('/usr/bin/python3', [join(dir, 'make.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compare with a .pt that calls torchvision.ops.nms', () => {
  it('runs the archive on torch as it is, either way round, and says why', async () => {
    for (const [a, b] of [['nms.onnx', 'nms.pt'], ['nms.pt', 'nms.onnx']] as const) {
      const result = await runCli(['compare', join(dir, a), join(dir, b), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/note: modelpass's TorchScript reader cannot read '.*nms\.pt' \(call of ops\.torchvision\.nms is not supported\); torch runs it as it is: fed '.*nms\.onnx''s inputs \(boxes, scores\) by position/);
      const verdict = JSON.parse(result.stdout) as { verdict: string; engines: string[] };
      expect(verdict.verdict).toBe('agree');
    }
  }, 180_000);

  it('keeps the reader\'s refusal with --engine ort, which runs what the reader made of the archive', async () => {
    const result = await runCli(['compare', join(dir, 'nms.onnx'), join(dir, 'nms.pt'), '--engine', 'ort']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/call of ops\.torchvision\.nms is not supported/);
  }, 120_000);
});
