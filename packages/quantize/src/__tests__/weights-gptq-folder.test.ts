/**
 * `quantize-weights{method=gptq dataset=FOLDER}`: GPTQ's calibration inputs come from the same
 * sources as quantize-static's (`openCalibrationData`), so a folder of `.npy` inputs (the only way
 * to give real data to a non-image model) works. The same samples as a folder of per-batch files
 * and as an `npy:DIR` dataset give the same Hessians, hence the same int8 codes bit for bit; seeded
 * random inputs give other codes (so the folder's data is really what GPTQ saw).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError, Tensor, type Model } from '@modelpass/ir';
import { SeededRandom, writeNpy } from '@modelpass/runtime';
import { linearModel, runPipeline } from './weights-helpers.js';

const K = 48;
const N = 16;

/** Every int8 weight code of the model, by the DequantizeLinear that reads it. */
function int8Codes(model: Model): Map<string, Int8Array> {
  const codes = new Map<string, Int8Array>();
  for (const node of model.graph.nodes()) {
    if (node.op !== 'onnx.DequantizeLinear') continue;
    const weight = node.input(0).constant;
    if (weight) codes.set([...node.outputs[0]!.uses][0]!.node.name, new Int8Array(weight.data() as Int8Array));
  }
  return codes;
}

/** 24 correlated samples of [K]: a few latent factors, so the Hessian is far from the identity. */
function samples(): Float32Array {
  const random = new SeededRandom(11);
  const data = new Float32Array(24 * K);
  for (let s = 0; s < 24; s++) {
    const f = [random.uniform(-2, 2), random.uniform(-2, 2)];
    for (let i = 0; i < K; i++) data[s * K + i] = f[0]! * Math.sin(i) + f[1]! * Math.cos(3 * i) + 0.05 * random.uniform(-1, 1);
  }
  return data;
}

describe('quantize-weights dataset=FOLDER', () => {
  const work = mkdtempSync(join(tmpdir(), 'mp-gptq-folder-'));
  const data = samples();
  const folder = join(work, 'inputs');
  mkdirSync(folder);
  for (let file = 0; file < 3; file++) writeNpy(Tensor.fromValues('float32', [8, K], data.slice(file * 8 * K, (file + 1) * 8 * K)), join(folder, `batch${file}.npy`));
  const npyDir = join(work, 'npy');
  mkdirSync(npyDir);
  writeNpy(Tensor.fromValues('float32', [24, K], data), join(npyDir, 'x.npy'));
  writeNpy(Tensor.fromValues('int64', [24], new BigInt64Array(24)), join(npyDir, 'y.npy'));
  const pipeline = (dataset: string) => `quantize-weights{bits=8 method=gptq samples=24 batch-size=8${dataset ? ` dataset=${dataset}` : ''}}`;

  it('reads a folder of .npy inputs: same codes as the same samples given as npy:DIR, other codes than random inputs', async () => {
    const fromFolder = linearModel(K, N);
    const run = await runPipeline(fromFolder, pipeline(folder));
    expect(run.warnings).toEqual([]);
    expect(run.statistics.get('layers-quantized')).toBe(2);
    const fromDataset = linearModel(K, N);
    await runPipeline(fromDataset, pipeline(`npy:${npyDir}`));
    const random = linearModel(K, N);
    const randomRun = await runPipeline(random, pipeline(''));
    expect(randomRun.warnings.join('\n')).toMatch(/no calibration dataset given: GPTQ uses 24 seeded random samples/);

    const [a, b, c] = [int8Codes(fromFolder), int8Codes(fromDataset), int8Codes(random)];
    expect([...a.keys()].sort()).toEqual(['gemm', 'matmul']);
    for (const [layer, codes] of a) {
      expect(codes).toEqual(b.get(layer));
      expect(codes).not.toEqual(c.get(layer));
    }
  });

  it('a folder whose files do not fit the input, or a name that is neither a folder nor a dataset spec, fails naming the pass and the option', async () => {
    const wrong = join(work, 'wrong');
    mkdirSync(wrong);
    writeNpy(Tensor.fromValues('float32', [2, K + 1], new Float32Array(2 * (K + 1))), join(wrong, 'a.npy'));
    const failure = async (dataset: string) => {
      const error = await runPipeline(linearModel(K, N), pipeline(dataset)).then(() => undefined, (e: unknown) => e);
      expect(ModelpassError.is(error)).toBe(true);
      return (error as Error).message;
    };
    expect(await failure(wrong)).toMatch(/quantize-weights.*option 'dataset': file '.*a\.npy' does not fit input 'x'/s);
    expect(await failure(join(work, 'missing'))).toMatch(/quantize-weights.*'dataset' is '.*missing', which is neither a dataset spec nor a folder/s);
  });
});
