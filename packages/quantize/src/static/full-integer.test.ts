/**
 * quantize-static's quantize-outputs and full-integer options on a small conv net whose graph outputs are a
 * Gemm's logits and the Softmax of them: by default the 1-channel stem Conv stays float (min-conv-reduction) and
 * both outputs are float (QGemm with a float output, Softmax kept float at the output); quantize-outputs=true
 * quantizes the outputs (Q → DQ before each, names kept); full-integer=true also quantizes the stem, so every
 * compute node reads and writes integers. ONNX Runtime runs the result, and its outputs lie on the outputs'
 * quantization grids. A node without an integer rule is named in full-integer's warning.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { afterAll } from 'vitest';
import { randomTensor, runPipeline } from '../__tests__/weights-helpers.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

function convNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 1, 6, 6]));
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([4, 1, 3, 3], 3), 'stem_w'), b.constant(randomTensor([4], 4, 0.1), 'stem_b')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'stem', outputs: ['stem_out'] });
  const relu = b.op1('onnx.Relu', [conv], {}, { name: 'relu', outputs: ['relu_out'] });
  const pool = b.op1('onnx.MaxPool', [relu], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: 'pool', outputs: ['pool_out'] });
  const flat = b.op1('onnx.Flatten', [pool], { axis: attrs.int(1) }, { name: 'flatten', outputs: ['flat'] });
  const logits = b.op1('onnx.Gemm', [flat, b.constant(randomTensor([5, 36], 5, 0.3), 'fc_w'), b.constant(randomTensor([5], 6, 0.1), 'fc_b')], { transB: attrs.int(1) }, { name: 'fc', outputs: ['logits'] });
  const probs = b.op1('onnx.Softmax', [logits], { axis: attrs.int(1) }, { name: 'softmax', outputs: ['probs'] });
  b.output(logits);
  b.output(probs);
  return b.model({ onnx: 13 });
}

const COMPUTE = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Add', 'onnx.Softmax', 'onnx.MaxPool', 'onnx.Flatten', 'onnx.Relu'];

/** Compute nodes reading a float value no DequantizeLinear produced, or writing one no QuantizeLinear reads. */
function floatEdges(model: Model): string[] {
  const found: string[] = [];
  for (const node of model.graph.nodes()) {
    if (!COMPUTE.includes(node.op)) continue;
    const input = node.inputs[0]!;
    if (input.producer?.op !== 'onnx.DequantizeLinear') found.push(`${node.name} reads float '${input.name}'`);
    const readers = [...node.output(0).uses].map((use) => use.node?.op);
    if (node.output(0).isGraphOutput || !readers.every((op) => op === 'onnx.QuantizeLinear')) found.push(`${node.name} writes float '${node.output(0).name}'`);
  }
  return found;
}

/** The scale and zero point of the DequantizeLinear that produces `value`. */
function gridOf(value: Value): { scale: number; zeroPoint: number } {
  const dq = value.producer!;
  return { scale: dq.input(1).constant!.toNumbers()[0]!, zeroPoint: dq.inputs[2]!.constant!.toNumbers()[0]! };
}

