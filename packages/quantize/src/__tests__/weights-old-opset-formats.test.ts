/**
 * Weight formats on models importing onnx opset 11/12 (torch exports at opset 11 are common): a per-channel weight is
 * a per-axis DequantizeLinear, which ONNX has from opset 13 only. QA s17 round 13: `quantize-dynamic{format=dqlinear}`
 * and `quantize-weights{bits=8}` on a torch opset-11 model left the IR invalid ("DequantizeLinear-10 has no attribute
 * 'axis'"). Now quantize-dynamic's QDQ form goes per tensor there (with a warning, as quantize-static does),
 * quantize-weights{bits=8} writes MatMulNBits under format=auto (with a note) and refuses an explicit
 * format=dequantize naming the option and the opset; each written model passes ONNX's checker and runs in ORT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, linearModel, onnxChecker, pipelineFailure, randomTensor, runPipeline } from './weights-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weights-old-opset-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(dir, { recursive: true, force: true });
});

const K = 64;
const N = 24;

function modelAtOpset(opset: number): Model {
  const model = linearModel(K, N);
  model.opsetImports.set('onnx', opset);
  return model;
}

async function outputs(model: Model, x: Tensor): Promise<Tensor[]> {
  const result = await runOrt(encodeOnnx(model), { x });
  return [result.get('y')!, result.get('z')!];
}

/** Writes the model, runs ONNX's checker on it and returns the worst cosine of its outputs to the float model's. */
async function checkAgainst(float: Tensor[], model: Model, name: string, x: Tensor): Promise<number> {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, encodeOnnx(model));
  onnxChecker(path);
  const quantized = await outputs(model, x);
  return Math.min(...quantized.map((q, i) => cosine(float[i]!, q)));
}

describe.each([11, 12])('weight formats at onnx opset %i', (opset) => {
  const x = randomTensor([4, K], 9);

  it('quantize-dynamic{format=dqlinear} quantizes per tensor with a warning, and the model is valid', async () => {
    const model = modelAtOpset(opset);
    const float = await outputs(model, x);
    const run = await runPipeline(model, 'quantize-dynamic{format=dqlinear}');
    expect(run.warnings.join('\n')).toMatch(new RegExp(`per-channel weights need onnx opset 13 in format=dqlinear .*imports opset ${opset}, so weights are quantized per tensor`));
    expect(run.statistics.get('layers-quantized')).toBe(2);
    expect(model.opset('onnx')).toBe(opset);
    const weightScales = [...model.graph.nodesOf('onnx.DequantizeLinear')].flatMap((node) => (node.inputs[1]!.constant ? [node] : []));
    expect(weightScales).toHaveLength(2);
    for (const node of weightScales) {
      expect(node.hasAttribute('axis')).toBe(false);
      expect(node.inputs[1]!.constant!.shape).toEqual([]);
    }
    expect(await checkAgainst(float, model, `dqlinear-${opset}`, x)).toBeGreaterThan(0.99);
  });

  it('quantize-dynamic (integer form) keeps per-channel weights', async () => {
    const model = modelAtOpset(opset);
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-dynamic', debug);
    expect(run.warnings.join('\n')).not.toMatch(/per tensor/);
    expect(debug.filter((line) => line.includes('→ integer (int8, per channel)'))).toHaveLength(2);
  });

  it('quantize-weights{bits=8} writes MatMulNBits under format=auto, with a note', async () => {
    const model = modelAtOpset(opset);
    const float = await outputs(model, x);
    const run = await runPipeline(model, 'quantize-weights{bits=8}');
    expect(run.notes.join('\n')).toMatch(new RegExp(`opset ${opset} < 13: .*8-bit weights are written as com.microsoft.MatMulNBits`));
    expect([...model.graph.nodesOf('onnx.DequantizeLinear')]).toHaveLength(0);
    expect([...model.graph.nodesOf('com.microsoft.MatMulNBits')]).toHaveLength(2);
    expect(await checkAgainst(float, model, `w8-${opset}`, x)).toBeGreaterThan(0.999);
  });

  it('quantize-weights{bits=8 format=dequantize} is refused naming the option and the opset, before changing the model', async () => {
    const model = modelAtOpset(opset);
    const message = await pipelineFailure(runPipeline(model, 'quantize-weights{bits=8 format=dequantize}'));
    expect(message).toMatch(new RegExp(`option 'format' of pass 'quantize-weights' dequantize writes per-channel DequantizeLinear weights, which need onnx opset 13; the model imports opset ${opset}`));
    expect(message).toMatch(/format=matmulnbits/);
    expect([...model.graph.nodesOf('onnx.MatMul')]).toHaveLength(1);
  });
});

describe('weight formats at onnx opset 13', () => {
  it('quantize-weights{bits=8} still writes per-channel DequantizeLinear, quantize-dynamic{format=dqlinear} per-channel scales', async () => {
    const weights = modelAtOpset(13);
    await runPipeline(weights, 'quantize-weights{bits=8}');
    expect([...weights.graph.nodesOf('onnx.DequantizeLinear')].map((node) => node.inputs[1]!.constant!.shape)).toEqual([[N], [N]]);
    const dynamic = modelAtOpset(13);
    const run = await runPipeline(dynamic, 'quantize-dynamic{format=dqlinear}');
    expect(run.warnings.join('\n')).not.toMatch(/per tensor/);
    expect([...dynamic.graph.nodesOf('onnx.DequantizeLinear')].some((node) => node.inputs[1]!.constant?.shape[0] === N)).toBe(true);
  });
});
