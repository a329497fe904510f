/**
 * quantize-weights on small MatMul/Gemm models: ONNX Runtime's MatMulNBits must compute exactly a
 * float MatMul with the weights dequantized from the tensors the pass wrote (decoded here from
 * ORT's documented layout, independently of the packer), for every method and zero-point kind;
 * the files pass ONNX's full check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Node } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { linearModel, maxAbsDiff, onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-qweights-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

function intAttribute(node: Node, name: string): number {
  const attribute = node.getAttribute(name);
  if (attribute?.kind !== 'int') throw new Error(`${node.name} has no int attribute ${name}`);
  return attribute.value;
}

/** W [K, N] from a MatMulNBits node, per ORT's docs/ContribOperators.md. */
function dequantizeMatMulNBits(node: Node): Tensor {
  const k = intAttribute(node, 'K');
  const n = intAttribute(node, 'N');
  const bits = intAttribute(node, 'bits');
  const blockSize = intAttribute(node, 'block_size');
  const blocks = Math.ceil(k / blockSize);
  const packed = node.input(1).constant!.data() as Uint8Array;
  const scales = node.input(2).constant!.data() as Float32Array;
  const zeroInput = node.inputs[3]?.constant;
  const codeAt = (bytes: Uint8Array, index: number) => (bits === 8 ? bytes[index]! : (bytes[index >> 1]! >> ((index & 1) * 4)) & 0x0f);
  const zeroBytesPerRow = Math.ceil((blocks * bits) / 8);
  const zeroOf = (row: number, block: number): number => {
    if (!zeroInput) return 1 << (bits - 1);
    if (zeroInput.dtype === 'float32') return (zeroInput.data() as Float32Array)[row * blocks + block]!;
    return codeAt((zeroInput.data() as Uint8Array).subarray(row * zeroBytesPerRow), block);
  };
  const values = new Float32Array(k * n);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < k; i++) {
      const block = Math.floor(i / blockSize);
      const code = codeAt(packed, row * blocks * blockSize + i);
      values[i * n + row] = Math.fround((code - zeroOf(row, block)) * scales[row * blocks + block]!);
    }
  }
  return Tensor.fromValues('float32', [k, n], values);
}

/** The same computation with float MatMuls over the dequantized weights (+ whatever follows). */
function floatTwin(model: Model): Model {
  const b = new GraphBuilder();
  const x = b.input('x', model.graph.inputs[0]!.type);
  const map = new Map([[model.graph.inputs[0]!, x]]);
  for (const node of model.graph.nodes()) {
    const inputs = node.inputs.map((v) => (v ? (map.get(v) ?? (v.constant ? b.constant(v.constant, v.name) : undefined)) : null));
    if (node.op === 'com.microsoft.MatMulNBits') {
      const y = b.op1('onnx.MatMul', [inputs[0]!, b.constant(dequantizeMatMulNBits(node), 'w_dq')]);
      map.set(node.output(0), y);
    } else {
      const outputs = b.op(node.op, inputs.map((v) => v ?? null), Object.fromEntries(node.attributes), { outputs: node.outputs.length });
      node.outputs.forEach((v, i) => map.set(v!, outputs[i]!));
    }
  }
  for (const output of model.graph.outputs) {
    const value = map.get(output)!;
    value.type = output.type;
    value.rename(output.name);
    b.output(value);
  }
  return b.model({ onnx: model.opset('onnx')! });
}

const feeds = { x: randomTensor([5, 100], 9, 3) };