describe('quantize-static quantize-outputs / full-integer', () => {
  it('by default leaves the stem Conv and both outputs float', async () => {
    const model = convNet();
    const debug: string[] = [];
    await runPipeline(model, 'quantize-static{samples=8}', debug);
    expect(debug).toContainEqual(expect.stringMatching(/left Conv 'stem' float: its reduction is 9 multiply-adds/));
    expect(debug).toContainEqual("quantized Gemm 'fc' (ORT: QGemm (float output))");
    expect(model.graph.outputs.map((v) => v.producer!.op)).toEqual(['onnx.Gemm', 'onnx.Softmax']);
  }, 60_000);

  it('quantize-outputs=true quantizes the outputs (Q → DQ before each, names and float32 kept); the stem stays float', async () => {
    const model = convNet();
    const debug: string[] = [];
    await runPipeline(model, 'quantize-static{samples=8 quantize-outputs=true}', debug);
    expect(debug).toContainEqual("quantized Gemm 'fc' (ORT: QGemm)");
    expect(debug).toContainEqual("quantized Softmax 'softmax' (ORT: QLinearSoftmax)");
    expect(debug).toContainEqual(expect.stringMatching(/left Conv 'stem' float/));
    expect(model.graph.outputs.map((v) => v.name)).toEqual(['logits', 'probs']);
    expect(model.graph.outputs.map((v) => v.producer!.op)).toEqual(['onnx.DequantizeLinear', 'onnx.DequantizeLinear']);
    expect(model.graph.outputs.map((v) => (v.type.kind === 'tensor' ? v.type.dtype : v.type.kind))).toEqual(['float32', 'float32']);
    expect(model.graph.outputs.map((v) => v.producer!.input(0).producer!.op)).toEqual(['onnx.QuantizeLinear', 'onnx.QuantizeLinear']);
  }, 60_000);

  it('full-integer=true: every compute node between Q/DQ, ORT runs it, the outputs on their grids', async () => {
    const model = convNet();
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-static{samples=8 full-integer=true}', debug);
    expect(debug).toContainEqual("quantized Conv 'stem' (ORT: QLinearConv)");
    expect(run.warnings.join('\n')).not.toMatch(/full-integer/);
    expect(floatEdges(model)).toEqual([]);
    const outputs = await runOrt(encodeOnnx(model), { x: randomTensor([1, 1, 6, 6], 11) });
    for (const value of model.graph.outputs) {
      const { scale, zeroPoint } = gridOf(value);
      const reals = outputs.get(value.name)!.toNumbers();
      expect(new Set(reals).size, value.name).toBeGreaterThan(1);
      for (const real of reals) expect(Math.abs(real / scale - Math.round(real / scale)), `${value.name} ${real} on the grid of ${scale}`).toBeLessThan(1e-3);
      expect(zeroPoint).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('full-integer=true quantizes an Add with a constant operand (a bias after a MatMul), which quantize-outputs alone leaves float', async () => {
    const biasNet = () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', [2, 3, 8]));
      const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 4], 12), 'w')], {}, { name: 'mm', outputs: ['h'] });
      b.output(b.op1('onnx.Add', [h, b.constant(randomTensor([4], 13, 0.5), 'bias')], {}, { name: 'bias_add', outputs: ['y'] }));
      return b.model({ onnx: 13 });
    };
    const debug: string[] = [];
    await runPipeline(biasNet(), 'quantize-static{samples=8 quantize-outputs=true}', debug);
    expect(debug).toContainEqual("left Add 'bias_add' float: input #1 is a constant (only activations are quantized here; full-integer=true quantizes it)");
    const model = biasNet();
    const full: string[] = [];
    await runPipeline(model, 'quantize-static{samples=8 full-integer=true}', full);
    expect(full).toContainEqual("quantized MatMul 'mm' (ORT: QLinearMatMul)");
    expect(full).toContainEqual("quantized Add 'bias_add' (ORT: QLinearAdd)");
    const add = [...model.graph.nodes()].find((node) => node.name === 'bias_add')!;
    const bias = add.inputs.find((input) => input!.producer?.input(0).isConstant)!;
    expect(bias.producer!.op).toBe('onnx.DequantizeLinear');
    expect(bias.producer!.input(0).constant!.dtype).toBe('uint8');
    expect(floatEdges(model)).toEqual([]);
    const x = randomTensor([2, 3, 8], 14);
    const [quantized, reference] = [await runOrt(encodeOnnx(model), { x }), await runOrt(encodeOnnx(biasNet()), { x })];
    const { scale } = gridOf(model.graph.outputs[0]!);
    const got = quantized.get('y')!.toNumbers();
    const want = reference.get('y')!.toNumbers();
    // Random calibration of a random net: within a few output steps of the float model.
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `y[${i}]`).toBeLessThan(4 * scale);
  }, 60_000);

  it("full-integer=true quantizes a Concat with a constant operand (a ViT's class token before the patch tokens)", async () => {
    const tokenNet = () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', [1, 4, 8]));
      const patches = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 21), 'w')], {}, { name: 'embed', outputs: ['patches'] });
      const tokens = b.op1('onnx.Concat', [b.constant(randomTensor([1, 1, 8], 22, 0.5), 'cls'), patches], { axis: attrs.int(1) }, { name: 'cls_concat', outputs: ['tokens'] });
      b.output(b.op1('onnx.Add', [tokens, b.constant(randomTensor([1, 5, 8], 23, 0.5), 'pos')], {}, { name: 'pos_add', outputs: ['y'] }));
      return b.model({ onnx: 13 });
    };
    const model = tokenNet();
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-static{samples=8 full-integer=true}', debug);
    expect(debug).toContainEqual("quantized Concat 'cls_concat' (ORT: QLinearConcat)");
    expect(debug).toContainEqual("quantized Add 'pos_add' (ORT: QLinearAdd)");
    expect(run.warnings.join('\n')).not.toMatch(/full-integer/);
    const concat = [...model.graph.nodes()].find((node) => node.name === 'cls_concat')!;
    expect(concat.inputs.map((input) => input!.producer?.op)).toEqual(['onnx.DequantizeLinear', 'onnx.DequantizeLinear']);
    expect(concat.inputs[0]!.producer!.input(0).constant!.dtype).toBe('uint8');
    expect([...concat.output(0).uses].map((use) => use.node?.op)).toEqual(['onnx.QuantizeLinear']);
    const x = randomTensor([1, 4, 8], 24);
    const [quantized, reference] = [await runOrt(encodeOnnx(model), { x }), await runOrt(encodeOnnx(tokenNet()), { x })];
    const { scale } = gridOf(model.graph.outputs[0]!);
    const got = quantized.get('y')!.toNumbers();
    const want = reference.get('y')!.toNumbers();
    // The class token's row (the first 8 values) comes from the constant alone: within a step or two of it.
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `y[${i}]`).toBeLessThan(4 * scale);
  }, 60_000);

  it("full-integer=true quantizes an embedding table's Gather and a pooler's Tanh (TANH's fixed int8 parameters)", async () => {
    const textNet = () => {
      const b = new GraphBuilder();
      const ids = b.input('ids', tensorType('int64', [2, 5]));
      const embedded = b.op1('onnx.Gather', [b.constant(randomTensor([16, 8], 31), 'table'), ids], {}, { name: 'embed', outputs: ['embedded'] });
      const h = b.op1('onnx.MatMul', [embedded, b.constant(randomTensor([8, 6], 32), 'w')], {}, { name: 'dense', outputs: ['h'] });
      b.output(b.op1('onnx.Tanh', [h], {}, { name: 'pool_tanh', outputs: ['y'] }));
      return b.model({ onnx: 13 });
    };
    const model = textNet();
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-static{samples=8 full-integer=true}', debug);
    expect(debug).toContainEqual(expect.stringMatching(/^quantized Gather 'embed'/));
    expect(debug).toContainEqual(expect.stringMatching(/^quantized Tanh 'pool_tanh'/));
    expect(run.warnings.join('\n')).not.toMatch(/full-integer/);
    const gather = [...model.graph.nodes()].find((node) => node.name === 'embed')!;
    expect(gather.inputs[0]!.producer!.op).toBe('onnx.DequantizeLinear');
    expect(gather.inputs[0]!.producer!.input(0).constant!.dtype).toBe('uint8');
    // TFLite's int8 TANH writes scale 1/128, zero point 0: uint8 zero point 128 here.
    expect(gridOf(model.graph.outputs[0]!)).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    const ids = Tensor.fromValues('int64', [2, 5], [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]);
    const [quantized, reference] = [await runOrt(encodeOnnx(model), { ids }), await runOrt(encodeOnnx(textNet()), { ids })];
    const got = quantized.get('y')!.toNumbers();
    const want = reference.get('y')!.toNumbers();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `y[${i}]`).toBeLessThan(4 / 128);
  }, 60_000);

  it("full-integer=true quantizes an Expand of a constant to a run-time shape (a dynamic-batch ViT's class token)", async () => {
    const expandNet = () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', ['N', 4, 8]));
      const patches = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 41), 'w')], {}, { name: 'embed', outputs: ['patches'] });
      const batch = b.op1('onnx.Shape', [x], { start: attrs.int(0), end: attrs.int(1) }, { name: 'batch' });
      const shape = b.op1('onnx.Concat', [batch, b.constant(Tensor.fromValues('int64', [2], [1n, 8n]))], { axis: attrs.int(0) }, { name: 'cls_shape' });
      const token = b.op1('onnx.Expand', [b.constant(randomTensor([1, 1, 8], 42, 0.5), 'cls'), shape], {}, { name: 'cls_expand', outputs: ['token'] });
      b.output(b.op1('onnx.Concat', [token, patches], { axis: attrs.int(1) }, { name: 'cls_concat', outputs: ['y'] }));
      return b.model({ onnx: 15 });
    };
    const model = expandNet();
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-static{samples=8 full-integer=true}', debug);
    expect(debug).toContainEqual(expect.stringMatching(/^quantized Expand 'cls_expand'/));
    expect(run.warnings.join('\n')).not.toMatch(/full-integer/);
    const expand = [...model.graph.nodes()].find((node) => node.name === 'cls_expand')!;
    const dequantize = expand.inputs[0]!.producer!;
    expect(dequantize.op).toBe('onnx.DequantizeLinear');
    expect(dequantize.input(0).constant!.dtype).toBe('uint8');
    // The copies keep the token's parameters: the QuantizeLinear after the Expand has the DequantizeLinear's.
    const requantize = [...expand.output(0).uses][0]!.node!;
    expect(requantize.op).toBe('onnx.QuantizeLinear');
    expect(requantize.input(1).constant!.toNumbers()).toEqual(dequantize.input(1).constant!.toNumbers());
    const x = randomTensor([2, 4, 8], 43);
    const [quantized, reference] = [await runOrt(encodeOnnx(model), { x }), await runOrt(encodeOnnx(expandNet()), { x })];
    const { scale } = gridOf(model.graph.outputs[0]!);
    const got = quantized.get('y')!.toNumbers();
    const want = reference.get('y')!.toNumbers();
    expect(got.length).toBe(2 * 5 * 8);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `y[${i}]`).toBeLessThan(4 * scale);
  }, 60_000);

  it('full-integer=true says that an explicit min-conv-reduction is ignored', async () => {
    const run = await runPipeline(convNet(), 'quantize-static{samples=8 full-integer=true min-conv-reduction=64}');
    expect(run.warnings).toContainEqual("option 'min-conv-reduction=64' of pass 'quantize-static' is ignored with full-integer=true, which quantizes every eligible Conv (min-conv-reduction=0)");
    expect((await runPipeline(convNet(), 'quantize-static{samples=8 full-integer=true}')).warnings.join('\n')).not.toMatch(/min-conv-reduction/);
  }, 60_000);

  it('full-integer=true names each node that stays float and why', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 8]));
    const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 7), 'w1')], {}, { name: 'mm1' });
    const e = b.op1('onnx.Erf', [h], {}, { name: 'erf' });
    b.output(b.op1('onnx.MatMul', [e, b.constant(randomTensor([8, 4], 8), 'w2')], {}, { name: 'mm2', outputs: ['y'] }));
    const debug: string[] = [];
    const run = await runPipeline(b.model({ onnx: 13 }), 'quantize-static{samples=8 full-integer=true}', debug);
    const warning = run.warnings.find((reason) => reason.startsWith('full-integer:'));
    expect(warning).toMatch(
      /full-integer: 2 node\(s\) stay float32, so the model is not full-integer: MatMul 'mm1' \(its inputs are quantized but its output stays float \(no quantized op reads it; ORT: MatMulIntegerToFloat\), which an int8-only runtime runs in float\); Erf 'erf' \(quantize-static has no integer rule for Erf/,
    );
    expect(run.hints.join('\n')).toMatch(/legalize-tflite\{full-integer=true\}\) refuses this model/);
    expect(debug).toContainEqual(expect.stringMatching(/full-integer: Erf 'erf' stays float32/));
  }, 60_000);
});
