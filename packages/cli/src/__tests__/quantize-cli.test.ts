/**
 * quantize-static from the command line, as the quantize README writes it, through the built
 * `modelpass` binary in a temporary folder outside the repository: the int8 file is written, passes
 * ONNX's checker, `--debug` says what was quantized (with the ORT kernel) and what was left float
 * (with the reason), `--statistics` prints the pass's counters, and `modelpass eval` on the output is
 * within 0.3 pp of the float model on the 10k Fashion-MNIST test images. Bad options exit 1 with the
 * option named and write nothing.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const FASHION = '/usr/share/datasets/fashion-mnist';
const PYTHON = '/usr/bin/python3';
let work: string;

beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  expect(existsSync(`${FASHION}/t10k-images-idx3-ubyte.gz`), `Fashion-MNIST is missing at ${FASHION}: run tools/setup.sh`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-quantize-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function accuracy(model: string): number {
  const result = spawnCli(['eval', model, '--dataset', 'fashion-mnist:test', '--batch-size', '1000', '--json'], work);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { accuracy: number }).accuracy;
}

describe('modelpass convert --pipeline quantize-static', () => {
  it("runs the README's command on fashion-transformer: --debug and --statistics, checker passes, eval within 0.3 pp", () => {
    copyFileSync(join(repoRoot, 'fixtures/models/fashion-transformer/model.onnx'), join(work, 'm.onnx'));
    const pipeline = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512 calibration=percentile}';
    const result = spawnCli(['convert', 'm.onnx', '-o', 'm.int8.onnx', '--pipeline', pipeline, '--debug', '--statistics'], work);
    expect(result.code, result.stderr).toBe(0);
    const out = join(work, 'm.int8.onnx');
    expect(statSync(out).size).toBeLessThan(statSync(join(work, 'm.onnx')).size * 0.4);
    execFileSync(PYTHON, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', out], { stdio: 'pipe' });

    const text = result.stdout + result.stderr;
    // What became integer, with ORT's kernel; what stayed float, with the reason.
    expect(text).toContain("[quantize-static] quantized MatMul '/layers.0/attn/qkv/MatMul' (ORT: MatMulIntegerToFloat)");
    expect(text).toMatch(/\[quantize-static\] left Softmax '\/layers\.0\/attn\/Softmax' float: .+/);
    expect(text).toMatch(/\[quantize-static\] left \d+ ReduceMean float: ORT has no integer kernel for ReduceMean/);
    // --statistics: the pass's counters, agreeing with what --debug listed.
    const quantizedLines = text.match(/^\[quantize-static\] quantized /gm) ?? [];
    expect(quantizedLines.length).toBeGreaterThanOrEqual(14); // 13 MatMuls and the head's Gemm, at least
    expect(text).toMatch(new RegExp(`\\(S\\)\\s+${quantizedLines.length} nodes-quantized`));
    expect(text).toMatch(/\(S\)\s+1 float-constants-quantized/);
    expect(text).toMatch(/\(S\)\s+\d+ ops-left-float/);
    expect(text).toMatch(/\(S\)\s+\d+ weight-bytes-saved/);

    const fp32 = accuracy('m.onnx');
    const int8 = accuracy('m.int8.onnx');
    expect(fp32).toBeGreaterThan(0.8);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);

  it.each([
    ['quantize-static{calibration=median}', "option 'calibration' of pass 'quantize-static' expects one of minmax, percentile, entropy, distribution, got 'median'"],
    ['quantize-static{samples=0}', "option 'samples' of pass 'quantize-static' expects an integer ≥ 1, got '0'"],
    ['quantize-static{frobnicate=1}', "unknown option 'frobnicate' of pass 'quantize-static'"],
    ['quantize-static{activations=int16}', 'activations=int16 needs onnx opset 21 (int16 QuantizeLinear); the model imports opset 13'],
    ['quantize-static{dataset=fashion-mnist:valid samples=8}', "dataset 'fashion-mnist:valid': unknown split 'valid'"],
  ])('%s exits 1 naming the problem and writes nothing', (pipeline, message) => {
    copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), join(work, 'cnn.onnx'));
    const result = spawnCli(['convert', 'cnn.onnx', '-o', 'bad.onnx', '--pipeline', pipeline], work);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(existsSync(join(work, 'bad.onnx'))).toBe(false);
  });
});
