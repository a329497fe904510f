/**
 * `--engine` on `compare`/`eval` with a file that engine cannot load, and `compare` of a TorchScript
 * archive without shapes: usage errors naming the file and what to do (exit 2), instead of ONNX
 * Runtime's "Protobuf parsing failed", TFLite's "not a valid Flatbuffer buffer", a Python traceback,
 * or the runtime's API hint `shapes: { 'x': [...] }`. Real files: the CNN fixture, its TFLite
 * conversion, and a scripted module saved by Debian's torch.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-engine-formats-'));
const onnx = join(temp, 'cnn.onnx');
const tflite = join(temp, 'cnn.tflite');
const archive = join(temp, 'token_head.pt');
const scaled = join(temp, 'scaled.pt');
// A module that imports without knowing its input's rank (elementwise), so only the random inputs need one.
const SCALED = 'import sys, torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x) * 2.0 + 1.0\ntorch.jit.script(M()).save(sys.argv[1])';
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(async () => {
  copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), onnx);
  expect((await runCli(['convert', onnx, '-o', tflite])).code).toBe(0);
  execFileSync('/usr/bin/python3', [join(repoRoot, 'packages/torchscript/src/__tests__/torch/make-small-archives.py'), temp], { stdio: 'ignore', timeout: 120_000 });
  // torch.jit.script reads the class's source, so the script must be a file.
  writeFileSync(join(temp, 'make_scaled.py'), `${SCALED}\n`);
  execFileSync('/usr/bin/python3', [join(temp, 'make_scaled.py'), scaled], { stdio: 'ignore', timeout: 120_000 });
}, 300_000);

function expectUsageError(result: { code: number; stderr: string }, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/Protobuf parsing failed|Flatbuffer|Traceback|no reference kernel|shapes: \{/);
}

describe('--engine with a file that engine cannot load', () => {
  it('compare --engine ort with a .tflite names the file and its runtime', async () => {
    expectUsageError(await runCli(['compare', onnx, tflite, '--engine', 'ort']), /--engine ort cannot run '.*cnn\.tflite': it is a TFLite model, which the TFLite runtime \(tflite\) runs/);
  });

  it('compare --engine tflite / torch with an .onnx, eval --engine tflite / reference', async () => {
    expectUsageError(await runCli(['compare', onnx, onnx, '--engine', 'tflite']), /--engine tflite cannot run '.*cnn\.onnx': it is an ONNX model/);
    expectUsageError(await runCli(['compare', onnx, tflite, '--engine', 'torch']), /--engine torch cannot run '.*cnn\.onnx': it is an ONNX model/);
    expectUsageError(await runCli(['eval', onnx, '--dataset', 'fashion-mnist:test', '--limit', '8', '--engine', 'tflite']), /--engine tflite cannot run '.*cnn\.onnx'/);
    expectUsageError(await runCli(['eval', tflite, '--dataset', 'fashion-mnist:test', '--limit', '8', '--engine', 'reference']), /--engine reference cannot run '.*cnn\.tflite'/);
  });

  it('the engines that load both files still compare them', async () => {
    const result = await runCli(['compare', onnx, tflite]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/verdict: agree/);
  });
});

describe('compare of a TorchScript archive', () => {
  it('without --input-shape asks for it by input name (exit 2)', async () => {
    expectUsageError(await runCli(['compare', scaled, scaled]), /input 'x' of '.*scaled\.pt' has no recorded shape.*--input-shape x=/);
    const given = await runCli(['compare', scaled, scaled, '--input-shape', 'x=2,3']);
    expect(given.stdout).toMatch(/verdict: agree/);
    expect(given.code).toBe(0);
  });

  it('--engine ort runs what the archive was read into, and agrees with torch running the file', async () => {
    const result = await runCli(['compare', archive, archive, '--engine', 'ort', '--input-shape', 'x=2,5,8']);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    const mixed = await runCli(['compare', archive, join(temp, 'token_head.onnx'), '--input-shape', 'x=2,5,8']);
    // No ONNX file of it exists yet: convert one, then torch (file) against ORT (ONNX) agree.
    expect(mixed.code).toBe(2);
    expect((await runCli(['convert', archive, '-o', join(temp, 'token_head.onnx'), '--input-shape', 'x=2,5,8'])).code).toBe(0);
    const both = await runCli(['compare', archive, join(temp, 'token_head.onnx'), '--input-shape', 'x=2,5,8']);
    expect(both.stdout).toMatch(/verdict: agree/);
    expect(both.code).toBe(0);
  });
});
