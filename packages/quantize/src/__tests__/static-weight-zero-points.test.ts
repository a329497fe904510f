/**
 * quantize-static writes an int8 weight's DequantizeLinear without its zero point when the zero point
 * is 0 and only Conv/MatMul read the weight (ONNX's default zero point is 0, the output type follows
 * the int8 input): ONNX Runtime still fuses every group (QLinearConv, MatMulIntegerToFloat) and its
 * outputs equal, bit for bit, those of the same model with explicit zero points put back. A Gemm's
 * weight keeps its zero point: ORT's QGemm fusion needs it (without it the Gemm stays float).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { generateInputs, OrtRunner } from '@modelpass/runtime';
import { checkWithOnnx, ortFusion, readFixture, requireReferees, runPipeline } from './static-helpers.js';

/** The int8 weight DequantizeLinear nodes, by the op that reads them. */
function weightDequantizers(model: Model): { reader: string; inputs: number }[] {
  return [...model.graph.nodesOf('onnx.DequantizeLinear')]
    .filter((node) => node.inputs[0]?.constant?.dtype === 'int8')
    .map((node) => ({ reader: node.output(0).users[0]!.op, inputs: node.inputs.length }));
}

/** A copy of `model` whose int8 weight DequantizeLinear nodes read explicit all-zero zero points again. */
function withZeroPoints(path: string): Model {
  const copy = readOnnx(path);
  for (const node of copy.graph.nodesOf('onnx.DequantizeLinear')) {
    if (node.inputs[0]?.constant?.dtype !== 'int8' || node.inputs[2]) continue;
    const scale = node.input(1).constant!;
    node.setInput(2, copy.graph.addConstant(copy.graph.uniqueName(`${node.name}_zp`), Tensor.fromValues('int8', scale.shape, new Array<number>(scale.size).fill(0))));
  }
  return copy;
}

async function outputs(model: Model, feeds: Map<string, Tensor>): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    return [...(await runner.run(encodeOnnx(model), Object.fromEntries(feeds))).values()].flatMap((t) => t.toNumbers());
  } finally {
    await runner.dispose();
  }
}

describe('quantize-static: int8 weight zero points', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-zero-points-'));

  it.each([
    { fixture: 'fashion-cnn', readers: { 'onnx.Conv': 2, 'onnx.Gemm': 3 } },
    { fixture: 'fashion-transformer', readers: { 'onnx.MatMul': 2, 'onnx.Gemm': 3, 'onnx.Add': 3 } },
  ])('$fixture: Conv/MatMul weights without, Gemm weights with, every group fused, same outputs', async ({ fixture, readers }) => {
    requireReferees();
    const model = readFixture(fixture);
    await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=16 calibration=minmax}');
    const weights = weightDequantizers(model);
    expect(new Set(weights.map((w) => w.reader))).toEqual(new Set(Object.keys(readers)));
    for (const weight of weights) expect(weight.inputs, `${weight.reader} weight`).toBe(readers[weight.reader as keyof typeof readers]);

    const path = join(dir, `${fixture}.onnx`);
    writeFileSync(path, encodeOnnx(model));
    checkWithOnnx(path);
    expect((await ortFusion(path)).unfused).toEqual([]);

    const feeds = generateInputs(model, { seed: 7, dims: { N: 8 } });
    expect(await outputs(model, feeds)).toEqual(await outputs(withZeroPoints(path), feeds));
  }, 120_000);
});
