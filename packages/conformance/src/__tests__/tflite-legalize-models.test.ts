/**
 * legalize-tflite on the project's Fashion-MNIST models and raise-tflite on MediaPipe's models, each
 * judged by the other runtime: ONNX → TFLite must run in the TFLite runtime (TFLite 2.9) within 1e-4
 * of ONNX Runtime on the original, with no Transpose inside the graph of a conv net (and none at all
 * with io-layout=nhwc); TFLite → ONNX must run in ONNX Runtime within 1e-4 (relative to the output's
 * magnitude) of the TFLite runtime on the original file. What cannot map is reported per node, all at
 * once, before anything changes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, printModel, sliceAlongAxis, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager } from '@modelpass/pass-manager';
import { disposeSharedOrtRunner, loadTestDataSet, runOrt, TfliteEngine } from '@modelpass/runtime';
import { countTransposes, encodeTflite, readTflite, raiseTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { PROJECT_MODELS_DIR } from '../real-models.js';
import { compareInRuntimes, legalize, seededTensor, tfliteEnvironment } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const FASHION = [
  { id: 'fashion-cnn', convNet: true },
  { id: 'fashion-mlp', convNet: false },
  { id: 'fashion-transformer', convNet: false },
  { id: 'fashion-transformer-opset17', convNet: false },
];

describe('legalize-tflite on the Fashion-MNIST models: TFLite runtime within 1e-4 of ORT on the stored test images', () => {
  for (const { id, convNet } of FASHION) {
    for (const ioLayout of ['nchw', 'nhwc'] as const) {
      it(`${id} io-layout=${ioLayout}`, async () => {
        const path = `${PROJECT_MODELS_DIR}/${id}/model.onnx`;
        const original = readOnnx(path);
        const converted = readOnnx(path);
        const transposesBefore = countTransposes(original.graph).inner;
        const statistics = await legalize(converted, `io-layout=${ioLayout}`);
        expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'))).toEqual([]);
        const { inputs } = loadTestDataSet(`${PROJECT_MODELS_DIR}/${id}/test_data_set_0`, original);
        const input = original.graph.inputs[0]!;
        const images = inputs.get(input.name)!;
        const nhwc = ioLayout === 'nhwc' && images.rank === 4;
        // The 8 stored test images one by one (the converted model's batch dim is 1 in the TFLite runtime).
        for (let image = 0; image < images.shape[0]!; image++) {
          const one = sliceAlongAxis(images, 0, image, image + 1);
          const differences = await compareInRuntimes(original, converted, { [input.name]: one }, new Set(nhwc ? [input.name] : []));
          for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
        }
        const after = countTransposes(converted.graph);
        expect(statistics.get('transposes-inside')).toBe(after.inner);
        // Layout conversion adds no transpose: a conv net keeps none inside; a transformer keeps only its own attention transposes.
        if (convNet) expect(after).toEqual({ inner: 0, boundary: 0 });
        else expect(after.inner).toBeLessThanOrEqual(transposesBefore);
      });
    }
  }
});

describe('legalize-tflite reports every node it cannot map, before changing anything', () => {
  it('lists each unmappable node with its location and reason, and leaves the model as it was', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
    const w = b.input('w', tensorType('float32', [4, 3, 3, 3]));
    const conv = b.op1('onnx.Conv', [x, w], {}, { name: 'conv_with_runtime_weights' });
    const y = b.op1('onnx.Einsum', [conv], { equation: attrs.string('...hh->...h') }, { name: 'einsum' });
    const matrices = b.input('matrices', tensorType('float32', [2, 5, 5]));
    const det = b.op1('onnx.Det', [matrices], {}, { name: 'det_5x5' });
    b.output(y, det);
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    const before = printModel(model);
    const error = await legalize(model, 'optimize=false').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error)).toBe(true);
    const text = (error as Error).message;
    expect(text).toMatch(/3 node\(s\) cannot be converted to TFLite/);
    expect(text).toMatch(/conv_with_runtime_weights.*weights must be a constant/);
    expect(text).toMatch(/det_5x5.*5×5 matrices is not written out/);
    expect(text).toMatch(/einsum.*Einsum with a letter repeated in one operand \(a diagonal\) is not supported/);
    expect(printModel(model)).toBe(before);
  });
});

const mediapipe = await ensureThirdPartyModels({ format: 'tflite' });
const engine = new TfliteEngine();

async function raise(model: Model, options = ''): Promise<void> {
  const environment = tfliteEnvironment();
  environment.passes.register([raiseTflite], '@modelpass/tflite/raise');
  await new PassManager({ environment }).run(model, `raise-tflite${options ? `{${options}}` : ''}`);
}

/**
 * The referee for MediaPipe's custom `Convolution2DTransposeBias` (which TFLite 2.9 has no kernel for):
 * the same file with that op written as TFLite's own TRANSPOSE_CONV with a bias input — MediaPipe's
 * kernel is TFLite's reference TransposeConv plus the bias, its options (padding, stride_w, stride_h)
 * the TransposeConv parameters — and its output kept as a graph output, before the final sigmoid.
 */
