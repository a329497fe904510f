/**
 * Per-channel weights on models importing onnx opset 11/12 (torch's opset-11 exports, tf2onnx's opset 12): a
 * per-channel weight is a per-axis DequantizeLinear, which ONNX has from opset 13 only. QA s17 round 13:
 * `quantize-dynamic{format=dqlinear}` and `quantize-weights{bits=8}` on a torch opset-11 model left the IR invalid
 * ("DequantizeLinear-10 has no attribute 'axis'"), and quantize-static quantized BlazeFace (tf2onnx, opset 12) per
 * tensor (output cosine 0.952 against 0.987 per channel). Now the model is raised to opset 13 where every node means
 * the same there (as opsets 7–10 already were), with a warning; where a node blocks it (a Softmax over a non-last axis
 * of a rank-3 input changed meaning in 13), quantize-static and quantize-dynamic's QDQ form go per tensor and say why,
 * quantize-weights{bits=8} writes MatMulNBits under format=auto and refuses an explicit format=dequantize. Every
 * written model passes ONNX's checker and runs in ORT close to the float one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, onnxChecker, pipelineFailure, randomTensor, runPipeline } from './weights-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weights-old-opset-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(dir, { recursive: true, force: true });
});

const K = 64;
const N = 24;

/**
 * y = x·W (MatMul), z = Gemm(x, Wt, bias, transB=1); `blocked`: also s = Softmax(t, axis=1) of a [1,2,3] input,
 * which means another thing at opset 13, so the model cannot be raised there.
 */
function modelAtOpset(opset: number, blocked = false): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [4, K]));
  const y = b.op1('onnx.MatMul', [x, b.constant(randomTensor([K, N], 1), 'w')], {}, { outputs: ['y'], name: 'matmul' });
  const z = b.op1('onnx.Gemm', [x, b.constant(randomTensor([N, K], 2), 'wt'), b.constant(randomTensor([N], 3), 'bias')], { transB: attrs.int(1) }, { outputs: ['z'], name: 'gemm' });
  y.type = tensorType('float32', [4, N]);
  z.type = tensorType('float32', [4, N]);
  b.output(y, z);
  if (blocked) {
    const t = b.input('t', tensorType('float32', [1, 2, 3]));
    b.output(b.op1('onnx.Softmax', [t], { axis: attrs.int(1) }, { outputs: ['s'], name: 'softmax' }));
  }
  return b.model({ onnx: opset });
}

const x = randomTensor([4, K], 9);
const t = randomTensor([1, 2, 3], 10);

async function outputs(model: Model): Promise<Tensor[]> {
  const feeds = model.graph.inputs.some((input) => input.name === 't') ? { x, t } : { x };
  const result = await runOrt(encodeOnnx(model), feeds);
  return [result.get('y')!, result.get('z')!];
}

/** Writes the model, runs ONNX's checker on it and returns the worst cosine of its outputs to the float model's. */
async function checkAgainst(float: Tensor[], model: Model, name: string): Promise<number> {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, encodeOnnx(model));
  onnxChecker(path);
  const quantized = await outputs(model);
  return Math.min(...quantized.map((q, i) => cosine(float[i]!, q)));
}

/** Scale shapes of the DequantizeLinear nodes whose scale is a constant (the weights'). */
function weightScaleShapes(model: Model): number[][] {
  return [...model.graph.nodesOf('onnx.DequantizeLinear')].flatMap((node) => (node.inputs[1]!.constant && node.inputs[0]!.constant ? [[...node.inputs[1]!.constant.shape]] : []));
}

