/**
 * `quantize-weights{method=gptq dataset=FOLDER}` on a decoder: its input is `input_ids` int64 `[batch, sequence]`, so
 * the calibration folder holds int64 token `.npy` files (refused before: "input 'input_ids' must be float32").
 * A tiny decoder of tools/make-decoder-model's graph (`makeDecoderModel`: vocabulary 512, hidden 64, 2 layers)
 * calibrated on token files: every layer quantized, ORT's logits on other tokens at least as close to float32 as RTN's
 * and within the int4 bound of weights-decoder.test.ts, and the tokens are what GPTQ saw (other tokens give other
 * codes). A file of another dtype is refused naming it and the dtype expected.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
// @ts-expect-error -- a workspace script without type declarations
import { makeDecoderModel } from '../../../../tools/make-decoder-model/decoder-graph.mjs';
import { disposeSharedOrtRunner, runOrt, SeededRandom, writeNpy } from '@modelpass/runtime';
import { cosine, runPipeline } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-gptq-tokens-'));
const VOCABULARY = 512;
/** The 48 token ids calibration and evaluation draw from. */
const DOMAIN = Array.from({ length: 48 }, (_, i) => (i * 37 + 5) % VOCABULARY);
const CONFIG = { vocabulary: VOCABULARY, hidden: 64, intermediate: 192, layers: 2, heads: 4 };

/** The tiny decoder, float32 (the same seed gives the same weights). */
function decoder(): Model {
  const model = (makeDecoderModel as (config: typeof CONFIG, seed: number) => Model)(CONFIG, 7);
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** Token ids from `seed`, drawn from 48 of the 512 (text of one domain uses few of a vocabulary's tokens: its activations are correlated, which GPTQ exploits). */
function tokens(shape: number[], seed: number): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  const random = new SeededRandom(seed);
  return Tensor.fromValues('int64', shape, Array.from({ length: count }, () => BigInt(DOMAIN[Math.floor(random.uniform(0, DOMAIN.length))]!)));
}

/** A folder of token files: `files` batches of [4, 32] ids. */
function tokenFolder(name: string, files: number, seed: number): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (let file = 0; file < files; file++) writeNpy(tokens([4, 32], seed + file), join(dir, `tokens${file}.npy`));
  return dir;
}

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

/** The model's MatMulNBits codes, by node name. */
function packedCodes(model: Model): Map<string, Uint8Array> {
  const codes = new Map<string, Uint8Array>();
  for (const node of model.graph.nodes()) if (node.op === 'com.microsoft.MatMulNBits') codes.set(node.name, node.input(1).constant!.bytes());
  return codes;
}

describe('GPTQ calibrated from int64 token files', () => {
  const pipeline = (dataset: string) => `quantize-weights{bits=4 block-size=32 method=gptq samples=64 batch-size=4 dataset=${dataset}}`;

  it('quantizes a tiny decoder from a folder of int64 .npy token batches, logits close to float32', async () => {
    const folder = tokenFolder('tokens', 16, 1);
    const gptq = decoder();
    const run = await runPipeline(gptq, pipeline(folder));
    expect(run.warnings).toEqual([]);
    expect(run.statistics.get('layers-quantized')).toBe(2 * 7 + 1);
    const rtn = decoder();
    await runPipeline(rtn, 'quantize-weights{bits=4 block-size=32}');

    const heldOut = { input_ids: tokens([2, 16], 99) };
    const reference = (await runOrt(decoder(), heldOut)).get('logits')!;
    const [fromGptq, fromRtn] = [(await runOrt(gptq, heldOut)).get('logits')!, (await runOrt(rtn, heldOut)).get('logits')!];
    const [gptqCosine, rtnCosine] = [cosine(reference, fromGptq), cosine(reference, fromRtn)];
    console.log(`decoder int4 logits cosine on held-out tokens: gptq (64 token samples) ${gptqCosine.toFixed(5)}, rtn ${rtnCosine.toFixed(5)}`);
    expect(gptqCosine).toBeGreaterThan(0.98);
    expect(gptqCosine).toBeGreaterThanOrEqual(rtnCosine);

    // Other tokens, other Hessians, other codes: the files were read.
    const other = decoder();
    await runPipeline(other, pipeline(tokenFolder('other-tokens', 16, 50)));
    const [a, b] = [packedCodes(gptq), packedCodes(other)];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    expect([...a].some(([name, codes]) => Buffer.compare(Buffer.from(codes), Buffer.from(b.get(name)!)) !== 0)).toBe(true);
  }, 300_000);

  it('with a static sequence length the token files are regrouped into batches (one sample per row), all layers quantized', async () => {
    const model = decoder();
    model.graph.inputs[0]!.type = tensorType('int64', ['batch', 32]);
    inferShapes(model, { mode: 'refresh' });
    const folder = join(work, 'single-samples');
    mkdirSync(folder);
    // 12 files of one sample [32] each and one batch [4, 32]: 16 samples in batches of 4.
    for (let file = 0; file < 12; file++) writeNpy(tokens([32], 200 + file), join(folder, `sample${String(file).padStart(2, '0')}.npy`));
    writeNpy(tokens([4, 32], 300), join(folder, 'tail.npy'));
    const run = await runPipeline(model, pipeline(folder).replace('samples=64', 'samples=16'));
    expect(run.warnings).toEqual([]);
    expect(run.statistics.get('layers-quantized')).toBe(2 * 7 + 1);
    const heldOut = { input_ids: tokens([2, 32], 99) };
    expect(cosine((await runOrt(decoder(), heldOut)).get('logits')!, (await runOrt(model, heldOut)).get('logits')!)).toBeGreaterThan(0.98);
  }, 120_000);

  it('a token file of another dtype is refused naming the file and the dtype the input takes', async () => {
    const wrong = join(work, 'int32-tokens');
    mkdirSync(wrong);
    writeNpy(Tensor.fromValues('int32', [2, 16], new Int32Array(32)), join(wrong, 'a.npy'));
    const error = await runPipeline(decoder(), pipeline(wrong)).then(() => undefined, (e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    const text = (error as Error).message;
    expect(text).toMatch(/quantize-weights/);
    expect(text).toMatch(/a\.npy' does not fit input 'input_ids'/);
    expect(text).toMatch(/int64\[batch,sequence\]|int64\[/);
  }, 120_000);
});
