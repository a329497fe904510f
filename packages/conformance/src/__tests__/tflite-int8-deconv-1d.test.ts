/**
 * An int8 1-D ConvTranspose (QDQ, [N, C, L]) was refused by legalize-tflite ('2-D only'); it now runs as TRANSPOSE_CONV
 * int8 on [N, C, 1, L] between RESHAPEs (the float path's 2-D form). Referee: ONNX Runtime on the QDQ model against
 * TFLite 2.9 on the .tflite (io-type=int8: the input's integers fed, the output's integers compared), seeded inputs:
 * within one output step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform } from './int8-agreement.js';
import { fullIntegerTflite, quantizeInput, quantOf, runPipeline } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-deconv-1d-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** A QDQ 1-D ConvTranspose as ORT's quantizer writes it: int8 weights per output channel (axis 1), int32 bias. */
function perChannelDeconv1d(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, output?: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z]), s, z], {}, output ? { outputs: [output] } : {});
  };
  const scales = [0.002, 0.02, 0.008].map(Math.fround);
  const weight = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [4, 3, 5], Array.from({ length: 60 }, (_, i) => ((i * 53) % 255) - 127))), b.constant(Tensor.fromValues('float32', [3], scales)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(1) });
  const xScale = Math.fround(4 / 255);
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [300, -2000, 700])), b.constant(Tensor.fromValues('float32', [3], scales.map((s) => Math.fround(s * xScale))))], { axis: attrs.int(0) });
  const x = pair(b.input('x', tensorType('float32', [1, 4, 9])), xScale, 128);
  b.output(pair(b.op1('onnx.ConvTranspose', [x, weight, bias], { strides: attrs.ints([2]), pads: attrs.ints([2, 1]), output_padding: attrs.ints([1]) }), 0.03, 120, 'y'));
  return b.model({ onnx: 13 });
}

/** x [1, 3, 16] → Conv1d (stride 2) → Relu → ConvTranspose1d (stride 2, pads 1, output_padding 1) → y [1, 2, 16]. */
function net(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 16]));
  const conv = b.op1('onnx.Conv', [x, b.constant(seededUniform([6, 3, 3], 1, -0.5, 1), 'w1'), b.constant(seededUniform([6], 2, -0.1, 0.2), 'b1')], { strides: attrs.ints([2]), pads: attrs.ints([1, 1]) }, { name: 'conv1' });
  const relu = b.op1('onnx.Relu', [conv], {}, { name: 'relu' });
  b.output(b.op1('onnx.ConvTranspose', [relu, b.constant(seededUniform([6, 2, 3], 3, -0.4, 0.8), 'wt'), b.constant(seededUniform([2], 4, -0.1, 0.2), 'bt')], { strides: attrs.ints([2]), pads: attrs.ints([1, 1]), output_padding: attrs.ints([1]) }, { name: 'up', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

/** The worst gap in output steps between ORT's reals (in the output's integers) and TFLite's integers. */
async function worstSteps(qdq: Uint8Array, path: string, shape: number[], seeds: number[]): Promise<number> {
  const written = readTflite(path).graph;
  const outQuant = quantOf(written.outputs[0]!)!;
  const engine = new TfliteEngine();
  let worst = 0;
  for (const seed of seeds) {
    const x = seededUniform(shape, seed, -2, 4);
    const ort = [...(await runOrt(qdq, { x })).values()][0]!.toNumbers();
    const tflite = [...(await engine.run(path, { [written.inputs[0]!.name]: quantizeInput(x, written.inputs[0]!) })).values()][0]!.toNumbers();
    expect(tflite).toHaveLength(ort.length);
    ort.forEach((real, i) => (worst = Math.max(worst, Math.abs(Math.round(real / outQuant.scale[0]!) + outQuant.zeroPoint[0]! - tflite[i]!))));
  }
  return worst;
}

describe('full-integer TFLite: 1-D ConvTranspose (ORT vs TFLite 2.9)', () => {
  it('a QDQ 1-D ConvTranspose with per-channel int8 weights: TRANSPOSE_CONV int8 between RESHAPEs, within one output step of ORT', async () => {
    const qdq = encodeOnnx(perChannelDeconv1d());
    const converted = decodeOnnx(qdq);
    expect((await runPipeline(converted, 'legalize-tflite{io-type=int8 full-integer=true}')).statistics.get('float-ops-in-int8-model')).toBe(0);
    const path = join(DIR, 'deconv1d.tflite');
    writeTflite(converted, path);
    const deconv = readTflite(path).graph.nodeList().find((node) => node.op === 'tflite.TRANSPOSE_CONV')!;
    expect(quantOf(deconv.input(1))!.scale).toHaveLength(3);
    expect(await worstSteps(qdq, path, [1, 4, 9], [1, 2, 3, 4])).toBeLessThanOrEqual(1);
  }, 60_000);

  it('Conv1d → Relu → ConvTranspose1d quantized full-integer: no float op, within one output step of ORT on 8 seeded inputs', async () => {
    const path = join(DIR, 'net.tflite');
    const { qdq, ops } = await fullIntegerTflite(net(), 'quantize-static{samples=16 full-integer=true}', path);
    expect(ops).toContain('TRANSPOSE_CONV(int8)');
    expect(ops.filter((op) => op.includes('float32'))).toEqual([]);
    const worst = await worstSteps(qdq, path, [1, 3, 16], [101, 102, 103, 104, 105, 106, 107, 108]);
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES deconv 1-D full-integer: worst ${worst} output steps`);
    expect(worst).toBeLessThanOrEqual(1);
  }, 120_000);
});
