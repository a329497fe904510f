/**
 * Calibration data holding NaN/Infinity (QA s12): the warning listed every downstream tensor (34 names on
 * SqueezeNet, one line of 3 KB) and never said the data itself was at fault. It now names the inputs that
 * hold such values first, lists at most five tensors, and says to check the data. Data shorter than samples=
 * ran silently on what there was (samples=100 on 8 files); that is said too.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, parseModel } from '@modelpass/ir';
import { writeNpy } from '@modelpass/runtime';
import { calibrate } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-calib-nan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** x → Relu → r1 … r7 (seven tensors that carry the input's NaN). */
function chain() {
  const lines = Array.from({ length: 7 }, (_, i) => `  %r${i + 1}: float32[batch,4] = onnx.Relu(%${i === 0 ? 'x' : `r${i}`}) name="relu${i + 1}"`);
  return parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[batch,4]) {
${lines.join('\n')}
  return %r7
}
}`);
}

describe('calibration data with NaN/Infinity', () => {
  it('names the input that holds them, lists at most five tensors and says to check the data', async () => {
    const folder = join(dir, 'nan');
    mkdirSync(folder);
    writeNpy(Tensor.fromValues('float32', [1, 4], [1, Number.NaN, 2, 3]), join(folder, 'a.npy'));
    writeNpy(Tensor.fromValues('float32', [1, 4], [1, 2, Number.POSITIVE_INFINITY, 3]), join(folder, 'b.npy'));
    const warnings: string[] = [];
    const tensors = Array.from({ length: 7 }, (_, i) => `r${i + 1}`);
    await calibrate(chain(), tensors, { method: 'minmax', samples: 2, dataset: folder, warn: (m) => warnings.push(m) });
    const warning = warnings.find((m) => m.includes('NaN/Infinity'));
    expect(warning).toMatch(/^the calibration data holds NaN\/Infinity values: input 'x' \(2\)/);
    expect(warning).toMatch(/in 7 tensor\(s\): 'r1' \(2\), 'r2' \(2\), 'r3' \(2\), 'r4' \(2\), 'r5' \(2\), … 2 more/);
    expect(warning).toMatch(/check the data/);
  }, 60_000);
});

describe('calibration data shorter than samples=', () => {
  it('says how many samples it ran on and that the data ends there', async () => {
    const folder = join(dir, 'short');
    mkdirSync(folder);
    for (const name of ['a', 'b', 'c']) writeNpy(Tensor.fromValues('float32', [1, 4], [1, 2, 3, 4]), join(folder, `${name}.npy`));
    const warnings: string[] = [];
    await calibrate(chain(), ['r1'], { method: 'minmax', samples: 50, dataset: folder, warn: (m) => warnings.push(m) });
    expect(warnings).toContain(`calibration ran on 3 samples, fewer than samples=50: that is all of 3 input files in '${folder}'`);
    const enough: string[] = [];
    await calibrate(chain(), ['r1'], { method: 'minmax', samples: 3, dataset: folder, warn: (m) => enough.push(m) });
    expect(enough).toEqual([]);
  }, 60_000);
});
