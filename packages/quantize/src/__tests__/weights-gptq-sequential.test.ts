/**
 * Sequential GPTQ (`quantize-weights{method=gptq sequential=true}`): layers in waves, each wave's
 * Hessians from the model with the earlier waves already quantized. On fashion-mlp (three Gemms in a
 * chain: three waves) the first layer sees the float input either way, so its int4 codes equal
 * plain GPTQ's bit for bit, while the later layers' Hessians come from quantized activations and
 * their codes differ; the model keeps its accuracy in ORT on the 10k test images.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { findLinearLayers, layerWaves } from '@modelpass/quantize';
import type { Model } from '@modelpass/ir';
import { onnxChecker, runPipeline } from './weights-helpers.js';

const root = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));
const fixture = (name: string) => join(root, name, 'model.onnx');

/** Each MatMulNBits node's packed codes, by the name of the layer it replaced (the node is named `<layer>_Q4`). */
function packedCodes(model: Model): Map<string, Uint8Array> {
  const codes = new Map<string, Uint8Array>();
  for (const node of model.graph.nodes()) if (node.op === 'com.microsoft.MatMulNBits') codes.set(node.name.replace(/_Q4$/, ''), node.input(1).constant!.bytes());
  return codes;
}

describe('layerWaves', () => {
  it.each([
    ['fashion-mlp', 3],
    ['fashion-transformer', undefined],
  ] as const)('%s: every layer comes after each layer whose output reaches its input', (name, expectedWaves) => {
    const model = readOnnx(fixture(name));
    const { layers } = findLinearLayers(model);
    const waves = layerWaves(layers);
    expect(waves.flat()).toHaveLength(layers.length);
    if (expectedWaves !== undefined) expect(waves).toHaveLength(expectedWaves);
    expect(waves.length).toBeGreaterThan(1);
    const waveOf = new Map(waves.flatMap((wave, index) => wave.map((layer) => [layer, index] as const)));
    // A layer reading another's output (directly or through other ops) is in a later wave.
    for (const layer of layers) {
      const upstream = new Set<unknown>();
      const pending = [layer.node.input(0)];
      while (pending.length > 0) {
        const producer = pending.pop()!.producer;
        if (!producer || upstream.has(producer)) continue;
        upstream.add(producer);
        for (const input of producer.inputs) if (input && !input.constant) pending.push(input);
      }
      for (const other of layers) if (other !== layer && upstream.has(other.node)) expect(waveOf.get(other)!, `${other.node.name} before ${layer.node.name}`).toBeLessThan(waveOf.get(layer)!);
    }
  });
});

describe('quantize-weights{method=gptq sequential=true} on fashion-mlp', () => {
  it('first layer as plain GPTQ, later layers from quantized activations; int4 within 1.5 pp in ORT', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gptq-sequential-'));
    const base = 'quantize-weights{bits=4 block-size=32 method=gptq dataset=fashion-mnist:train samples=256';
    const plain = readOnnx(fixture('fashion-mlp'));
    await runPipeline(plain, `${base}}`);
    const sequential = readOnnx(fixture('fashion-mlp'));
    const run = await runPipeline(sequential, `${base} sequential=true}`);
    expect(run.statistics.get('layers-quantized')).toBe(3);
    const [plainCodes, sequentialCodes] = [packedCodes(plain), packedCodes(sequential)];
    const order = [...readOnnx(fixture('fashion-mlp')).graph.nodes()].filter((n) => n.op === 'onnx.Gemm' || n.op === 'onnx.MatMul').map((n) => n.name);
    expect(order).toHaveLength(3);
    for (const layer of order) expect(plainCodes.get(layer), layer).toBeDefined();
    expect(sequentialCodes.get(order[0]!)).toEqual(plainCodes.get(order[0]!));
    for (const later of order.slice(1)) expect(sequentialCodes.get(later), later).not.toEqual(plainCodes.get(later));
    const out = join(work, 'mlp-gptq-sequential.onnx');
    writeOnnx(sequential, out);
    onnxChecker(out);
    const testSet = loadFashionMnist({ split: 'test' });
    const fp32 = (await evaluateAccuracy(fixture('fashion-mlp'), testSet)).accuracy;
    const int4 = (await evaluateAccuracy(out, testSet)).accuracy;
    console.log(`fashion-mlp int4 gptq sequential: ${(100 * int4).toFixed(2)}% (fp32 ${(100 * fp32).toFixed(2)}%)`);
    expect(100 * (fp32 - int4)).toBeLessThanOrEqual(1.5);
  }, 300_000);
});
