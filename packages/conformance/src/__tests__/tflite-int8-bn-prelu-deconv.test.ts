/**
 * Full-integer TFLite of the three ops quantize-static{full-integer=true} and legalize-tflite{full-integer=true} left
 * float (QA s18: DenseNet's BatchNormalization after a Concat, PRelu, ConvTranspose; the model was refused). Now:
 * BatchNormalization → int8 DEPTHWISE_CONV_2D 1×1 (per-channel multiplier, int32 shift), PRelu → int8 PRELU (the slope
 * quantized by quantize-static, so both runtimes read the same), ConvTranspose → int8 TRANSPOSE_CONV (per-channel
 * weights, int32 bias). Referee: ONNX Runtime on the QDQ model against TFLite 2.9 on the .tflite (io-type=int8: the
 * input's integers fed, the output's compared), 8 seeded inputs: within one output step (measured: 1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform } from './int8-agreement.js';
import { fullIntegerTflite, quantizeInput, quantOf, runPipeline } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-bn-prelu-deconv-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const SHAPE = [1, 3, 8, 8];
const seeded = (shape: number[], seed: number, low: number, span: number): Tensor => seededUniform(shape, seed, low, span);

/** x → Conv → Concat(conv, Relu(conv)) → BatchNormalization → PRelu (per-channel slope) → ConvTranspose (stride 2, pads 1). */
function net(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const conv = b.op1('onnx.Conv', [x, b.constant(seeded([4, 3, 3, 3], 1, -0.5, 1), 'w1'), b.constant(seeded([4], 2, -0.1, 0.2), 'b1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const joined = b.op1('onnx.Concat', [conv, b.op1('onnx.Relu', [conv], {}, { name: 'relu' })], { axis: attrs.int(1) }, { name: 'concat' });
  const parameters = [seeded([8], 3, 0.5, 1), seeded([8], 4, -0.2, 0.4), seeded([8], 5, -0.3, 0.6), seeded([8], 6, 0.5, 1)].map((t, i) => b.constant(t, `bn_${i}`));
  const normalized = b.op1('onnx.BatchNormalization', [joined, ...parameters], {}, { name: 'bn' });
  const activated = b.op1('onnx.PRelu', [normalized, b.constant(seeded([8, 1, 1], 7, 0.05, 0.4), 'slope')], {}, { name: 'prelu' });
  b.output(b.op1('onnx.ConvTranspose', [activated, b.constant(seeded([8, 4, 3, 3], 8, -0.4, 0.8), 'wt'), b.constant(seeded([4], 9, -0.1, 0.2), 'bt')], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]), output_padding: attrs.ints([1, 1]) }, { name: 'up', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

/** A QDQ ConvTranspose with int8 weights per output channel (axis 1, scales 10× apart) and an int32 bias, as ORT's quantizer writes it. */
function perChannelDeconv(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, output?: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z]), s, z], {}, output ? { outputs: [output] } : {});
  };
  const scales = [0.002, 0.02, 0.008].map(Math.fround);
  const weight = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => ((i * 53) % 255) - 127))), b.constant(Tensor.fromValues('float32', [3], scales)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(1) });
  const xScale = Math.fround(4 / 255);
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [300, -2000, 700])), b.constant(Tensor.fromValues('float32', [3], scales.map((s) => Math.fround(s * xScale))))], { axis: attrs.int(0) });
  const x = pair(b.input('x', tensorType('float32', [1, 4, 5, 5])), xScale, 128);
  b.output(pair(b.op1('onnx.ConvTranspose', [x, weight, bias], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) }), 0.03, 120, 'y'));
  return b.model({ onnx: 13 });
}

describe('full-integer TFLite: BatchNormalization after a Concat, PRelu, ConvTranspose (ORT vs TFLite 2.9)', () => {
  it('a ConvTranspose with per-channel int8 weights: TRANSPOSE_CONV int8 (quantized_dimension 0), within one output step of ORT', async () => {
    const qdq = encodeOnnx(perChannelDeconv());
    const converted = decodeOnnx(qdq);
    expect((await runPipeline(converted, 'legalize-tflite{io-type=int8 full-integer=true}')).statistics.get('float-ops-in-int8-model')).toBe(0);
    const path = join(DIR, 'deconv.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    const deconv = written.nodeList().find((node) => node.op === 'tflite.TRANSPOSE_CONV')!;
    expect(quantOf(deconv.input(1))!.scale).toHaveLength(3);
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    let worst = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const x = seeded([1, 4, 5, 5], 200 + seed, -2, 4);
      const ort = [...(await runOrt(qdq, { x })).values()][0]!.toNumbers();
      const tflite = [...(await engine.run(path, { x: quantizeInput(x, written.inputs[0]!) })).values()][0]!.toNumbers();
      ort.forEach((real, i) => (worst = Math.max(worst, Math.abs(Math.round(real / outQuant.scale[0]!) + outQuant.zeroPoint[0]! - tflite[i]!))));
    }
    expect(worst).toBeLessThanOrEqual(1);
  }, 60_000);


  it('DEPTHWISE_CONV_2D, PRELU and TRANSPOSE_CONV on int8; within one output step of ORT on 8 seeded inputs', async () => {
    const model = net();
    const { qdq, written, ops } = await fullIntegerTflite(model, 'quantize-static{samples=16 full-integer=true}', join(DIR, 'net.tflite'));
    expect(ops).toEqual(expect.arrayContaining(['DEPTHWISE_CONV_2D(int8)', 'PRELU(int8)', 'TRANSPOSE_CONV(int8)']));
    expect(ops.filter((op) => op.includes('float32'))).toEqual([]);
    const output = written.outputs[0]!;
    const outQuant = quantOf(output)!;
    const engine = new TfliteEngine();
    let worst = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const x = seeded(SHAPE, 100 + seed, -2, 4);
      const ort = [...(await runOrt(qdq, { x })).values()][0]!.toNumbers();
      const tflite = [...(await engine.run(join(DIR, 'net.tflite'), { [written.inputs[0]!.name]: quantizeInput(x, written.inputs[0]!) })).values()][0]!.toNumbers();
      expect(tflite).toHaveLength(ort.length);
      // ORT's reals in the output's integers (its uint8 shifted to int8 by the zero point), against TFLite's int8.
      ort.forEach((real, i) => (worst = Math.max(worst, Math.abs(Math.round(real / outQuant.scale[0]!) + outQuant.zeroPoint[0]! - tflite[i]!))));
    }
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES bn/prelu/deconv full-integer: worst ${worst} output steps (${(output.type as TensorType).dtype})`);
    expect(worst).toBeLessThanOrEqual(1);
  }, 120_000);
});
