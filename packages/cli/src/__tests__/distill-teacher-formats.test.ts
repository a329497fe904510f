/**
 * `distill{teacher=…}` reads the teacher the way the command line reads a model: a TorchScript archive
 * written by Debian torch (scripted and traced) or a textual-IR file teaches exactly what the same
 * network exported to ONNX teaches. Before the CLI registered its readers with the runtime's
 * `loadModel`, a `.pt` teacher failed as "not an ONNX model" although `modelpass passes` lists it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-distill-teacher-formats-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const student = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const distill = (teacher: string) => `distill{teacher=${teacher} dataset=fashion-mnist:train samples=256 batch=64 lr=0.05 seed=3 threads=1}`;

beforeAll(() => {
  // One seeded torch module, saved scripted, traced and exported to ONNX (tools/setup.sh installs python3-torch).
  execFileSync('/usr/bin/python3', [join(repoRoot, 'tools/fixtures/make_torchscript.py'), '--out', temp, '--onnx', 'fashion_cnn'], { stdio: 'ignore', timeout: 300_000 });
}, 300_000);

/** The largest difference between the two models' initializers of the same name. */
function largestWeightDifference(a: string, b: string): number {
  const [left, right] = [readOnnx(a), readOnnx(b)];
  let worst = 0;
  for (const value of left.graph.constants) {
    const x = value.constant!.toNumbers();
    const y = right.graph.getValue(value.name)!.constant!.toNumbers();
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

describe('distill{teacher=…} in every format the CLI reads', () => {
  const byOnnx = join(temp, 'by-onnx.onnx');

  beforeAll(async () => {
    const result = await runCli(['convert', student, '-o', byOnnx, '--pipeline', distill(join(temp, 'fashion_cnn.onnx'))], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(largestWeightDifference(student, byOnnx)).toBeGreaterThan(1e-3); // training did move the weights
  }, 120_000);

  it.each(['scripted.pt', 'traced.pt', 'mpir'])('a %s teacher trains the student as its ONNX export does', async (kind) => {
    let teacher = join(temp, `fashion_cnn.${kind}`);
    if (kind === 'mpir') {
      const printed = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', teacher], temp);
      expect(printed.code, printed.stderr).toBe(0);
    }
    const output = join(temp, `by-${kind}.onnx`);
    const result = await runCli(['convert', student, '-o', output, '--pipeline', distill(teacher)], temp);
    expect(result.code, result.stderr).toBe(0);
    // The teacher's logits agree with the ONNX export's to float rounding, so the trained weights do too.
    expect(largestWeightDifference(byOnnx, output)).toBeLessThan(1e-5);
  }, 120_000);
});