function withBuiltinTransposeConv(path: string): { file: Uint8Array; watched: string } {
  const model = readTflite(path);
  const graph = model.graph;
  const custom = graph.nodeList().find((node) => node.op === 'tflite.CUSTOM')!;
  const options = new DataView(Uint8Array.from(custom.attr('custom_options', 'tensor').toNumbers().map(Number)).buffer);
  const output = custom.output(0);
  const outputShape = graph.addConstant(graph.uniqueName('output_shape'), Tensor.fromValues('int32', [4], (output.type as { shape: number[] }).shape));
  const builtin = graph.createNode({
    op: 'tflite.TRANSPOSE_CONV',
    name: `${custom.name}_builtin`,
    inputs: [outputShape, custom.input(1), custom.input(0), custom.input(2)],
    outputs: [{ name: `${output.name}_builtin`, type: output.type }],
    attributes: {
      padding: attrs.string(options.getInt32(0, true) === 1 ? 'SAME' : 'VALID'),
      stride_w: attrs.int(options.getInt32(4, true)),
      stride_h: attrs.int(options.getInt32(8, true)),
      fused_activation_function: attrs.string('NONE'),
    },
  });
  builtin.moveBefore(custom);
  output.replaceAllUsesWith(builtin.output(0));
  custom.erase();
  graph.addOutput(builtin.output(0));
  return { file: encodeTflite(model), watched: builtin.output(0).name };
}

describe('raise-tflite on MediaPipe models: ORT within 1e-4 of the TFLite runtime on the original file', () => {
  for (const entry of mediapipe) {
    const custom = entry.id.includes('selfie');
    it(`${entry.id}${custom ? " (MediaPipe's custom Convolution2DTransposeBias, judged against TFLite's TRANSPOSE_CONV)" : ''}`, async () => {
      const model = readTflite(entry.path);
      await raise(model);
      if (custom) {
        expect(model.graph.nodeList().filter((node) => !node.op.startsWith('onnx.'))).toEqual([]);
        const referee = withBuiltinTransposeConv(entry.path);
        const input = model.graph.inputs[0]!;
        const x = seededTensor((input.type as { shape: number[] }).shape, 5, 0, 1);
        const expected = await engine.run(referee.file, { [input.name]: x });
        // The transposed convolution's own result (the mask's logits: one channel, so NCHW and NHWC hold it in the same order) and the mask.
        const transposed = model.graph.nodeList().filter((node) => node.op === 'onnx.ConvTranspose');
        expect(transposed).toHaveLength(1);
        expect((transposed[0]!.output(0).type as { shape: number[] }).shape[1]).toBe(1);
        model.graph.addOutput(transposed[0]!.output(0));
        const actual = await runOrt(model, { [input.name]: x });
        const pairs: Array<[number[], number[]]> = [
          [expected.get(referee.watched)!.toNumbers(), actual.get(transposed[0]!.output(0).name)!.toNumbers()],
          [expected.get(model.graph.outputs[0]!.name)!.toNumbers(), actual.get(model.graph.outputs[0]!.name)!.toNumbers()],
        ];
        for (const [want, got] of pairs) {
          expect(got.length).toBe(want.length);
          const scale = Math.max(1, ...want.map(Math.abs));
          expect(Math.max(...want.map((v, i) => Math.abs(v - got[i]!)))).toBeLessThanOrEqual(1e-4 * scale);
        }
        // the logits are not flat: the comparison sees the weights, the bias and the padding
        expect(new Set(pairs[0]![0].map((v) => v.toFixed(2))).size).toBeGreaterThan(100);
        return;
      }
      expect(model.graph.nodeList().filter((node) => !node.op.startsWith('onnx.'))).toEqual([]);
      const input = model.graph.inputs[0]!;
      const shape = (input.type as { shape: number[] }).shape;
      const x = seededTensor(shape, 5, 0, 1);
      const expected = [...(await engine.run(entry.path, { [input.name]: x })).values()];
      const actual = await runOrt(model, { [input.name]: x });
      model.graph.outputs.forEach((output, index) => {
        const want = expected[index]!.toNumbers();
        const got = actual.get(output.name)!.toNumbers();
        const scale = Math.max(1, ...want.map(Math.abs));
        const worst = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
        expect(worst).toBeLessThanOrEqual(1e-4 * scale);
      });
      const transposes = countTransposes(model.graph);
      console.log(`${entry.id}: transposes inside ${transposes.inner}, at the edges ${transposes.boundary}`);
      // One transpose at the NHWC input; inside, only those before the heads' RESHAPEs (TFLite reshapes NHWC memory).
      expect(transposes.inner).toBeLessThanOrEqual(model.graph.nodeList().filter((node) => node.op === 'onnx.Reshape').length);
    });
  }
});
