/**
 * raise-tflite of MediaPipe's custom op `Convolution2DTransposeBias` (selfie/hair segmentation): its
 * kernel is TFLite's reference TransposeConv plus a bias, its custom options TfLiteTransposeConvParams
 * (int32 padding 1 SAME / 2 VALID, int32 stride_width, int32 stride_height). TFLite 2.9 has no kernel
 * for the custom op, so the referee is the same graph written with TFLite's own TRANSPOSE_CONV (bias
 * input, the same padding and strides) run by the TFLite runtime; the raised custom graph run by ONNX
 * Runtime must give its outputs. Strides differ along H and W and the kernel is not square, so a
 * swapped stride, kernel axis or padding side shows. Any other custom op is refused by name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType, type Attribute, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';

afterAll(() => disposeSharedOrtRunner());

function ramp(shape: number[], scale: number, offset = 0): Tensor {
  const size = shape.reduce((n, d) => n * d, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: size }, (_, i) => Math.fround(Math.sin(i * 1.3 + offset) * scale)));
}

function customOptions(padding: number, strideW: number, strideH: number, bytes = 12): Tensor {
  const view = new DataView(new ArrayBuffer(12));
  view.setInt32(0, padding, true);
  view.setInt32(4, strideW, true);
  view.setInt32(8, strideH, true);
  return Tensor.fromBytes('uint8', [bytes], new Uint8Array(view.buffer).slice(0, bytes));
}

interface Case {
  name: string;
  same: boolean;
  strides: [number, number]; // [h, w]
  output: [number, number]; // [H, W]
}

// x [1,3,4,2]; filter OHWI [3, kH 3, kW 2, 2]; outputs sized as MediaPipe's converter sizes them
// (SAME: in·stride; VALID: (in − 1)·stride + k).
const CASES: Case[] = [
  { name: 'same_h2_w1', same: true, strides: [2, 1], output: [6, 4] },
  { name: 'same_h1_w2', same: true, strides: [1, 2], output: [3, 8] },
  { name: 'valid_h2_w1', same: false, strides: [2, 1], output: [7, 5] },
];

function graphOf(spelling: 'custom' | 'builtin', customCode = 'Convolution2DTransposeBias', options?: Tensor): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [1, 3, 4, 2]));
  const filter = graph.addConstant('filter', ramp([3, 3, 2, 2], 0.5));
  const bias = graph.addConstant('bias', Tensor.fromValues('float32', [3], [0.25, -0.5, 1]));
  const outputs: Value[] = [];
  for (const c of CASES) {
    const type = tensorType('float32', [1, ...c.output, 3]);
    const node = spelling === 'custom'
      ? graph.createNode({
          op: 'tflite.CUSTOM',
          name: c.name,
          inputs: [x, filter, bias],
          outputs: [{ name: c.name, type }],
          attributes: { custom_code: attrs.string(customCode), custom_options: attrs.tensor(options ?? customOptions(c.same ? 1 : 2, c.strides[1], c.strides[0])) },
        })
      : graph.createNode({
          op: 'tflite.TRANSPOSE_CONV',
          name: c.name,
          inputs: [graph.addConstant(`${c.name}_shape`, Tensor.fromValues('int32', [4], [1, ...c.output, 3])), filter, x, bias],
          outputs: [{ name: c.name, type }],
          attributes: { padding: attrs.string(c.same ? 'SAME' : 'VALID'), stride_h: attrs.int(c.strides[0]), stride_w: attrs.int(c.strides[1]) } satisfies Record<string, Attribute>,
        });
    outputs.push(node.output(0));
  }
  graph.setOutputs(outputs);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

describe("raise-tflite: MediaPipe's Convolution2DTransposeBias", () => {
  it('the raised custom op gives ORT what the TFLite runtime computes for TRANSPOSE_CONV with the same settings', async () => {
    const x = ramp([1, 3, 4, 2], 2, 0.3);
    const onTflite = await new TfliteEngine().run(graphOf('builtin'), { x });
    const custom = graphOf('custom');
    raiseFromTflite(custom, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    const ops = custom.graph.nodeList().map((n) => n.op);
    expect(ops.filter((op) => op.startsWith('tflite.'))).toEqual([]);
    expect(ops.filter((op) => op === 'onnx.ConvTranspose')).toHaveLength(CASES.length);
    const onOrt = await runOrt(custom, { x });
    for (const c of CASES) {
      const expected = onTflite.get(c.name)!;
      const actual = onOrt.get(c.name)!;
      expect(actual.shape, c.name).toEqual(expected.shape);
      const e = expected.toNumbers();
      const g = actual.toNumbers();
      for (let i = 0; i < e.length; i++) expect(Math.abs(g[i]! - e[i]!), `${c.name}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e[i]!)));
      expect(new Set(e.map((v) => v.toFixed(4))).size, c.name).toBeGreaterThan(20);
    }
  }, 60_000);

  it('refuses another custom op, and MediaPipe options it cannot read, by node and name, before changing anything', () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const refusal = (model: Model): string => {
      try {
        raiseFromTflite(model, registry, { opset: 13 });
      } catch (error) {
        expect(ModelpassError.is(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    const other = graphOf('custom', 'MaxPoolingWithArgmax2D');
    expect(refusal(other)).toMatch(/same_h2_w1.*TFLite custom op 'MaxPoolingWithArgmax2D' has no ONNX equivalent here/);
    expect(other.graph.nodeList().every((node) => node.op === 'tflite.CUSTOM')).toBe(true);
    expect(refusal(graphOf('custom', undefined, customOptions(1, 2, 2, 8)))).toMatch(/MediaPipe custom op 'Convolution2DTransposeBias': its options hold 8 bytes/);
    expect(refusal(graphOf('custom', undefined, customOptions(7, 2, 2)))).toMatch(/its padding 7 is neither 1 \(SAME\) nor 2 \(VALID\)/);
  });
});
