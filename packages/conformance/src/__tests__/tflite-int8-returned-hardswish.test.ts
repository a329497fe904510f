/**
 * quantize-static's defaults keep a returned activation float (SSDlite's backbone: two feature maps that are
 * x · HardSigmoid(x) at opset 13, returned and quantized for the next Conv). legalize-tflite ran that HardSwish in float
 * between DEQUANTIZE and QUANTIZE; now it is a 256-code int8 table (CAST → GATHER) and the returned map a DEQUANTIZE of
 * its integers. Referee: ONNX Runtime on the QDQ model vs TFLite 2.9 on the .tflite, 8 seeded inputs. The table is
 * ORT's function of h's code exactly (legalize test float-island-tables.test.ts); what differs is h itself, the Conv
 * before it, whose requantization TFLite rounds one step off ORT's on some elements (RESULTS-int8.md s18), which the
 * HardSwish's slope (up to ~1.5 here, h's scale over the map's) carries into the map: measured 1.88 map steps (ORT
 * returns the float reals, so half a step of that is the output's own quantization), and 1.02 steps of conv4's input
 * scale on y (float: conv4's output is returned) — the same as the float HardSwish gave (SSDlite's backbone: its six
 * outputs bit-identical before and after, 2 seeds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform } from './int8-agreement.js';
import { quantOf, runPipeline } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-returned-hardswish-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const SHAPE = [1, 3, 8, 8];

/** x → Conv → Conv → x·HardSigmoid(x) = feat (returned) → depthwise Conv (stride 2) → Conv → y, as torchvision's opset-13 SSDlite spells it. */
function net(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const c1 = b.op1('onnx.Conv', [x, b.constant(seededUniform([8, 3, 3, 3], 1, -0.5, 1), 'w1'), b.constant(seededUniform([8], 2, -0.1, 0.2), 'b1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const c2 = b.op1('onnx.Conv', [c1, b.constant(seededUniform([8, 8, 1, 1], 3, -0.8, 1.6), 'w2'), b.constant(seededUniform([8], 4, -0.1, 0.2), 'b2')], {}, { name: 'conv2' });
  const gate = b.op1('onnx.HardSigmoid', [c2], { alpha: attrs.float(1 / 6) }, { name: 'gate' });
  const feat = b.op1('onnx.Mul', [c2, gate], {}, { name: 'hardswish', outputs: ['feat'] });
  const dw = b.op1('onnx.Conv', [feat, b.constant(seededUniform([8, 1, 3, 3], 5, -0.5, 1), 'w3'), b.constant(seededUniform([8], 6, -0.1, 0.2), 'b3')], { group: attrs.int(8), pads: attrs.ints([1, 1, 1, 1]), strides: attrs.ints([2, 2]) }, { name: 'dw' });
  const relu = b.op1('onnx.Relu', [dw], {}, { name: 'relu' });
  b.output(feat);
  b.output(b.op1('onnx.Conv', [relu, b.constant(seededUniform([4, 8, 1, 1], 7, -0.5, 1), 'w4'), b.constant(seededUniform([4], 8, -0.1, 0.2), 'b4')], {}, { name: 'conv4', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('int8 TFLite: a returned HardSwish quantize-static keeps float (SSDlite) as an int8 table (ORT vs TFLite 2.9)', () => {
  it('the HardSwish and the Convs before the last one int8; y within 1.5 steps of ORT, the returned map within 2 steps, on 8 seeded inputs', async () => {
    const model = net();
    await runPipeline(model, 'quantize-static{samples=16 min-conv-reduction=0}');
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    // One float op: the last Conv, whose output is returned (quantize-static keeps it float for ORT's fusion).
    expect((await runPipeline(converted, 'legalize-tflite')).statistics.get('float-ops-in-int8-model')).toBe(1);
    const path = join(DIR, 'returned.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    const ops = written.nodeList().map((node) => `${node.op.slice(7)}(${(node.outputs[0]!.type as TensorType).dtype})`);
    expect(ops).toContain('GATHER(int8)');
    // The float ops left: the input's QUANTIZE, the two outputs' DEQUANTIZE and the last Conv (its output is returned: ORT's QDQ keeps it float).
    expect(ops.filter((op) => op.includes('float32')).sort()).toEqual(['CONV_2D(float32)', 'DEQUANTIZE(float32)', 'DEQUANTIZE(float32)', 'TRANSPOSE(float32)']);
    const [feat, y] = written.outputs;
    const featScale = quantOf(feat!.producer!.input(0))!.scale[0]!;
    const yScale = quantOf(written.nodeList().find((node) => node.op === 'tflite.DEQUANTIZE' && node.outputs[0] !== feat)!.input(0))!.scale[0]!;
    const engine = new TfliteEngine();
    const worst = { feat: 0, y: 0 };
    for (let seed = 1; seed <= 8; seed++) {
      const x = seededUniform(SHAPE, 300 + seed, -2, 4);
      const ort = await runOrt(qdq, { x });
      const tflite = await engine.run(path, { x });
      for (const [name, scale] of [['feat', featScale], ['y', yScale]] as const) {
        const a = ort.get(name)!.toNumbers();
        const b = tflite.get(name === 'feat' ? feat!.name : y!.name)!.toNumbers();
        expect(b).toHaveLength(a.length);
        a.forEach((v, i) => (worst[name] = Math.max(worst[name], Math.abs(v - b[i]!) / scale)));
      }
    }
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES returned HardSwish: feat ${worst.feat.toFixed(3)} steps, y ${worst.y.toFixed(3)} steps (of the conv4 input's scale)`);
    expect(worst.feat).toBeLessThanOrEqual(2);
    expect(worst.y).toBeLessThanOrEqual(1.5);
  }, 120_000);
});
