/**
 * quantize-static options a stranger tries: every calibration method, int8 and symmetric activations, per-tensor weights,
 * exclude by op type and by node name (each left float with its reason in --debug), an unknown
 * exclude name refused naming the option, the random-input fallback's warning, and a bad dataset
 * refused naming it. Each quantized variant is run in ONNX Runtime on the 10k test images.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { createOpRegistry } from '@modelpass/ops';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';
import { checkWithOnnx, fixturePath, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

describe('quantize-static options on fashion-cnn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-options-'));

  // Folded: the Relu after conv2 and fc1 (conv1 stays float by min-conv-reduction, its Relu with it).
  it.each([
    ['activations=int8 symmetric-activations=true', 0],
    ['per-channel=false', 2],
    ['calibration=percentile', 2],
    ['calibration=entropy', 2],
    ['calibration=distribution', 2],
  ])('%s runs in ORT within 0.3 pp', async (options, folded) => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    const statistics = await runPipeline(model, `simplify,quantize-static{dataset=fashion-mnist:train samples=128 ${options}}`);
    expect(statistics['quantize-static']!['activations-folded'] ?? 0).toBe(folded);
    const out = join(dir, `${options.replace(/[^a-z0-9]+/g, '-')}.onnx`);
    writeOnnx(model, out);
    checkWithOnnx(out);
    expect(Math.abs((await testAccuracy(fixturePath('fashion-cnn'))) - (await testAccuracy(out))) * 100).toBeLessThanOrEqual(0.3);
  });

  it('exclude=[Conv,/fc2/Gemm] leaves those float and says why in --debug', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    const debug: string[] = [];
    await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=64 exclude=[Conv,/fc2/Gemm]}', debug);
    for (const conv of model.graph.nodesOf('onnx.Conv')) expect(conv.input(1).constant?.dtype).toBe('float32');
    const fc2 = [...model.graph.nodes()].find((node) => node.name === '/fc2/Gemm')!;
    expect(fc2.input(1).constant?.dtype).toBe('float32');
    const fc1 = [...model.graph.nodes()].find((node) => node.name === '/fc1/Gemm')!;
    expect(fc1.input(1).producer?.op).toBe('onnx.DequantizeLinear');
    expect(debug).toContain("left Conv '/conv1/Conv' float: excluded by exclude=");
    expect(debug.some((line) => line.startsWith("left MaxPool '/MaxPool' float: its input does not come from a quantized op"))).toBe(true);
  });

  it('materialize=false keeps quant<> types (int8 weights, uint8 activations) and no DequantizeLinear', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    await runPipeline(model, 'quantize-static{dataset=fashion-mnist:train samples=32 materialize=false}');
    expect([...model.graph.nodesOf('onnx.DequantizeLinear')]).toHaveLength(0);
    const conv = [...model.graph.nodesOf('onnx.Conv')][0]!;
    const weight = conv.input(1).type;
    expect(weight.kind === 'tensor' && weight.dtype === 'int8' && weight.quant?.axis === 0).toBe(true);
    const output = conv.output(0).type;
    expect(output.kind === 'tensor' && output.dtype === 'uint8' && output.quant?.zeroPoint[0] === 0).toBe(true);
  });

  it('refuses activations=int16 below opset 21, naming the opset', async () => {
    const model = readFixture('fashion-cnn');
    await expect(runPipeline(model, 'quantize-static{dataset=fashion-mnist:train samples=8 activations=int16}')).rejects.toThrow('activations=int16 needs onnx opset 21');
  });

  it('percentile= sets the share of values calibration=percentile keeps (a lower share: no wider ranges, some narrower)', async () => {
    requireReferees();
    const scales = async (percentile: string) => {
      const report = join(dir, `percentile-${percentile}.json`);
      await runPipeline(readFixture('fashion-cnn'), `simplify,quantize-static{dataset=fashion-mnist:train samples=64 calibration=percentile percentile=${percentile} report=${report}}`);
      const tensors = (JSON.parse(readFileSync(report, 'utf8')) as { tensors: { kind: string; scale: number[] }[] }).tensors;
      return tensors.filter((t) => t.kind === 'activation').map((t) => t.scale[0]!);
    };
    const wide = await scales('99.999');
    const narrow = await scales('99.9');
    expect(narrow.length).toBe(wide.length);
    expect(narrow.length).toBeGreaterThan(0);
    narrow.forEach((scale, i) => expect(scale).toBeLessThanOrEqual(wide[i]!));
    expect(narrow.some((scale, i) => scale < wide[i]! * 0.95)).toBe(true);
  });

  it('refuses a model of another dialect (a .tflite read as is), saying to raise it first', async () => {
    const tflite = parseModel(`model ir_version=8 opsets{tflite=3} {
graph @main(%x: float32[1,4]) {
  %y: float32[1,4] = tflite.RELU(%x) name="relu"
  return %y
}
}`);
    await expect(runPipeline(tflite, 'quantize-static{samples=4}')).rejects.toThrow(/works on ONNX-dialect models[\s\S]*raise-tflite/);
  });

  it('refuses an exclude name that is neither a node nor an op type', async () => {
    const model = readFixture('fashion-cnn');
    await expect(runPipeline(model, 'quantize-static{dataset=fashion-mnist:train samples=8 exclude=[conv9]}')).rejects.toThrow("exclude= names 'conv9'");
  });

  it('warns when no dataset is given and refuses a bad dataset by name', async () => {
    const model = readFixture('fashion-cnn');
    const environment = new PassEnvironment({ ops: createOpRegistry() });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(quantizePasses, '@modelpass/quantize');
    const warnings: string[] = [];
    await new PassManager({ environment, onDiagnostic: (d) => void warnings.push(d.reason) }).run(model, 'quantize-static{samples=16}');
    expect(warnings.some((w) => w.includes('no calibration dataset given'))).toBe(true);
    const error = await runPipeline(readFixture('fashion-cnn'), 'quantize-static{dataset=fashion-mnist:valid samples=8}').catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect(String((error as Error).message)).toContain('fashion-mnist:valid');
  });
});
