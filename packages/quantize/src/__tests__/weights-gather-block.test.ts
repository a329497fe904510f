/**
 * int4 embedding tables (issue 9's leftover from s13): quantize-weights{bits=4} left a Gather's float32
 * table float, so a decoder's token embedding stayed the largest tensor of an "int4" model. Now the
 * table becomes ONNX Runtime's com.microsoft.GatherBlockQuantized: 4-bit codes in groups of block-size
 * along each row, dequantized after the gather. Referee: ORT runs the quantized model; every gathered
 * value must lie within half a quantization step of the float table (the step bound follows from the
 * group's own range, not from our quantizer).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { cosine, onnxChecker, randomTensor, runPipeline, type PipelineRun } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-gather-block-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** ids [2, 8] → Gather(table [rows, length]) → y [2, 8, length]; with `head`, also a tied Gemm transB=1 LM head. */
function embeddingModel(rows: number, length: number, options: { head?: boolean; seed?: number } = {}): { model: Model; table: Tensor } {
  const b = new GraphBuilder();
  const x = b.input('ids', tensorType('int64', [2, 8]));
  const table = randomTensor([rows, length], options.seed ?? 5, 0.5);
  const constant = b.constant(table, 'wte');
  const h = b.op1('onnx.Gather', [constant, x], {}, { name: 'embed', outputs: ['y'] });
  h.type = tensorType('float32', [2, 8, length]);
  b.output(h);
  if (options.head) {
    const flat = b.op1('onnx.Reshape', [h, b.constant(Tensor.fromValues('int64', [2], [16, length]), 'flat')], {}, { name: 'flatten' });
    const logits = b.op1('onnx.Gemm', [flat, constant], { transB: attrs.int(1) }, { name: 'head', outputs: ['logits'] });
    logits.type = tensorType('float32', [16, rows]);
    b.output(logits);
  }
  return { model: b.model({ onnx: 13 }), table };
}

const idsFor = (rows: number) => Tensor.fromValues('int64', [2, 8], Array.from({ length: 16 }, (_, i) => (i * 61 + 7) % rows));

async function quantize(model: Model, pipeline: string, name: string): Promise<{ path: string; run: PipelineRun; model: Model }> {
  const run = await runPipeline(model, pipeline);
  const path = join(work, `${name}.onnx`);
  writeOnnx(model, path);
  onnxChecker(path);
  return { path, run, model: readOnnx(path) };
}

async function outputs(path: string, feeds: Record<string, Tensor>): Promise<Tensor[]> {
  const runner = new OrtRunner();
  try {
    return [...(await runner.run(path, feeds)).values()];
  } finally {
    await runner.dispose();
  }
}

/** Largest |gathered − table| over every value, in units of half its group's step (≤ 1 when rounding is to nearest, no clipping). */
function worstHalfSteps(gathered: Tensor, table: Tensor, ids: Tensor, blockSize: number, symmetric = false): number {
  const [, length] = table.shape as [number, number];
  const t = table.toNumbers();
  const g = gathered.toNumbers();
  const rows = ids.toNumbers();
  let worst = 0;
  rows.forEach((row, i) => {
    for (let start = 0; start < length; start += blockSize) {
      const end = Math.min(length, start + blockSize);
      let low = 0;
      let high = 0;
      for (let d = start; d < end; d++) {
        low = Math.min(low, t[row * length + d]!);
        high = Math.max(high, t[row * length + d]!);
      }
      // asymmetric: 15 steps over [min(·,0), max(·,0)]; symmetric: 7 steps over [0, max |·|]
      const halfStep = (symmetric ? Math.max(-low, high) / 7 : (high - low) / 15) / 2;
      for (let d = start; d < end; d++) worst = Math.max(worst, Math.abs(g[i * length + d]! - t[row * length + d]!) / (halfStep * 1.0001 + 1e-7));
    }
  });
  return worst;
}

const blockOps = (model: Model) => [...model.graph.nodes()].filter((node) => node.op === 'com.microsoft.GatherBlockQuantized');

