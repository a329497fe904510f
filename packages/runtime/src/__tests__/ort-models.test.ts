import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { OrtRunner, compareModels, generateInputs } from '@modelpass/runtime';

const runner = new OrtRunner();
afterAll(() => runner.dispose());

/** y = x @ W^T + b as a Gemm (transB=1), with x: float32[N, 4] and 3 classes. */
function linearModel(weights: number[], bias: number[]): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['N', 4]));
  const w = b.constant(Tensor.fromValues('float32', [3, 4], weights), 'W');
  const c = b.constant(Tensor.fromValues('float32', [3], bias), 'B');
  const y = b.op1('onnx.Gemm', [x, w, c], { transB: { kind: 'int', value: 1 } }, { types: [tensorType('float32', ['N', 3])] });
  y.rename('logits');
  b.output(y);
  return b.model({ onnx: 13 });
}

const W = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
const B = [0, 0, 0];

describe('ORT on models built in code', () => {
  it('runs an in-memory Model (encoded to ONNX) and computes what we compute by hand', async () => {
    const model = linearModel([1, 2, 3, 4, 0, 1, 0, -1, 0.5, 0.5, 0.5, 0.5], [1, 0, -1]);
    const feeds = generateInputs(model, { seed: 5, dims: { N: 3 } });
    const out = await runner.run(model, feeds);
    const x = feeds.get('x')!.toNumbers();
    const expected: number[] = [];
    for (let n = 0; n < 3; n++) {
      const row = x.slice(n * 4, n * 4 + 4);
      expected.push(
        1 + row[0]! + 2 * row[1]! + 3 * row[2]! + 4 * row[3]!,
        row[1]! - row[3]!,
        -1 + 0.5 * (row[0]! + row[1]! + row[2]! + row[3]!),
      );
    }
    const logits = out.get('logits')!;
    expect(logits.shape).toEqual([3, 3]);
    logits.toNumbers().forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    await runner.run(model, feeds);
    expect(runner.cachedSessions).toBe(1); // same bytes, same session
    expect(encodeOnnx(model).byteLength).toBeGreaterThan(0);
  });

  it('compareModels reports the error a perturbed copy introduces', async () => {
    const a = linearModel(W, B);
    const b = linearModel(W, [0.25, 0, 0]);
    const report = await compareModels(a, b, { seed: 9, dims: { N: 64 }, engine: runner });
    expect(report.engines).toEqual(['ort', 'ort']);
    expect(report.seed).toBe(9);
    expect(report.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [64, 4] }]);
    expect(report.maxAbsError).toBeCloseTo(0.25, 6);
    expect(report.withinTolerance).toBe(false);
    // Same inputs decide top-1: recompute by hand which rows change their argmax.
    const x = generateInputs(a, { seed: 9, dims: { N: 64 } }).get('x')!.toNumbers();
    let same = 0;
    for (let n = 0; n < 64; n++) {
      const row = x.slice(n * 4, n * 4 + 3).map((v) => Math.fround(v));
      const argmax = (r: number[]) => r.indexOf(Math.max(...r));
      if (argmax(row) === argmax([row[0]! + 0.25, row[1]!, row[2]!])) same++;
    }
    expect(report.top1Agreement).toBe(same / 64);
    expect(report.top1Agreement).toBeLessThan(1);
    expect(report.cosine).toBeGreaterThan(0.9);
    const identical = await compareModels(a, linearModel(W, B), { seed: 9, dims: { N: 8 }, engine: runner });
    expect([identical.maxAbsError, identical.maxRelError, identical.cosine, identical.top1Agreement, identical.withinTolerance]).toEqual([0, 0, 1, 1, true]);
  });

  it('compareModels prints as the JSON the CLI shows', async () => {
    const report = await compareModels(linearModel(W, B), linearModel(W, B), { seed: 1, dims: { N: 2 } });
    const json = JSON.parse(JSON.stringify(report));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['maxAbsError', 'maxRelError', 'cosine', 'top1Agreement', 'perOutput']));
  });
});
