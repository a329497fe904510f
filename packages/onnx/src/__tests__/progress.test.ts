// writeOnnx and readOnnx report progress through their optional onProgress callback.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { attrs, ComputedStorage, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';

const MiB = 2 ** 20;
const folder = mkdtempSync(join(tmpdir(), 'modelpass-onnx-progress-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A Gather over a `rows x 256` float32 weight of computed, non-zero bytes, plus a small bias. */
function modelWithWeight(rows: number): Model {
  const b = new GraphBuilder();
  const bytes = rows * 256 * 4;
  const fill = (target: Uint8Array, start: number) => {
    for (let k = 0; k < target.byteLength; k++) target[k] = ((start + k) % 251) + 1;
    return target;
  };
  class Pattern extends ComputedStorage {
    constructor() {
      super(bytes, () => fill(new Uint8Array(bytes), 0), 'pattern');
    }
    readChunk(target: Uint8Array, start: number): void {
      fill(target, start);
    }
  }
  const weight = b.constant(Tensor.fromStorage('float32', [rows, 256], new Pattern()), 'weight');
  const bias = b.constant(Tensor.fromValues('float32', [256], new Array(256).fill(0.5)), 'bias');
  const index = b.input('index', tensorType('int64', [1]));
  const row = b.op1('onnx.Gather', [weight, index], { axis: attrs.int(0) }, { types: [tensorType('float32', [1, 256])] });
  b.output(b.op1('onnx.Add', [row, bias], {}, { outputs: ['out'], types: [tensorType('float32', [1, 256])] }));
  return b.model({ onnx: 17 });
}

function recordWrite(model: Model, path: string, externalData: 'never' | 'always'): [number, number][] {
  const calls: [number, number][] = [];
  writeOnnx(model, path, { externalData, onProgress: (done, total) => calls.push([done, total]) });
  return calls;
}

describe('onProgress', () => {
  test.each(['never', 'always'] as const)('writeOnnx (externalData %s) reports bytes up to the initializers total', (externalData) => {
    const model = modelWithWeight(64 * 1024); // 64 MiB, copied in 16 MiB chunks
    const total = 64 * MiB + 256 * 4;
    const calls = recordWrite(model, join(folder, `w-${externalData}.onnx`), externalData);
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every(([, t]) => t === total)).toBe(true);
    for (let k = 1; k < calls.length; k++) expect(calls[k]![0]).toBeGreaterThanOrEqual(calls[k - 1]![0]);
    expect(calls.at(-1)).toEqual([total, total]);
    // Intermediate reports come while the big weight is copied, not all at the end.
    expect(calls.some(([done]) => done > 10 * MiB && done < 54 * MiB)).toBe(true);
  });

  test('writeOnnx without onProgress writes the same file', () => {
    const model = modelWithWeight(1024);
    writeOnnx(model, join(folder, 'a.onnx'));
    recordWrite(model, join(folder, 'b.onnx'), 'never');
    expect(statSync(join(folder, 'a.onnx')).size).toBe(statSync(join(folder, 'b.onnx')).size);
  });

  test('readOnnx reports the start and the end of the file', () => {
    const path = join(folder, 'r.onnx');
    writeOnnx(modelWithWeight(1024), path);
    const size = statSync(path).size;
    const calls: [number, number][] = [];
    readOnnx(path, { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls).toEqual([
      [0, size],
      [size, size],
    ]);
  });
});
