/**
 * float16 ONNX models (`convert-float16`) to TFLite's own float16 form (QA finding s5 #7): float16
 * weight buffers behind DEQUANTIZE, computed in float32, the boundary Casts gone. Referees: the TFLite
 * 2.9 runtime against ONNX Runtime on (a) the float16 ONNX model — which also rounds activations to
 * float16, so they differ by float16 rounding: logits within 0.05 absolute + 1% relative, same top-1 —
 * and (b) the float32 model with its weights rounded to float16, which is what the .tflite computes:
 * within 1e-4. The file is about half the float32 .tflite.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { afterAll } from 'vitest';
import { seededTensor } from './tflite-legalize-harness.js';
import { PROJECT_MODELS_DIR } from '../real-models.js';

afterAll(() => disposeSharedOrtRunner());

async function run(model: Model, pipeline: string): Promise<{ statistics: Map<string, number>; notes: string[] }> {
  const statistics = new StatisticsInstrumentation();
  const result = await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  return { statistics: new Map(statistics.get('legalize-tflite') ?? []), notes: result.diagnostics.map((d) => d.reason) };
}

/** The float32 model with every float32 initializer rounded to float16 values (what the float16 .tflite computes with). */
function withFloat16Weights(model: Model): Model {
  for (const constant of model.graph.constants) {
    const tensor = constant.constant;
    if (tensor?.dtype !== 'float32') continue;
    const halves = Tensor.fromValues('float16', tensor.shape, tensor.toNumbers()).toNumbers();
    model.graph.markConstant(constant, Tensor.fromValues('float32', tensor.shape, halves));
  }
  return model;
}

const first = (outputs: Map<string, Tensor>): number[] => [...outputs.values()][0]!.toNumbers();
const argmaxRows = (values: number[], width: number): number[] =>
  Array.from({ length: values.length / width }, (_, r) => {
    const row = values.slice(r * width, (r + 1) * width);
    return row.indexOf(Math.max(...row));
  });

describe('float16 ONNX → TFLite float16 form (float16 weights + DEQUANTIZE, float32 compute)', () => {
  for (const id of ['fashion-cnn', 'fashion-resnet', 'fashion-transformer']) {
    it(`${id}: keep-io=true, runs in TFLite 2.9 as ORT runs the float16 model, file about half`, async () => {
      const path = `${PROJECT_MODELS_DIR}/${id}/model.onnx`;
      const half = readOnnx(path);
      await run(half, 'convert-float16{keep-io=true}');
      const converted = decodeOnnx(encodeOnnx(half));
      const { statistics, notes } = await run(converted, 'legalize-tflite');
      expect(statistics.get('float16-weights')).toBeGreaterThan(0);
      expect(notes.some((note) => note.includes('float16 graph inputs/outputs'))).toBe(false);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops).not.toContain('tflite.CAST');
      const dequantized = converted.graph.nodeList().filter((node) => node.op === 'tflite.DEQUANTIZE');
      expect(dequantized.length).toBe(statistics.get('float16-weights'));
      for (const node of dequantized) expect((node.inputs[0]!.type as TensorType).dtype).toBe('float16');
      for (const value of [...converted.graph.inputs, ...converted.graph.outputs]) expect((value.type as TensorType).dtype).toBe('float32');

      const float32 = readOnnx(path);
      const float32Tflite = decodeOnnx(encodeOnnx(float32));
      await run(float32Tflite, 'legalize-tflite');
      const bytes = encodeTflite(converted);
      const ratio = bytes.length / encodeTflite(float32Tflite).length;
      if (process.env.TFLITE_FIGURES) console.log(`FIGURES ${id} float16 .tflite / float32 .tflite: ${ratio.toFixed(3)}`);
      expect(ratio).toBeLessThan(0.62);

      const input = half.graph.inputs[0]!;
      const shape = [8, ...(input.type as TensorType).shape!.slice(1).map((d) => d as number)];
      const x = seededTensor(shape, 11, 0, 1);
      const tflite = first(await new TfliteEngine().run(bytes, { [converted.graph.inputs[0]!.name]: x }));
      const ortHalf = first(await runOrt(half, { [input.name]: x }));
      const ortRounded = first(await runOrt(withFloat16Weights(readOnnx(path)), { [input.name]: x }));
      const worstHalf = Math.max(...tflite.map((v, i) => Math.abs(v - ortHalf[i]!) - 0.01 * Math.abs(ortHalf[i]!)));
      const worstRounded = Math.max(...tflite.map((v, i) => Math.abs(v - ortRounded[i]!)));
      if (process.env.TFLITE_FIGURES) console.log(`FIGURES ${id}: |tflite - ort float16| - 1%: ${worstHalf}; |tflite - ort float32 with float16 weights|: ${worstRounded}`);
      expect(worstHalf).toBeLessThanOrEqual(0.05);
      expect(worstRounded).toBeLessThanOrEqual(1e-4);
      expect(argmaxRows(tflite, 10)).toEqual(argmaxRows(ortHalf, 10));
    }, 60_000);
  }

  it('fashion-cnn, keep-io=false: float16 graph inputs/outputs become float32, with a note naming them', async () => {
    const half = readOnnx(`${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`);
    await run(half, 'convert-float16{keep-io=false}');
    expect((half.graph.inputs[0]!.type as TensorType).dtype).toBe('float16');
    const converted = decodeOnnx(encodeOnnx(half));
    const { notes } = await run(converted, 'legalize-tflite');
    expect(notes.find((note) => note.includes('float16 graph inputs/outputs'))).toMatch(/'input', 'logits' are float32 in the TFLite model/);
    expect((converted.graph.inputs[0]!.type as TensorType).dtype).toBe('float32');
    const x = seededTensor([2, 1, 28, 28], 3, 0, 1);
    const tflite = first(await new TfliteEngine().run(encodeTflite(converted), { input: x }));
    const ortRounded = first(await runOrt(withFloat16Weights(readOnnx(`${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`)), { input: x }));
    expect(Math.max(...tflite.map((v, i) => Math.abs(v - ortRounded[i]!)))).toBeLessThanOrEqual(1e-4);
  }, 60_000);
});
