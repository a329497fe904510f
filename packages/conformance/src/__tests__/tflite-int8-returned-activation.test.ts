/**
 * A quantized activation that is also a graph output (quantize-static on SSDlite's returned backbone features):
 * `Conv → Relu → feat (output) → Q/DQ → Conv → y`. legalize-tflite ran the Relu and the next Conv in float between
 * DEQUANTIZE and QUANTIZE; now both are int8 and `feat` is a DEQUANTIZE of the Relu's integers. Referee: ONNX Runtime on
 * the QDQ model against TFLite 2.9 on the .tflite, 8 seeded inputs. ORT's `feat` is the Relu of the Conv's reals (its
 * grid, step 0.03); TFLite's is that on feat's own grid (step 0.015): a step of the Conv's rounding plus half a step
 * of feat's, at most. y: both runtimes read feat's integers, so within a step or two of y's scale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform, stepsApart } from './int8-agreement.js';
import { runPipeline } from './full-integer-harness.js';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { readTflite, writeTflite } from '@modelpass/tflite';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-returned-activation-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const SHAPE = [1, 4, 6, 6];
const H = { scale: 0.03, zeroPoint: 130 };
const FEAT = { scale: 0.015, zeroPoint: 0 };
const Y = { scale: 0.01, zeroPoint: 125 };

function returnedFeatureModel(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, q: { scale: number; zeroPoint: number }, name: string, output = `${name}_reals`): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(q.scale)));
    const z = b.constant(Tensor.scalar('uint8', q.zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq`, outputs: [output] });
  };
  const weights = (name: string, seed: number) => {
    const codes = Array.from({ length: 16 }, (_, i) => ((i * 53 + seed * 31) % 255) - 127);
    return b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [4, 4, 1, 1], codes)), b.constant(Tensor.fromValues('float32', [4], [0.004, 0.006, 0.005, 0.003].map(Math.fround))), b.constant(Tensor.fromValues('int8', [4], [0, 0, 0, 0]))], { axis: attrs.int(0) }, { name });
  };
  const x = pair(b.input('x', tensorType('float32', SHAPE)), { scale: 4 / 255, zeroPoint: 128 }, 'x');
  const h = pair(b.op1('onnx.Conv', [x, weights('w1_dq', 1)], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' }), H, 'h');
  const feat = b.op1('onnx.Relu', [h], {}, { name: 'relu', outputs: ['feat'] });
  b.output(feat);
  b.output(pair(b.op1('onnx.Conv', [pair(feat, FEAT, 'feat'), weights('w2_dq', 2)], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2' }), Y, 'conv2', 'y'));
  return b.model({ onnx: 17 });
}

describe('int8 TFLite: an activation the model returns and quantizes for the next Conv (ORT vs TFLite 2.9)', () => {
  it('both Convs and the Relu int8; feat within 1.5 steps of the Conv grid, y within 2 steps, on 8 seeded inputs', async () => {
    const qdq = encodeOnnx(returnedFeatureModel());
    const converted = decodeOnnx(qdq);
    expect((await runPipeline(converted, 'legalize-tflite')).statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = converted.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.outputs[0]!.type as TensorType).dtype})`);
    expect(ops.filter((op) => op.startsWith('CONV_2D') || op.startsWith('RELU'))).toEqual(['CONV_2D(int8)', 'RELU(int8)', 'CONV_2D(int8)']);
    const path = join(DIR, 'returned.tflite');
    writeTflite(converted, path);
    const engine = new TfliteEngine();
    let worstFeat = 0;
    let worstY = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const feeds = { x: seededUniform(SHAPE, seed, -4, 8) };
      const ort = await runOrt(qdq, feeds);
      const tflite = await engine.run(path, feeds);
      worstFeat = Math.max(worstFeat, stepsApart(ort.get('feat')!.toNumbers(), tflite.get('feat')!.toNumbers(), H.scale));
      worstY = Math.max(worstY, stepsApart(ort.get('y')!.toNumbers(), tflite.get('y')!.toNumbers(), Y.scale));
    }
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES returned activation: feat ${worstFeat} steps of 0.03, y ${worstY} steps of 0.01`);
    expect(worstFeat).toBeLessThanOrEqual(1.5 + 1e-6);
    expect(worstY).toBeLessThanOrEqual(2 + 1e-6);
  }, 60_000);

  it('full-integer=true io-type=int8 converts it with int8 outputs feat and y', async () => {
    const converted = decodeOnnx(encodeOnnx(returnedFeatureModel()));
    expect((await runPipeline(converted, 'legalize-tflite{io-type=int8 full-integer=true}')).statistics.get('float-ops-in-int8-model')).toBe(0);
    const path = join(DIR, 'returned-int8.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    expect(written.outputs.map((v) => [v.name, (v.type as TensorType).dtype])).toEqual([['feat', 'int8'], ['y', 'int8']]);
  }, 60_000);
});
