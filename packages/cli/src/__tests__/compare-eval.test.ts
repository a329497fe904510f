/**
 * `modelpass compare` (verdict, tolerances, exit codes, symbolic dims, memory refusal) and
 * `modelpass eval` (accuracy on Debian's Fashion-MNIST against what torch measured for each
 * fixture), run through the built binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const fixtures = join(repoRoot, 'fixtures/models');
const cnn = join(fixtures, 'fashion-cnn/model.onnx');
const FASHION = '/usr/share/datasets/fashion-mnist';
let work: string;

beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-compare-eval-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A one-op model in the textual IR: `y = op(x)` on float32[N, 4]. */
function unaryModel(name: string, op: string): string {
  const path = join(work, `${name}.mpir`);
  writeFileSync(
    path,
    `model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[N,4]) {
  %y: float32[N,4] = onnx.${op}(%x)
  return %y
}
}
`,
  );
  return path;
}

describe('modelpass compare', () => {
  it("runs the README's compare as written: N defaults to 1 (said on stderr), the outputs agree, exit 0", () => {
    mkdirSync(join(work, 'tmp'));
    const convert = spawnCli(['convert', cnn, '-o', 'tmp/cnn.onnx', '--pipeline', 'fixed-point{max-iterations=4}(canonicalize,cse,dce),fuse-bn-into-conv'], work);
    expect(convert.code, convert.stderr).toBe(0);
    const result = spawnCli(['compare', cnn, 'tmp/cnn.onnx', '--json'], work);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('N=1 (symbolic; set with --dim N=<size>)');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ verdict: 'agree', verdicts: { logits: 'agree' }, dims: { N: 1 }, atol: 1e-5, rtol: 1e-3, nanEqual: true });
    expect(report.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [1, 1, 28, 28] }]);
    const worst = report.perOutput[0].worst;
    expect(worst.index).toHaveLength(2);
    expect(Math.abs(worst.actual - worst.expected)).toBeCloseTo(worst.absError, 12);
    expect(worst.absError).toBeLessThanOrEqual(worst.tolerance);
  });

  it('exits 1 with DISAGREE, the worst element and its values when the outputs differ beyond the tolerance', () => {
    const relu = unaryModel('relu', 'Relu');
    const abs = unaryModel('abs', 'Abs');
    const result = spawnCli(['compare', relu, abs, '--dim', 'N=3', '--seed', '7']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^y: DISAGREE — \d+ of 12 elements outside the tolerance/m);
    expect(result.stdout).toMatch(/worst at \[\d,\d\]: a 0, b 0\.\d+ \(\|a - b\| [\d.e-]+ > 1e-5\)/);
    expect(result.stdout).toMatch(/verdict: disagree \(1 of 1 output\)$/m);
    const json = JSON.parse(spawnCli(['compare', relu, abs, '--dim', 'N=3', '--seed', '7', '--json']).stdout);
    const { worst } = json.perOutput[0];
    // Relu against Abs differs exactly at the negative inputs, by |x|: the worst is the most negative.
    expect(worst.expected).toBe(0);
    expect(worst.actual).toBe(json.perOutput[0].maxAbsError);
    expect(json.verdict).toBe('disagree');
  });

  it('--atol/--rtol decide: a tiny difference disagrees at zero tolerance and agrees at the defaults', () => {
    const optimized = join(work, 'cnn-fused.onnx');
    expect(spawnCli(['convert', cnn, '-o', optimized, '--pipeline', 'optimize']).code).toBe(0);
    const strict = spawnCli(['compare', cnn, optimized, '--dim', 'N=4', '--atol', '0', '--rtol', '0', '--json']);
    const loose = spawnCli(['compare', cnn, optimized, '--dim', 'N=4', '--json']);
    const strictReport = JSON.parse(strict.stdout);
    expect(strictReport.maxAbsError).toBeGreaterThan(0); // folding BatchNorm rounds differently
    expect([strict.code, strictReport.verdict]).toEqual([1, 'disagree']);
    expect([loose.code, JSON.parse(loose.stdout).verdict]).toEqual([0, 'agree']);
    expect(spawnCli(['compare', cnn, optimized, '--atol', 'x']).code).toBe(2);
  });

  it('NaN against NaN agrees by default and disagrees with --no-nan-equal', () => {
    const sqrt = unaryModel('sqrt', 'Sqrt'); // random inputs in [-1, 1): about half are NaN
    const same = spawnCli(['compare', sqrt, sqrt, '--dim', 'N=4', '--json']);
    expect(same.code, same.stderr).toBe(0);
    const strict = spawnCli(['compare', sqrt, sqrt, '--dim', 'N=4', '--no-nan-equal']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('NaN never matches');
    expect(strict.stdout).toMatch(/worst at \[\d,\d\]: a NaN, b NaN/);
  });

  it('refuses a --dim that would not fit in memory before allocating anything (reference engine), exit 2', () => {
    const started = Date.now();
    const result = spawnCli(['compare', cnn, cnn, '--engine', 'reference', '--dim', 'N=1000000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/this run would need about [\d.]+ GiB, more than the [\d.]+ GiB this process may use/);
    expect(result.stderr).toContain("inputs 'input' float32[1000000,1,28,28]: 2.9 GiB");
    expect(result.stderr).toMatch(/largest: '[^']+' float32\[1000000,16,28,28\] \(46\.7 GiB\)/);
    expect(result.stderr).toContain("--dim N=…");
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('exit 2 for a missing model, an unknown --dim name, and bad usage', () => {
    expect(spawnCli(['compare', cnn, join(work, 'nope.onnx')]).code).toBe(2);
    const unknown = spawnCli(['compare', cnn, cnn, '--dim', 'batch=2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no dimension 'batch' (they have: N)");
    expect(spawnCli(['compare', cnn]).code).toBe(2);
  });
});

interface FixtureInfo {
  accuracy: { value: number };
}

describe('modelpass eval', () => {
  const models = ['fashion-cnn', 'fashion-mlp', 'fashion-transformer', 'fashion-transformer-opset17'];
  for (const name of models) {
    it(`${name}: accuracy on all 10,000 test images equals what torch measured (info.json)`, () => {
      const info = JSON.parse(readFileSync(join(fixtures, name, 'info.json'), 'utf8')) as FixtureInfo;
      const result = spawnCli(['eval', join(fixtures, name, 'model.onnx'), '--dataset', 'fashion-mnist:test', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.total).toBe(10000);
      expect(report.correct).toBe(Math.round(info.accuracy.value * 10000));
      expect(report.accuracy).toBe(info.accuracy.value);
      expect(report.perClass.map((c: { total: number }) => c.total)).toEqual(new Array(10).fill(1000));
      expect(report.perClass.reduce((n: number, c: { correct: number }) => n + c.correct, 0)).toBe(report.correct);
    });
  }

  it('the human form names the dataset, the normalization and the per-class accuracy', () => {
    const result = spawnCli(['eval', cnn, '-d', 'fashion-mnist:test', '--limit', '500']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/dataset: {2}fashion-mnist:test, 500 samples fed as float32\[1,28,28\] \(nchw\), x·0\.00392157, mean 0, std 1/);
    expect(result.stdout).toMatch(/accuracy: \d+\.\d\d% \(\d+ \/ 500\)/);
    expect(result.stdout).toMatch(/ {2}9 Ankle boot/);
  });

  it('idx: and npy: datasets give the same count as fashion-mnist:test on the same images; the reference engine agrees', () => {
    const limit = 300;
    const images = gunzipSync(readFileSync(join(FASHION, 't10k-images-idx3-ubyte.gz')));
    const labels = gunzipSync(readFileSync(join(FASHION, 't10k-labels-idx1-ubyte.gz')));
    // Uncompressed IDX with the first `limit` items (the count in the header rewritten).
    const imagesFile = join(work, 'images.idx');
    const labelsFile = join(work, 'labels.idx');
    const head = (bytes: Buffer, headerLength: number, itemSize: number) => {
      const out = Buffer.from(bytes.subarray(0, headerLength + limit * itemSize));
      out.writeUInt32BE(limit, 4);
      return out;
    };
    writeFileSync(imagesFile, head(images, 16, 784));
    writeFileSync(labelsFile, head(labels, 8, 1));
    const npyDir = join(work, 'npy-dataset');
    mkdirSync(npyDir);
    execFileSync('/usr/bin/python3', ['-c', `import sys, numpy as np
images = np.frombuffer(open(sys.argv[1], 'rb').read()[16:], dtype=np.uint8).reshape(-1, 28, 28)
labels = np.frombuffer(open(sys.argv[2], 'rb').read()[8:], dtype=np.uint8).astype(np.int64)
np.save(sys.argv[3] + '/x.npy', images.astype(np.float32) / 255)
np.save(sys.argv[3] + '/y.npy', labels)`, imagesFile, labelsFile, npyDir]);
    const run = (argv: string[]) => {
      const result = spawnCli(['eval', cnn, ...argv, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { correct: number; total: number; engine: string };
    };
    const reference = run(['--dataset', 'fashion-mnist:test', '--limit', String(limit)]);
    expect(reference.total).toBe(limit);
    expect(run(['--dataset', `idx:${imagesFile},${labelsFile}`]).correct).toBe(reference.correct);
    // float32 samples already in [0, 1]: the default scale is 1 for them.
    expect(run(['--dataset', `npy:${npyDir}`]).correct).toBe(reference.correct);
    const interpreter = run(['--dataset', `npy:${npyDir}`, '--engine', 'reference', '--limit', '100']);
    const ort = run(['--dataset', `npy:${npyDir}`, '--limit', '100']);
    expect([interpreter.engine, interpreter.correct]).toEqual(['reference', ort.correct]);
  });

  it('--min-accuracy turns the figure into a check: exit 1 below it', () => {
    const below = spawnCli(['eval', cnn, '-d', 'fashion-mnist:test', '--limit', '200', '--min-accuracy', '0.99']);
    expect(below.code).toBe(1);
    expect(below.stdout).toMatch(/FAILED: \d+\.\d\d% < 99\.00%/);
    expect(spawnCli(['eval', cnn, '-d', 'fashion-mnist:test', '--limit', '200', '--min-accuracy', '0.5']).code).toBe(0);
  });

  it('clear errors, exit 2: a misspelt dataset, an unknown split, samples that do not fit the input, bad normalization', () => {
    const misspelt = spawnCli(['eval', cnn, '--dataset', 'fashion-mnst:test']);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain("unknown dataset 'fashion-mnst:test' — did you mean 'fashion-mnist:…'?");
    const split = spawnCli(['eval', cnn, '--dataset', 'fashion-mnist:valid']);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain("unknown split 'valid'");
    const shape = spawnCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--sample-shape', '3,28,28']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain("do not fit input 'input' of model");
    expect(shape.stderr).toContain('a sample is [28,28] (784 values), the input takes [3,28,28] (2352 values) per sample');
    const channels = spawnCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--mean', '0.1,0.2,0.3', '--limit', '10']);
    expect(channels.code).toBe(2);
    expect(channels.stderr).toContain('normalization mean has 3 values, but the samples have 1 channels');
    expect(spawnCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--std', '0']).code).toBe(2);
    expect(spawnCli(['eval', cnn]).code).toBe(2);
  });
});
