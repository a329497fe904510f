/**
 * An int8 embedding table (what quantize-dynamic and quantize-weights{bits=8} make of an nn.Embedding: Gather of the
 * int8 table, then DequantizeLinear; or a QDQ table, DequantizeLinear then Gather) becomes GATHER on the int8 table +
 * DEQUANTIZE of the gathered rows in TFLite — refused before ("a DequantizeLinear of integers with no quant<> type") or
 * written as a float32 table. TFLite 2.9 must give ONNX Runtime's outputs on the same quantized ONNX, exactly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const VOCAB = 300;
const DIM = 32;
const ids = Tensor.fromValues('int64', [2, 5], [0, 299, 17, 150, 3, 42, 42, 298, 1, -1].map((v) => BigInt(v)));

/** ids [2, 5] → an nn.Embedding(300, 32) (float32 table) → optionally a Linear(32, 8) → y. */
function embeddingModel(linear: boolean): Model {
  const b = new GraphBuilder();
  const input = b.input('ids', tensorType('int64', [2, 5]));
  let y = b.op1('onnx.Gather', [b.constant(seededTensor([VOCAB, DIM], 1), 'embedding.weight'), input], { axis: attrs.int(0) });
  if (linear) y = b.op1('onnx.Add', [b.op1('onnx.MatMul', [y, b.constant(seededTensor([DIM, 8], 2, -0.3, 0.3), 'linear.weight')]), b.constant(seededTensor([8], 3), 'linear.bias')]);
  b.output(y);
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** An int8 [300, 32] table behind a DequantizeLinear (scales per tensor, per embedding dim (axis 1) or per row (axis 0)), read by a Gather. */
function qdqTableModel(scales: 'tensor' | 'dim' | 'row'): Model {
  const b = new GraphBuilder();
  const input = b.input('ids', tensorType('int64', [2, 5]));
  const codes = Tensor.fromValues('int8', [VOCAB, DIM], Array.from({ length: VOCAB * DIM }, (_, i) => ((i * 53) % 255) - 127));
  const count = scales === 'tensor' ? 1 : scales === 'dim' ? DIM : VOCAB;
  const scale = scales === 'tensor' ? Tensor.scalar('float32', 0.0123) : Tensor.fromValues('float32', [count], Array.from({ length: count }, (_, i) => 0.001 * (i + 1)));
  const zero = scales === 'tensor' ? Tensor.scalar('int8', 0) : Tensor.fromValues('int8', [count], new Array<number>(count).fill(0));
  const table = b.op1('onnx.DequantizeLinear', [b.constant(codes, 'codes'), b.constant(scale, 'scale'), b.constant(zero, 'zero')], scales === 'tensor' ? {} : { axis: attrs.int(scales === 'dim' ? 1 : 0) });
  b.output(b.op1('onnx.Gather', [table, input], { axis: attrs.int(0) }));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** Gather of a [300, 32] table of codes, then DequantizeLinear: int8 with a scale per embedding dim (axis 2 of the rows), or uint8 with one scale and zero point 128. */
function gatheredCodesModel(form: 'int8 per dim' | 'uint8 zero point'): Model {
  const b = new GraphBuilder();
  const input = b.input('ids', tensorType('int64', [2, 5]));
  const int8 = form === 'int8 per dim';
  const codes = Tensor.fromValues(int8 ? 'int8' : 'uint8', [VOCAB, DIM], Array.from({ length: VOCAB * DIM }, (_, i) => ((i * 53) % 255) - (int8 ? 127 : 0)));
  const rows = b.op1('onnx.Gather', [b.constant(codes, 'codes'), input], { axis: attrs.int(0) });
  const scale = int8 ? Tensor.fromValues('float32', [DIM], Array.from({ length: DIM }, (_, i) => 0.002 * (i + 1))) : Tensor.scalar('float32', 0.0123);
  const zero = int8 ? Tensor.fromValues('int8', [DIM], new Array<number>(DIM).fill(0)) : Tensor.scalar('uint8', 128);
  b.output(b.op1('onnx.DequantizeLinear', [rows, b.constant(scale, 'scale'), b.constant(zero, 'zero')], int8 ? { axis: attrs.int(2) } : {}));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

async function quantized(model: Model, pipeline: string): Promise<Model> {
  await new PassManager({ environment: builtinEnvironment() }).run(model, pipeline);
  return decodeOnnx(encodeOnnx(model));
}

/** The legalized copy of `original`, its TFLite 2.9 outputs compared with ORT's on `original`; returns the copy and the worst difference. */
async function converted(original: Model): Promise<{ model: Model; difference: number }> {
  const model = decodeOnnx(encodeOnnx(original));
  await legalize(model);
  const differences = await compareInRuntimes(original, model, { ids });
  return { model, difference: Math.max(...differences) };
}

/** The GATHERs of an int8 (quant<>) table constant, and the float32 constants of at least `elements` values. */
function tables(model: Model, elements = VOCAB * DIM): { int8Gathers: TensorType[]; floatTables: number } {
  const gathers = model.graph.nodeList().filter((node) => node.op === 'tflite.GATHER' && node.inputs[0]?.isConstant);
  const int8Gathers = gathers.map((node) => node.inputs[0]!.type as TensorType).filter((type) => type.dtype === 'int8' && type.quant);
  const floatTables = model.graph.constants.filter((value) => value.constant?.dtype === 'float32' && value.constant.size >= elements).length;
  return { int8Gathers, floatTables };
}

describe('legalize-tflite: an int8 embedding table is GATHER on int8 + DEQUANTIZE', () => {
  for (const pipeline of ['quantize-dynamic', 'quantize-weights{bits=8}']) {
    it(`${pipeline} of nn.Embedding(300, 32): Gather(int8) → DequantizeLinear, equal to ORT`, async () => {
      const original = await quantized(embeddingModel(false), pipeline);
      const ops = original.graph.nodeList().map((node) => node.op);
      expect(ops).toEqual(['onnx.Gather', 'onnx.DequantizeLinear']);
      const { model, difference } = await converted(original);
      expect(difference).toBe(0);
      const { int8Gathers, floatTables } = tables(model);
      expect(int8Gathers).toHaveLength(1);
      expect(int8Gathers[0]!.quant!.axis).toBeUndefined();
      expect(floatTables).toBe(0);
      expect(model.graph.nodeList().map((node) => node.op)).toContain('tflite.DEQUANTIZE');
    });
  }

  it('quantize-dynamic of nn.Embedding + Linear: the table int8 beside the hybrid product; the embedding rows equal to ORT', async () => {
    const original = await quantized(embeddingModel(true), 'quantize-dynamic');
    // The rows are a graph output too (the DequantizeLinear's result): compared exactly; the hybrid product (int8 input quantized on the fly) within 0.02 (outputs of about ±1).
    const rows = original.graph.nodeList().find((node) => node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.producer?.op === 'onnx.Gather')!.output(0);
    original.graph.addOutput(rows);
    const { model } = await converted(original);
    const differences = await compareInRuntimes(original, model, { ids });
    expect(differences[1]).toBe(0);
    expect(differences[0]).toBeLessThanOrEqual(0.02);
    expect(tables(model).int8Gathers).toHaveLength(1);
    expect(tables(model).floatTables).toBe(0);
    // The per-channel hybrid product: a 1×1 CONV_2D on int8 weights between RESHAPEs.
    expect(model.graph.nodeList().map((node) => node.op)).toContain('tflite.CONV_2D');
  });

  it('Gather of int8 codes, then DequantizeLinear with a scale per embedding dim: per-channel DEQUANTIZE, equal to ORT', async () => {
    const { model, difference } = await converted(gatheredCodesModel('int8 per dim'));
    expect(difference).toBe(0);
    const { int8Gathers } = tables(model);
    expect(int8Gathers).toHaveLength(1);
    expect(int8Gathers[0]!.quant!.axis).toBe(1);
  });

  it('Gather of uint8 codes, then DequantizeLinear with zero point 128: GATHER on uint8, equal to ORT', async () => {
    const { model, difference } = await converted(gatheredCodesModel('uint8 zero point'));
    expect(difference).toBe(0);
    const gather = model.graph.nodeList().find((node) => node.op === 'tflite.GATHER' && node.inputs[0]?.isConstant)!;
    expect((gather.inputs[0]!.type as TensorType).dtype).toBe('uint8');
    expect((gather.inputs[0]!.type as TensorType).quant!.zeroPoint).toEqual([128]);
  });

  it('a QDQ table (DequantizeLinear → Gather) with one scale: int8 GATHER, equal to ORT', async () => {
    const { model, difference } = await converted(qdqTableModel('tensor'));
    expect(difference).toBe(0);
    expect(tables(model).int8Gathers).toHaveLength(1);
    expect(tables(model).floatTables).toBe(0);
  });

  it('a QDQ table with a scale per embedding dim: int8 GATHER, per-channel DEQUANTIZE (TFLite 2.9 runs it), equal to ORT', async () => {
    const { model, difference } = await converted(qdqTableModel('dim'));
    expect(difference).toBe(0);
    const { int8Gathers } = tables(model);
    expect(int8Gathers).toHaveLength(1);
    expect(int8Gathers[0]!.quant!.axis).toBe(1);
  });

  it('a QDQ table with a scale per row (the gathered axis): stays a float32 table, equal to ORT', async () => {
    const { model, difference } = await converted(qdqTableModel('row'));
    expect(difference).toBe(0);
    expect(tables(model).int8Gathers).toHaveLength(0);
    expect(tables(model).floatTables).toBe(1);
  });
});
