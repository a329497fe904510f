/**
 * `eval x.pt --engine torch` measures the archive itself in PyTorch (`/usr/bin/python3`), as `compare`
 * already could; before, eval refused `--engine torch` and could only run the model modelpass read the
 * archive into. The trained Fashion-MNIST CNN written as TorchScript must score exactly what the ONNX
 * file scores in ONNX Runtime on the same images.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-eval-torch-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const evalArgs = ['--dataset', 'fashion-mnist:test', '--limit', '500', '--json'];

describe('eval --engine torch', () => {
  it('scores a .pt in torch exactly as its ONNX source scores in ONNX Runtime', async () => {
    const archive = join(temp, 'cnn.pt');
    const written = await runCli(['convert', cnn, '-o', archive]);
    expect(written.code, written.stderr).toBe(0);
    const onnx = await runCli(['eval', cnn, ...evalArgs]);
    expect(onnx.code, onnx.stderr).toBe(0);
    const torch = await runCli(['eval', archive, ...evalArgs, '--engine', 'torch', '--sample-shape', '1,28,28']);
    expect(torch.code, torch.stderr).toBe(0);
    const [a, b] = [JSON.parse(onnx.stdout), JSON.parse(torch.stdout)] as { correct: number; total: number; engine: string }[];
    expect(b!.engine).toBe('torch');
    expect(b!.total).toBe(500);
    expect(a!.correct).toBeGreaterThan(400); // the trained CNN, not noise
    expect(b!.correct).toBe(a!.correct);
  }, 180_000);

  it('refuses --engine torch for a file torch cannot load, as a usage error naming it', async () => {
    const result = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--limit', '10', '--engine', 'torch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--engine torch cannot run '.*model\.onnx': it is an ONNX model/);
  });
});
