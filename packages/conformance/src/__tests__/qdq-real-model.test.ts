/**
 * fold-qdq and materialize-qdq on a real QDQ model: the Fashion-MNIST CNN with per-channel int8
 * weights behind DequantizeLinear and uint8 QuantizeLinear→DequantizeLinear after each Relu (built
 * with the ir's toolkit, the way a quantization pass would). fold-qdq turns every pair into a quant<>
 * type, the quantized IR survives the text format, and materialize-qdq gives back a model whose ONNX
 * Runtime outputs equal the QDQ model's bit for bit.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Builder, parseModel, printModel, quantizeSymmetric, Tensor, weightOutputAxis, type Model } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { fromOrtTensor, readTensorFile, toOrtTensor } from '@modelpass/runtime';
import { transformPasses } from '@modelpass/transforms';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const CNN = join(ROOT, 'fixtures/models/fashion-cnn');

/** The CNN in QDQ form: int8 per-channel weights (DequantizeLinear) and uint8 activations after each Relu. */
function qdqModel(): { model: Model; pairs: number; weights: number } {
  const model = readOnnx(join(CNN, 'model.onnx'));
  let weights = 0;
  let pairs = 0;
  for (const node of [...model.graph.nodes()]) {
    if (node.op === 'onnx.Conv' || node.op === 'onnx.Gemm') {
      const weight = node.inputs[1]!;
      const q = quantizeSymmetric(weight.constant!, { bits: 8, axis: weightOutputAxis(node) });
      const b = Builder.before(node);
      const reals = b.op1('onnx.DequantizeLinear', [b.constant(q.values, `${weight.name}_q`), b.constant(q.scale, `${weight.name}_s`), b.constant(q.zeroPoint, `${weight.name}_z`)], { axis: q.axis ?? 1 });
      node.setInput(1, reals);
      weights++;
    }
    if (node.op === 'onnx.Relu') {
      const out = node.output(0);
      const b = Builder.after(node);
      const scale = b.constant(Tensor.scalar('float32', 0.03125), 'act_scale');
      const zero = b.constant(Tensor.scalar('uint8', 0), 'act_zero');
      const integers = b.op1('onnx.QuantizeLinear', [out, scale, zero]);
      const reals = b.op1('onnx.DequantizeLinear', [integers, scale, zero]);
      out.replaceUsesWith(reals, (use) => use.node !== integers.producer);
      pairs++;
    }
  }
  return { model, pairs, weights };
}

async function runPipeline(model: Model, pipeline: string): Promise<Record<string, Record<string, number>>> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, verifyEach: true, instrumentations: [statistics] }).run(model, pipeline);
  return statistics.toJSON() as Record<string, Record<string, number>>;
}

async function outputs(bytes: Uint8Array): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const input = readTensorFile(join(CNN, 'test_data_set_0/input_0.pb'));
    const result = await session.run({ [session.inputNames[0]!]: toOrtTensor(ort.Tensor, input, 'input') });
    return fromOrtTensor(result[session.outputNames[0]!]!, 'logits').toNumbers();
  } finally {
    await session.release();
  }
}

describe('fold-qdq → text → materialize-qdq on the QDQ Fashion-MNIST CNN', () => {
  it('folds every Q/DQ into quant<> types and lowers them back to an ORT-identical model', async () => {
    const { model, pairs, weights } = qdqModel();
    const qdqBytes = encodeOnnx(model);
    const expected = await outputs(qdqBytes);

    const working = qdqModel().model;
    const foldStats = await runPipeline(working, 'fold-qdq');
    expect(foldStats['fold-qdq']).toMatchObject({ 'pairs-folded': pairs, 'constants-folded': weights });
    const text = printModel(working);
    expect(text).not.toMatch(/onnx\.(De)?[Qq]uantizeLinear/);
    expect(text.match(/quant</g)?.length).toBe(pairs + weights);

    const reread = parseModel(text);
    await runPipeline(reread, 'materialize-qdq');
    expect(printModel(reread)).not.toContain('quant<');
    const actual = await outputs(encodeOnnx(reread));
    expect(actual).toEqual(expected);
  });
});