describe.each([11, 12])('per-channel weights at onnx opset %i', (opset) => {
  it.each([
    ['quantize-static{samples=8 per-channel-min-gain=0}', 'quantize-static'],
    ['quantize-dynamic{format=dqlinear}', 'dqlinear'],
    ['quantize-weights{bits=8}', 'weights8'],
  ])('%s raises the model to opset 13, with a warning, and writes per-channel scales', async (pipeline, name) => {
    const model = modelAtOpset(opset);
    const float = await outputs(model);
    const run = await runPipeline(model, pipeline);
    expect(run.warnings.join('\n')).toMatch(new RegExp(`the model imported onnx opset ${opset}, which cannot hold per-channel weights .*; it now imports opset 13`));
    expect(run.warnings.join('\n')).not.toMatch(/per tensor/);
    expect(model.opset('onnx')).toBe(13);
    // the two weights (quantize-static: and the Gemm's int32 bias) per channel
    expect(weightScaleShapes(model).filter((shape) => shape.length === 1 && shape[0] === N).length).toBeGreaterThanOrEqual(2);
    expect(await checkAgainst(float, model, `${name}-${opset}`)).toBeGreaterThan(0.999);
  });

  it('quantize-dynamic (integer form) keeps the opset and per-channel weights', async () => {
    const model = modelAtOpset(opset);
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-dynamic', debug);
    expect(run.warnings.join('\n')).not.toMatch(/per tensor|now imports/);
    expect(model.opset('onnx')).toBe(opset);
    expect(debug.filter((line) => line.includes('→ integer (int8, per channel)'))).toHaveLength(2);
  });

  it('per-channel=false keeps the opset', async () => {
    const model = modelAtOpset(opset);
    await runPipeline(model, 'quantize-static{samples=8 per-channel=false}');
    expect(model.opset('onnx')).toBe(opset);
  });

  describe('when a node keeps the model below opset 13', () => {
    it('quantize-static quantizes per tensor, naming the node', async () => {
      const model = modelAtOpset(opset, true);
      const float = await outputs(model);
      const run = await runPipeline(model, 'quantize-static{samples=8 per-channel-min-gain=0}');
      expect(run.warnings.join('\n')).toMatch(new RegExp(`per-channel weights need onnx opset 13 .*imports opset ${opset} and was not raised to 13 \\(1 node\\(s\\) keep it at opset ${opset}: Softmax 'softmax'.*so weights are quantized per tensor`));
      expect(model.opset('onnx')).toBe(opset);
      expect(weightScaleShapes(model).length).toBeGreaterThanOrEqual(2);
      expect(weightScaleShapes(model).every((shape) => shape.length === 0)).toBe(true);
      expect(await checkAgainst(float, model, `static-blocked-${opset}`)).toBeGreaterThan(0.99);
    });

    it('quantize-dynamic{format=dqlinear} quantizes per tensor with a warning', async () => {
      const model = modelAtOpset(opset, true);
      const float = await outputs(model);
      const run = await runPipeline(model, 'quantize-dynamic{format=dqlinear}');
      expect(run.warnings.join('\n')).toMatch(new RegExp(`per-channel weights need onnx opset 13 in format=dqlinear .*imports opset ${opset} and was not raised to 13 .*Softmax 'softmax'.*so weights are quantized per tensor`));
      expect(run.statistics.get('layers-quantized')).toBe(2);
      expect(model.opset('onnx')).toBe(opset);
      const scales = [...model.graph.nodesOf('onnx.DequantizeLinear')].flatMap((node) => (node.inputs[1]!.constant ? [node] : []));
      expect(scales).toHaveLength(2);
      for (const node of scales) {
        expect(node.hasAttribute('axis')).toBe(false);
        expect(node.inputs[1]!.constant!.shape).toEqual([]);
      }
      expect(await checkAgainst(float, model, `dqlinear-blocked-${opset}`)).toBeGreaterThan(0.99);
    });

    it('quantize-weights{bits=8} writes MatMulNBits under format=auto, with a note', async () => {
      const model = modelAtOpset(opset, true);
      const float = await outputs(model);
      const run = await runPipeline(model, 'quantize-weights{bits=8}');
      expect(run.notes.join('\n')).toMatch(new RegExp(`opset ${opset} < 13: .*not raised to 13 .*8-bit weights are written as com.microsoft.MatMulNBits`));
      expect([...model.graph.nodesOf('onnx.DequantizeLinear')]).toHaveLength(0);
      expect([...model.graph.nodesOf('com.microsoft.MatMulNBits')]).toHaveLength(2);
      expect(await checkAgainst(float, model, `w8-blocked-${opset}`)).toBeGreaterThan(0.999);
    });

    it('quantize-weights{bits=8 format=dequantize} is refused naming the option, the opset and the node', async () => {
      const model = modelAtOpset(opset, true);
      const message = await pipelineFailure(runPipeline(model, 'quantize-weights{bits=8 format=dequantize}'));
      expect(message).toMatch(new RegExp(`option 'format' of pass 'quantize-weights' dequantize writes per-channel DequantizeLinear weights, which need onnx opset 13; the model imports opset ${opset} and was not raised to 13 .*Softmax 'softmax'`));
      expect(message).toMatch(/format=matmulnbits/);
      expect([...model.graph.nodesOf('onnx.MatMul')]).toHaveLength(1);
    });
  });
});