describe('quantize-weights → MatMulNBits', () => {
  for (const pipeline of [
    'quantize-weights',
    'quantize-weights{symmetric=true}',
    'quantize-weights{method=hqq}',
    'quantize-weights{block-size=16 accuracy-level=0}',
    'quantize-weights{bits=8 format=matmulnbits block-size=64}',
  ]) {
    it(`${pipeline}: ORT's MatMulNBits equals a float MatMul of the dequantized weights within 1e-4`, async () => {
      const model = linearModel(100, 24, { alpha: 0.5, beta: 2 });
      const reference = await runOrt(model, feeds);
      const run = await runPipeline(model, pipeline);
      expect(run.statistics.get('layers-quantized')).toBe(2);
      const ops = [...model.graph.nodes()].map((n) => n.op);
      expect(ops.filter((op) => op === 'com.microsoft.MatMulNBits')).toHaveLength(2);
      expect(ops).not.toContain('onnx.Gemm');
      expect(model.graph.constants.map((c) => c.name)).not.toContain('w');
      const path = join(work, 'linear.onnx');
      writeOnnx(model, path);
      onnxChecker(path);
      const quantized = await runOrt(path, feeds);
      const twin = await runOrt(floatTwin(model), feeds);
      for (const name of ['y', 'z']) {
        expect(maxAbsDiff(quantized.get(name)!, twin.get(name)!), name).toBeLessThan(1e-4);
        // and the quantization itself is close to the float layer (4-bit: a few percent of the output range)
        const range = Math.max(...Array.from(reference.get(name)!.data() as Float32Array, Math.abs));
        expect(maxAbsDiff(quantized.get(name)!, reference.get(name)!) / range, name).toBeLessThan(pipeline.includes('bits=8') ? 0.01 : 0.15);
      }
      if (pipeline.includes('hqq')) expect(model.graph.constants.some((c) => c.name.endsWith('_zero_points') && c.constant!.dtype === 'float32')).toBe(true);
      if (pipeline.includes('symmetric')) expect(model.graph.constants.some((c) => c.name.endsWith('_zero_points'))).toBe(false);
    });
  }

  it('bits=8 (DequantizeLinear) at opset 13: per-channel int8 with a note, close to float', async () => {
    const model = linearModel(100, 24);
    const reference = await runOrt(model, feeds);
    const run = await runPipeline(model, 'quantize-weights{bits=8 symmetric=true}');
    expect(run.notes.join('\n')).toMatch(/per output channel/);
    const dq = [...model.graph.nodesOf('onnx.DequantizeLinear')];
    expect(dq).toHaveLength(2);
    expect(dq.map((n) => n.input(0).constant!.dtype)).toEqual(['int8', 'int8']);
    const path = join(work, 'linear-int8.onnx');
    writeOnnx(model, path);
    onnxChecker(path);
    const quantized = await runOrt(path, feeds);
    for (const name of ['y', 'z']) {
      const range = Math.max(...Array.from(reference.get(name)!.data() as Float32Array, Math.abs));
      expect(maxAbsDiff(quantized.get(name)!, reference.get(name)!) / range).toBeLessThan(0.01);
    }
  });

  it('bad options are ModelpassErrors naming the option', async () => {
    await expect(runPipeline(linearModel(64, 8), 'quantize-weights{bits=5}')).rejects.toThrow(/option 'bits'.*4 or 8/);
    await expect(runPipeline(linearModel(64, 8), 'quantize-weights{block-size=48}')).rejects.toThrow(/option 'block-size'.*power of two/);
    await expect(runPipeline(linearModel(64, 8), 'quantize-weights{bits=4 format=dequantize}')).rejects.toThrow(/option 'format'/);
    await expect(runPipeline(linearModel(64, 8), 'quantize-weights{skip=[nope]}')).rejects.toThrow(/option 'skip'.*'nope'/);
    await expect(runPipeline(linearModel(64, 8), 'quantize-weights{method=gptq dataset=nope:x}')).rejects.toThrow(/option 'dataset'/);
  });

  it('GPTQ without a dataset warns that it uses seeded random inputs, and still matches ORT', async () => {
    const model = linearModel(64, 8);
    const run = await runPipeline(model, 'quantize-weights{method=gptq samples=16}');
    expect(run.warnings.join('\n')).toMatch(/no calibration dataset given.*seeded random/);
    expect(run.statistics.get('layers-quantized')).toBe(2);
    const path = join(work, 'linear-gptq.onnx');
    writeOnnx(model, path);
    onnxChecker(path);
    const x = { x: randomTensor([5, 64], 4) };
    const quantized = await runOrt(path, x);
    const twin = await runOrt(floatTwin(model), x);
    expect(maxAbsDiff(quantized.get('y')!, twin.get('y')!)).toBeLessThan(1e-4);
  });

  it('a model without constant weights: a warning, nothing changed', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const w = b.input('w', tensorType('float32', [3, 2]));
    b.output(b.op1('onnx.MatMul', [x, w]));
    const run = await runPipeline(b.model(), 'quantize-weights');
    expect(run.warnings.join('\n')).toMatch(/found no MatMul\/Gemm/);
    expect(run.hints).toEqual([]);
  });

  it('weights held in Constant nodes (tf2onnx/paddle2onnx exports): the warning says to run simplify first', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', [2, 64]));
      const w = b.op1('onnx.Constant', [], { value: attrs.tensor(randomTensor([64, 32], 7)) });
      b.output(b.op1('onnx.MatMul', [x, w]));
      return b.model({ onnx: 21 });
    };
    for (const pipeline of ['quantize-weights', 'quantize-dynamic']) {
      const run = await runPipeline(build(), pipeline);
      expect(run.warnings.join('\n'), pipeline).toMatch(/found no MatMul/);
      expect(run.hints.join('\n'), pipeline).toMatch(/1 value\(s\) in Constant nodes.*run simplify first/);
    }
  });
});
