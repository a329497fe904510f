/**
 * full-integer=true on a transformer block as torch exports it (issue 12): a decomposed LayerNorm
 * (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add), an erf-GELU between two MatMuls, attention scores divided
 * by a constant. Before, 13 of its nodes stayed float (no integer rule for ReduceMean/Sub/Pow/Sqrt/Div/Erf). Now
 * the float model is spelled with ops an int8 target runs (Pow(x, 2) → Mul(x, x), Div(a, Sqrt(v)) →
 * Mul(a, Reciprocal(Sqrt(v))), Div by a constant → Mul), Sub and ReduceMean get their own ranges, and the
 * GELU and Reciprocal(Sqrt) are quantized at their input and output only: nothing stays float, ONNX's checker
 * accepts the model and ONNX Runtime runs it close to the float model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Node } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, maxAbsDiff, onnxChecker, randomTensor, runPipeline } from '../__tests__/weights-helpers.js';
import { inferShapes } from '@modelpass/ops';
import { rewriteForFullInteger } from './composites.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-quantize-composites-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(dir, { recursive: true, force: true });
});

const scalar = (v: number) => Tensor.scalar('float32', v);
/** A LayerNorm scale near 1, as trained ones are. */
const gamma = () => Tensor.fromValues('float32', [8], randomTensor([8], 2, 0.4).toNumbers().map((v) => 1 + v));

