/**
 * Embedding tables (issue 9, QA s13): quantize-dynamic and quantize-weights{bits=8} left a Gather's
 * constant float32 table float (a GPT's token embedding: 1.12 MB after quantize-dynamic vs 0.70 MB
 * after quantize-static); ORT's own quantize_dynamic quantizes Gather. Now the table is stored int8
 * (per tensor) and the Gather reads int8 rows, then DequantizeLinear; `gather=false` keeps it float.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { cosine, onnxChecker, randomTensor, runPipeline, type PipelineRun } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-gather-tables-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const torchModel = join(work, 'embedding.onnx');

// nn.Embedding(500, 64) → Linear(64, 32) → tanh, exported by torch (int64 ids [batch, len]).
const EXPORT = `
import torch, sys
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(500, 64)
        self.fc = torch.nn.Linear(64, 32)
    def forward(self, ids):
        return torch.tanh(self.fc(self.emb(ids)))
torch.onnx.export(M(), (torch.randint(0, 500, (2, 8)),), sys.argv[1], input_names=['ids'], output_names=['y'],
                  dynamic_axes={'ids': {0: 'batch', 1: 'len'}}, opset_version=13)
`;

beforeAll(() => {
  execFileSync('/usr/bin/python3', ['-c', EXPORT, torchModel], { stdio: 'pipe' });
}, 120_000);

const ids = Tensor.fromValues('int64', [2, 8], Array.from({ length: 16 }, (_, i) => (i * 61 + 7) % 500));

async function outputOf(source: Model | string, feeds: Record<string, Tensor>): Promise<Tensor> {
  const runner = new OrtRunner();
  try {
    return [...(await runner.run(source, feeds)).values()][0]!;
  } finally {
    await runner.dispose();
  }
}

async function quantize(source: Model | string, pipeline: string, name: string): Promise<{ path: string; run: PipelineRun; model: Model }> {
  const model = typeof source === 'string' ? readOnnx(source) : source;
  const run = await runPipeline(model, pipeline);
  const path = join(work, `${name}.onnx`);
  writeOnnx(model, path);
  onnxChecker(path);
  return { path, run, model: readOnnx(path) };
}

const tableDtypes = (model: Model) => [...model.graph.nodesOf('onnx.Gather')].map((node) => node.inputs[0]!.constant?.dtype);

describe('an embedding table read by Gather is stored int8', () => {
  for (const pipeline of ['quantize-dynamic', 'quantize-dynamic{format=dqlinear}', 'quantize-weights{bits=8}']) {
    it(`${pipeline}: torch nn.Embedding → int8 Gather → DequantizeLinear, cosine ≥ 0.999, file smaller than with gather=false`, async () => {
      const reference = await outputOf(torchModel, { ids });
      const name = pipeline.replace(/\W+/g, '_');
      const on = await quantize(torchModel, pipeline, name);
      const off = await quantize(torchModel, pipeline.includes('{') ? pipeline.replace('}', ' gather=false}') : `${pipeline}{gather=false}`, `${name}_off`);
      expect(on.run.statistics.get('gather-tables-quantized')).toBe(1);
      expect(off.run.statistics.get('gather-tables-quantized') ?? 0).toBe(0);
      expect(tableDtypes(on.model)).toEqual(['int8']);
      expect(tableDtypes(off.model)).toEqual(['float32']);
      // the table is 500×64 float32 (128,000 bytes): about 96,000 bytes less as int8
      expect(statSync(off.path).size - statSync(on.path).size).toBeGreaterThan(90_000);
      const quantized = await outputOf(on.path, { ids });
      expect(cosine(quantized, reference)).toBeGreaterThanOrEqual(0.999);
    }, 120_000);
  }

  it('quantize-weights{bits=4}: the torch table becomes a 4-bit GatherBlockQuantized (weights-gather-block.test.ts checks it value by value)', async () => {
    const reference = await outputOf(torchModel, { ids });
    const on = await quantize(torchModel, 'quantize-weights', 'w4');
    expect(tableDtypes(on.model)).toEqual([]);
    expect([...on.model.graph.nodesOf('com.microsoft.GatherBlockQuantized')]).toHaveLength(1);
    expect(cosine(await outputOf(on.path, { ids }), reference)).toBeGreaterThanOrEqual(0.99);
  }, 60_000);

  it('a table of fewer than 1024 values stays float', async () => {
    const b = new GraphBuilder();
    const x = b.input('ids', tensorType('int64', [4]));
    const y = b.op1('onnx.Gather', [b.constant(randomTensor([30, 32], 1), 'small'), x], {}, { name: 'lookup', outputs: ['y'] });
    y.type = tensorType('float32', [4, 32]);
    b.output(y);
    const { run, model } = await quantize(b.model({ onnx: 13 }), 'quantize-dynamic', 'small');
    expect(run.statistics.get('gather-tables-quantized') ?? 0).toBe(0);
    expect(tableDtypes(model)).toEqual(['float32']);
    expect(run.warnings.join('\n')).toContain('found no');
  }, 60_000);

  it('tied embedding and LM head (Gather and Gemm transB=1 on one table), dqlinear per tensor: one int8 table', async () => {
    const tied = () => {
      const b = new GraphBuilder();
      const x = b.input('ids', tensorType('int64', [2, 8]));
      const table = b.constant(randomTensor([300, 48], 3, 0.5), 'wte');
      const h = b.op1('onnx.Gather', [table, x], {}, { name: 'embed' });
      const flat = b.op1('onnx.Reshape', [h, b.constant(Tensor.fromValues('int64', [2], [16, 48]), 'flat')], {}, { name: 'flatten' });
      const logits = b.op1('onnx.Gemm', [flat, table], { transB: attrs.int(1) }, { name: 'head', outputs: ['logits'] });
      logits.type = tensorType('float32', [16, 300]);
      b.output(logits);
      return b.model({ onnx: 13 });
    };
    const feeds = { ids: Tensor.fromValues('int64', [2, 8], Array.from({ length: 16 }, (_, i) => (i * 37) % 300)) };
    const reference = await outputOf(tied(), feeds);
    const { path, run, model } = await quantize(tied(), 'quantize-dynamic{format=dqlinear per-channel=false}', 'tied');
    const large = model.graph.constants.filter((value) => value.constant!.size >= 1024);
    expect(large.map((value) => value.constant!.dtype)).toEqual(['int8']);
    expect(run.statistics.get('weights-shared')).toBe(1);
    expect(run.statistics.get('weight-bytes-before')).toBe(300 * 48 * 4);
    expect(cosine(await outputOf(path, feeds), reference)).toBeGreaterThanOrEqual(0.999);
  }, 60_000);

  it("skip= names a Gather (accepted as a node name): its table stays float", async () => {
    const { model } = await quantize(torchModel, 'quantize-dynamic{skip=[/emb/Gather]}', 'skip');
    expect(tableDtypes(model)).toEqual(['float32']);
  }, 60_000);
});
