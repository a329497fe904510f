/**
 * `convert --input-value NAME=VALUES` fixes an input to a constant, so a branch on it folds away
 * (silero VAD v5 branches on its sample rate `sr`: with `sr=16000` `simplify` inlines the If, and
 * then quantize-static and TFLite can see its convolutions). The converted model must compute what
 * the original computes when fed the same value; wrong uses are one-line errors naming the input.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel, Tensor } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-input-value-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

/** y = x·2 when sr == 16000, else x·3; the branch is an If on the int64 input `sr`. */
const branching = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2,3], %sr: int64[]) {
  const %rate = tensor<int64[]> [16000]
  %wide = onnx.Equal(%sr, %rate) name="is_16k"
  %y: float32[2,3] = onnx.If(%wide) {else_branch=graph @narrow() {
    const %three = tensor<float32[]> [3]
    %n = onnx.Mul(%x, %three) name="times_three"
    return %n
  }, then_branch=graph @wide_body() {
    const %two = tensor<float32[]> [2]
    %w = onnx.Mul(%x, %two) name="times_two"
    return %w
  }} name="rate_branch"
  return %y
}
}`);
const modelPath = join(temp, 'branching.onnx');
writeFileSync(modelPath, encodeOnnx(branching));
const x = Tensor.fromValues('float32', [2, 3], [1, -2, 3.5, 0, 7, -0.25]);

describe('convert --input-value', () => {
  for (const rate of [16000, 8000]) {
    it(`sr=${rate}: the input becomes a constant, simplify inlines the branch, the numbers are the original's`, async () => {
      const out = join(temp, `fixed-${rate}.onnx`);
      const run = await runCli(['convert', modelPath, '-o', out, '--input-value', `sr=${rate}`, '-p', 'simplify']);
      expect(run.code, run.stderr).toBe(0);
      const fixed = readOnnx(out);
      expect(fixed.graph.inputs.filter((value) => !value.constant).map((value) => value.name)).toEqual(['x']);
      expect([...fixed.graph.nodeList()].map((node) => node.op)).toEqual(['onnx.Mul']);
      const expected = await runOrt(encodeOnnx(branching), { x, sr: Tensor.fromValues('int64', [], [BigInt(rate)] as never) });
      const actual = await runOrt(out, { x });
      expect(actual.get('y')!.toNumbers()).toEqual(expected.get('y')!.toNumbers());
      expect(actual.get('y')!.toNumbers()).toEqual(x.toNumbers().map((v) => v * (rate === 16000 ? 2 : 3)));
    });
  }

  it('refuses an unknown input, a wrong count, a value that is not the dtype, a malformed flag — one line, nothing written', async () => {
    const cases: [string, string][] = [
      ['rate=16000', "--input-value rate: the model has no input 'rate' (its inputs: x, sr)"],
      ['sr=16000,8000', 'input \'sr\' is int64[] with 1 element(s); 2 value(s) given'],
      ['sr=16k', "'16k' is not an integer"],
      ['sr=sr.npy', "'sr.npy' is not an integer: VALUES are literal numbers (comma-separated, row-major, e.g. sr=16000), not a file; compare and diff read inputs from .npy/.pb files with --inputs DIR"],
      ['sr=@sr.npy', 'not a file; compare and diff read inputs from .npy/.pb files with --inputs DIR'],
      ['x=1,2,3', "input 'x' is float32[2, 3] with 6 element(s); 3 value(s) given"],
      ['sr', "--input-value 'sr': expected NAME=VALUES"],
    ];
    for (const [flag, message] of cases) {
      const out = join(temp, 'refused.onnx');
      const run = await runCli(['convert', modelPath, '-o', out, '--input-value', flag]);
      expect(run.code, flag).not.toBe(0);
      expect(run.stderr, flag).toContain(message);
      expect(run.stderr, flag).not.toMatch(/\n\s+at /);
      expect(existsSync(out), flag).toBe(false);
    }
  });
});

describe('compare --input-value', () => {
  it('compares the original fed the value against the model converted with it fixed: agree for that value, disagree for another', async () => {
    const fixed = join(temp, 'compare-fixed-16000.onnx');
    expect((await runCli(['convert', modelPath, '-o', fixed, '--input-value', 'sr=16000', '-p', 'simplify'])).code).toBe(0);
    // Without the flag the two input lists differ: exit 2, and the hint names the flag.
    const bare = await runCli(['compare', modelPath, fixed]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--input-value');
    for (const [a, b] of [[modelPath, fixed], [fixed, modelPath]] as const) {
      const same = await runCli(['compare', a, b, '--input-value', 'sr=16000', '--json']);
      expect(same.code, same.stderr).toBe(0);
      const report = JSON.parse(same.stdout);
      expect(report.verdict).toBe('agree');
      expect(report.maxAbsError).toBe(0);
      const other = await runCli(['compare', a, b, '--input-value', 'sr=8000']);
      expect(other.code, other.stderr).toBe(1);
      expect(other.stdout).toContain('DISAGREE');
      // The header says where each input came from: x generated, sr the value given (not 'random, seed 0').
      expect(other.stdout).toContain('inputs: x float32[2,3] (random, seed 0), sr int64[] = 8000 (from --input-value)');
      expect(report.fixedInputs).toEqual({ sr: ['16000'] });
    }
  });

  it('refuses an input neither model takes and a value the input cannot hold, naming them', async () => {
    const fixed = join(temp, 'compare-fixed-refused.onnx');
    expect((await runCli(['convert', modelPath, '-o', fixed, '--input-value', 'sr=16000'])).code).toBe(0);
    const missing = await runCli(['compare', modelPath, fixed, '--input-value', 'rate=16000']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--input-value rate: neither model has an input 'rate'");
    const wrong = await runCli(['compare', modelPath, fixed, '--input-value', 'sr=16k']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("'16k' is not an integer");
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('--input-value float range', () => {
  it('refuses a value a float32 input cannot hold (1e39 would be stored as Infinity)', async () => {
    const out = join(temp, 'overflow.onnx');
    const run = await runCli(['convert', modelPath, '-o', out, '--input-value', 'x=1,2,3,4,5,1e39']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--input-value x: 1e39 is outside the range of float32');
    expect(existsSync(out)).toBe(false);
  });
});