/** x [1, 6, 8] → LayerNorm → MatMul/Add → GELU (erf) → MatMul → self-attention scores / √8 → Softmax → MatMul. */
function block(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 6, 8]));
  const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 1, 0.5), 'w0')], {}, { name: 'embed' });
  const mean = b.op1('onnx.ReduceMean', [h], { axes: attrs.ints([-1]) }, { name: 'ln/mean' });
  const centred = b.op1('onnx.Sub', [h, mean], {}, { name: 'ln/sub' });
  const squared = b.op1('onnx.Pow', [centred, b.constant(scalar(2), 'two')], {}, { name: 'ln/pow' });
  const variance = b.op1('onnx.ReduceMean', [squared], { axes: attrs.ints([-1]) }, { name: 'ln/var' });
  const root = b.op1('onnx.Sqrt', [b.op1('onnx.Add', [variance, b.constant(scalar(1e-5), 'eps')], {}, { name: 'ln/eps' })], {}, { name: 'ln/sqrt' });
  const normalized = b.op1('onnx.Div', [centred, root], {}, { name: 'ln/div' });
  const ln = b.op1('onnx.Add', [b.op1('onnx.Mul', [normalized, b.constant(gamma(), 'gamma')], {}, { name: 'ln/gamma' }), b.constant(randomTensor([8], 3, 0.1), 'beta')], {}, { name: 'ln/beta', outputs: ['ln_out'] });
  const ff1 = b.op1('onnx.Add', [b.op1('onnx.MatMul', [ln, b.constant(randomTensor([8, 16], 4, 0.5), 'w1')], {}, { name: 'ff1' }), b.constant(randomTensor([16], 5, 0.1), 'b1')], {}, { name: 'ff1/bias', outputs: ['ff1_out'] });
  const erf = b.op1('onnx.Erf', [b.op1('onnx.Div', [ff1, b.constant(scalar(Math.SQRT2), 'sqrt2')], {}, { name: 'gelu/div' })], {}, { name: 'gelu/erf' });
  const gate = b.op1('onnx.Add', [erf, b.constant(scalar(1), 'one')], {}, { name: 'gelu/add' });
  const gelu = b.op1('onnx.Mul', [b.op1('onnx.Mul', [ff1, gate], {}, { name: 'gelu/mul' }), b.constant(scalar(0.5), 'half')], {}, { name: 'gelu/half', outputs: ['gelu_out'] });
  const ff2 = b.op1('onnx.MatMul', [gelu, b.constant(randomTensor([16, 8], 6, 0.3), 'w2')], {}, { name: 'ff2', outputs: ['ff2_out'] });
  const keys = b.op1('onnx.Transpose', [ff2], { perm: attrs.ints([0, 2, 1]) }, { name: 'keys' });
  const scores = b.op1('onnx.Div', [b.op1('onnx.MatMul', [ff2, keys], {}, { name: 'scores' }), b.constant(scalar(Math.sqrt(8)), 'sqrt_d')], {}, { name: 'scores/scale' });
  const weights = b.op1('onnx.Softmax', [scores], { axis: attrs.int(-1) }, { name: 'softmax' });
  b.output(b.op1('onnx.MatMul', [weights, ff2], {}, { name: 'context', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

const feed = () => ({ x: randomTensor([1, 6, 8], 11, 1.5) });
const opsOf = (model: Model) => [...model.graph.nodes()].map((node) => node.op);
const producerOp = (node: Node, index: number) => node.inputs[index]?.producer?.op;

describe('quantize-static full-integer=true on a transformer block', () => {
  it('leaves no node float: LayerNorm, GELU and scaled scores are quantized; ORT runs it (checker ok)', async () => {
    const model = block();
    const float = decodeOnnx(encodeOnnx(model));
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true}');
    expect(run.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
    const ops = opsOf(model);
    expect(ops).not.toContain('onnx.Pow');
    expect(ops).not.toContain('onnx.Div');
    expect(ops.filter((op) => op === 'onnx.Reciprocal')).toHaveLength(1);
    // GELU and Reciprocal(Sqrt): integers in (a DequantizeLinear before the pattern), integers out (a QuantizeLinear after), float inside.
    const nodes = [...model.graph.nodes()];
    const erf = nodes.find((node) => node.op === 'onnx.Erf')!;
    const entry = erf.inputs[0]!.producer!;
    expect(entry.op).toBe('onnx.Mul');
    expect(producerOp(entry, 0)).toBe('onnx.DequantizeLinear');
    expect(model.graph.getValue('gelu_out')!.users.map((user) => user.op)).toEqual(['onnx.QuantizeLinear']);
    const sqrt = nodes.find((node) => node.op === 'onnx.Sqrt')!;
    expect(producerOp(sqrt, 0)).toBe('onnx.DequantizeLinear');
    expect(sqrt.output(0).users.map((user) => user.op)).toEqual(['onnx.Reciprocal']);
    expect(sqrt.output(0).users[0]!.output(0).users.map((user) => user.op)).toEqual(['onnx.QuantizeLinear']);
    // Every Sub/ReduceMean/Mul/Softmax/MatMul reads integers through a DequantizeLinear (its activations or quantized constants).
    for (const node of nodes.filter((n) => ['onnx.Sub', 'onnx.ReduceMean', 'onnx.Softmax', 'onnx.MatMul', 'onnx.Add'].includes(n.op) && !n.name.startsWith('gelu/'))) {
      expect(node.inputs.map((input) => input?.producer?.op ?? (input?.constant ? 'constant' : 'input')), node.name).toEqual(node.inputs.map(() => 'onnx.DequantizeLinear'));
    }
    // The Softmax output takes TFLite's int8 SOFTMAX parameters (1/256 at the dtype's minimum), not a calibrated range.
    const softmaxQ = nodes.find((node) => node.op === 'onnx.Softmax')!.output(0).users[0]!;
    expect(softmaxQ.op).toBe('onnx.QuantizeLinear');
    expect([softmaxQ.input(1).constant!.toNumbers()[0], softmaxQ.input(2).constant!.toNumbers()[0]]).toEqual([1 / 256, 0]);
    const path = join(dir, 'block.int8.onnx');
    writeOnnx(model, path);
    onnxChecker(path);
    const [expected] = [...(await runOrt(float, feed())).values()];
    const [actual] = [...(await runOrt(model, feed())).values()];
    expect(cosine(expected!, actual!)).toBeGreaterThan(0.99);
  }, 120_000);

  it('LayerNormalization (opset 17) is decomposed the same way: no float node, ORT close to the float model', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 6, 8]));
    const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 1, 0.5), 'w0')], {}, { name: 'embed' });
    const ln = b.op1('onnx.LayerNormalization', [h, b.constant(gamma(), 'gamma'), b.constant(randomTensor([8], 3, 0.1), 'beta')], { axis: attrs.int(-1), epsilon: attrs.float(1e-5) }, { name: 'ln' });
    b.output(b.op1('onnx.MatMul', [ln, b.constant(randomTensor([8, 4], 4, 0.5), 'w1')], {}, { name: 'head', outputs: ['y'] }));
    const model = b.model({ onnx: 17 });
    const float = decodeOnnx(encodeOnnx(model));
    // The decomposition alone computes the same reals (ORT on both float models).
    const decomposed = decodeOnnx(encodeOnnx(model));
    inferShapes(decomposed, { mode: 'refresh' });
    expect(rewriteForFullInteger(decomposed.graph, 17).layerNorms).toBe(1);
    const [reference] = [...(await runOrt(float, feed())).values()];
    const [rewritten] = [...(await runOrt(decomposed, feed())).values()];
    expect(maxAbsDiff(reference!, rewritten!)).toBeLessThan(1e-5);
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true}');
    expect(run.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
    const ops = opsOf(model);
    expect(ops).not.toContain('onnx.LayerNormalization');
    for (const op of ['onnx.ReduceMean', 'onnx.Sub', 'onnx.Sqrt', 'onnx.Reciprocal']) expect(ops).toContain(op);
    const path = join(dir, 'layer-norm.int8.onnx');
    writeOnnx(model, path);
    onnxChecker(path);
    const [actual] = [...(await runOrt(model, feed())).values()];
    expect(cosine(reference!, actual!)).toBeGreaterThan(0.99);
  }, 120_000);

  it('exclude= keeps a named node in its float spelling (a Div by a constant stays a Div, float)', async () => {
    const model = block();
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true exclude=scores/scale}');
    const nodes = [...model.graph.nodes()];
    expect(nodes.find((node) => node.name === 'scores/scale')?.op).toBe('onnx.Div');
    expect(run.warnings.join('\n')).toMatch(/Div 'scores\/scale'/);
  }, 120_000);

  it('without full-integer=true, the LayerNorm and GELU keep their float spelling (ORT has no integer kernels for them)', async () => {
    const model = block();
    await runPipeline(model, 'quantize-static{samples=16}');
    const ops = opsOf(model);
    expect(ops).toContain('onnx.Pow');
    expect(ops).toContain('onnx.Div');
    expect(ops).not.toContain('onnx.Reciprocal');
  }, 120_000);
});