describe('quantize-weights{bits=4}: an embedding table becomes GatherBlockQuantized', () => {
  for (const { pipeline, zeroPoints } of [
    { pipeline: 'quantize-weights', zeroPoints: true },
    { pipeline: 'quantize-weights{symmetric=true}', zeroPoints: false },
    { pipeline: 'quantize-weights{method=hqq}', zeroPoints: true },
  ]) {
    it(`${pipeline}: 4-bit rows in ORT within half a step of the float table, ~1/6 the bytes`, async () => {
      const { model, table } = embeddingModel(500, 64);
      const ids = idsFor(500);
      const name = pipeline.replace(/\W+/g, '_');
      const on = await quantize(model, pipeline, name);
      const off = await quantize(embeddingModel(500, 64).model, pipeline.includes('{') ? pipeline.replace('}', ' gather=false}') : `${pipeline}{gather=false}`, `${name}_off`);
      expect(on.run.statistics.get('gather-tables-quantized')).toBe(1);
      const [node] = blockOps(on.model);
      expect(node?.inputs.length).toBe(zeroPoints ? 4 : 3);
      expect([...on.model.graph.nodesOf('onnx.Gather')]).toEqual([]);
      expect(blockOps(off.model)).toEqual([]);
      // 128,000 float bytes → 16,000 packed codes + 8,000 scale bytes (+ 1,000 zero point bytes)
      expect(statSync(off.path).size - statSync(on.path).size).toBeGreaterThan(100_000);
      const [gathered] = await outputs(on.path, { ids });
      // HQQ moves zero points off the nearest rounding on purpose: it only has to be close
      if (pipeline.includes('hqq')) expect(cosine(gathered!, (await outputs(off.path, { ids }))[0]!)).toBeGreaterThanOrEqual(0.99);
      else expect(worstHalfSteps(gathered!, table, ids, 32, !zeroPoints)).toBeLessThanOrEqual(1);
    }, 120_000);
  }

  it('rows whose length is not a multiple of block-size (48 in blocks of 32) gather right; odd rows stay float with a reason', async () => {
    const { model, table } = embeddingModel(300, 48);
    const ids = idsFor(300);
    const on = await quantize(model, 'quantize-weights', 'rows48');
    expect(blockOps(on.model)).toHaveLength(1);
    expect(worstHalfSteps((await outputs(on.path, { ids }))[0]!, table, ids, 32)).toBeLessThanOrEqual(1);
    const debug: string[] = [];
    const odd = await runPipeline(embeddingModel(100, 33).model, 'quantize-weights', debug);
    expect(odd.statistics.get('gather-tables-quantized') ?? 0).toBe(0);
    expect(debug.join('\n')).toContain('odd count');
    // not only in --debug: a warning says the table stayed float32 (QA s14 round 7)
    expect(odd.warnings.join('\n')).toMatch(/1 embedding table Gather\(s\) left float32, not 4-bit: '.*' \(its rows hold 33 values, an odd count/);
  }, 120_000);

  it('a tied embedding and LM head: GatherBlockQuantized and MatMulNBits, both close to float', async () => {
    const { model } = embeddingModel(300, 64, { head: true, seed: 9 });
    const feeds = { ids: idsFor(300) };
    const reference = await quantize(embeddingModel(300, 64, { head: true, seed: 9 }).model, 'quantize-weights{gather=false}', 'tied_off');
    const on = await quantize(model, 'quantize-weights', 'tied');
    expect(blockOps(on.model)).toHaveLength(1);
    expect([...on.model.graph.nodesOf('com.microsoft.MatMulNBits')]).toHaveLength(1);
    expect(on.model.graph.constants.filter((value) => value.constant!.dtype === 'float32' && value.constant!.size >= 1024)).toEqual([]);
    const [y, logits] = await outputs(on.path, feeds);
    const [y0, logits0] = await outputs(reference.path, feeds);
    expect(cosine(y!, y0!)).toBeGreaterThanOrEqual(0.99);
    expect(cosine(logits!, logits0!)).toBeGreaterThanOrEqual(0.98);
  }, 120_000);
});
