/**
 * A folder of `.npy` samples for a model whose input has symbolic dimensions after the batch (ESPCN's
 * `[b, 1, h, w]`, PointNet's `[b, 3, n]`) was refused: "input 'lr' must be float32 with static
 * dimensions after the batch dimension" (QA s13) — only test_data_set_N folders could feed it. Each
 * file is now one run (sizes may differ from file to file); a file that does not fit the declared
 * dimensions, or is not float32, is refused naming the file and the expected shape.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor, parseModel } from '@modelpass/ir';
import { writeNpy } from '@modelpass/runtime';
import { calibrate } from '../index.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-calibration-variable-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const model = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[batch,1,H,W]) {
  %y: float32[batch,1,H,W] = onnx.Relu(%x) name="relu"
  return %y
}
}`);

function ramp(shape: number[], offset: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: size }, (_, i) => offset + i / size));
}

function folder(name: string, files: Record<string, Tensor>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [file, tensor] of Object.entries(files)) writeNpy(tensor, join(dir, file));
  return dir;
}

describe('a folder of samples for an input with symbolic dimensions', () => {
  it('runs each file on its own, samples of different sizes and batches alike', async () => {
    const dir = folder('sizes', { 'a.npy': ramp([1, 8, 8], 0), 'b.npy': ramp([1, 5, 12], -3), 'c.npy': ramp([2, 1, 4, 4], 2) });
    const warnings: string[] = [];
    const ranges = await calibrate(model, ['x'], { method: 'minmax', dataset: dir, samples: 100, warn: (w) => warnings.push(w) });
    // min of b (−3), max of c (2 + 31/32)
    expect(ranges.get('x')!.min).toBeCloseTo(-3, 6);
    expect(ranges.get('x')!.max).toBeCloseTo(2 + 31 / 32, 6);
    expect(warnings.join('\n')).toMatch(/4 samples/);
  });

  it('refuses a file of another rank, channel count or dtype, naming it and the expected shape', async () => {
    for (const [name, tensor] of [
      ['channels', ramp([3, 8, 8], 0)],
      ['rank', ramp([8, 8], 0)],
      ['dtype', Tensor.fromValues('float64', [1, 4, 4], new Array(16).fill(0.5))],
    ] as const) {
      const dir = folder(`bad-${name}`, { 'x.npy': tensor });
      const error = await calibrate(model, ['x'], { method: 'minmax', dataset: dir, samples: 10 }).then(() => undefined, (e: unknown) => e);
      expect(ModelpassError.is(error), String(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(`file '${join(dir, 'x.npy')}' does not fit input 'x'`);
      expect(message).toContain('float32[1,H,W] (one sample) or float32[batch,1,H,W] (a batch)');
    }
  });
});
