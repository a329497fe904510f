/**
 * The writer refuses quantized tensor types (ONNX has none) instead of dropping their parameters,
 * and writes `value_info` by policy: 'declared' (default) keeps only what the source file declared.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, hasDeclaredValueInfo, parseValueInfoPolicy, writeOnnx } from '@modelpass/onnx';
import { decodeModelProto, FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';

const QUANTIZED = `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[2,4]) {
  const %w = tensor<int8[4,3] quant<bits=8, axis=1, scale=[0.5, 0.25, 0.125], zero_point=[0, 0, 0]>> [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
  %h: float32[2,3] = onnx.MatMul(%x, %w) name="mm"
  %r: uint8[2,3] quant<bits=8, scale=[0.5], zero_point=[0]> = onnx.Relu(%h) name="relu"
  return %r
}
}`;

function refusal(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelpassError');
}

describe('the ONNX writer refuses quantized types', () => {
  it('names the quantized initializer, says why and hints at materialize-qdq (encodeOnnx)', () => {
    const error = refusal(() => encodeOnnx(parseModel(QUANTIZED)));
    expect(error.message).toContain("cannot write initializer 'w' (int8[4,3] quant<bits=8, per-axis on axis 1>) to ONNX");
    expect(error.diagnostics[0]!.hint).toContain('materialize-qdq');
    expect(error.diagnostics[0]!.code).toBe('onnx/quantized-type');
  });

  it('names a computed quantized value and its node, and writes no file (writeOnnx)', () => {
    const model = parseModel(QUANTIZED);
    const w = model.graph.getValue('w')!;
    w.type = tensorType('int8', [4, 3]);
    w.constant = w.constant!.withQuant(undefined);
    const dir = tempDir('quant-refusal');
    const error = refusal(() => writeOnnx(model, join(dir, 'model.onnx')));
    expect(error.message).toContain("value 'r' (uint8[2,3] quant<bits=8, per-tensor>), output of node 'relu' (onnx.Relu)");
    expect(error.location?.node).toBe('relu');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes the same model once the quantization is gone', () => {
    const model = parseModel(QUANTIZED);
    const w = model.graph.getValue('w')!;
    w.type = tensorType('int8', [4, 3]);
    w.constant = w.constant!.withQuant(undefined);
    model.graph.getValue('r')!.type = tensorType('uint8', [2, 3]);
    expect(encodeOnnx(model).byteLength).toBeGreaterThan(0);
  });
});

/** x -> Relu -> a -> Neg -> b -> Abs -> y, with value_info declared for `a` only. */
function chainWithOneDeclared(): Model {
  return decodeOnnx(
    modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'chain',
        node: [
          { op_type: 'Relu', input: ['x'], output: ['a'] },
          { op_type: 'Neg', input: ['a'], output: ['b'] },
          { op_type: 'Abs', input: ['b'], output: ['y'] },
        ],
        input: [tensorInfo('x', FLOAT, [2, 3])],
        output: [tensorInfo('y', FLOAT, [2, 3])],
        value_info: [tensorInfo('a', FLOAT, [2, 3])],
      },
    }),
  );
}

function valueInfoNames(bytes: Uint8Array): string[] {
  return (decodeModelProto(bytes).graph?.value_info ?? []).map((info) => info.name ?? '');
}

describe('value_info policy', () => {
  it("'declared' (the default) keeps the source's entries and adds no inferred ones", () => {
    const model = chainWithOneDeclared();
    model.graph.getValue('b')!.type = tensorType('float32', [2, 3]); // what shape inference would add
    expect(hasDeclaredValueInfo(model.graph.getValue('a')!)).toBe(true);
    expect(hasDeclaredValueInfo(model.graph.getValue('b')!)).toBe(false);
    expect(valueInfoNames(encodeOnnx(model))).toEqual(['a']);
    expect(valueInfoNames(encodeOnnx(model, { valueInfo: 'declared' }))).toEqual(['a']);
  });

  it("'all' writes every typed intermediate value, 'none' writes none", () => {
    const model = chainWithOneDeclared();
    model.graph.getValue('b')!.type = tensorType('float32', [2, 3]);
    expect(valueInfoNames(encodeOnnx(model, { valueInfo: 'all' }))).toEqual(['a', 'b']);
    expect(valueInfoNames(encodeOnnx(model, { valueInfo: 'none' }))).toEqual([]);
  });

  it('applies to writeOnnx too, and graph inputs/outputs keep their types', () => {
    const model = chainWithOneDeclared();
    model.graph.getValue('b')!.type = tensorType('float32', [2, 3]);
    const file = join(tempDir('value-info'), 'chain.onnx');
    writeOnnx(model, file, { valueInfo: 'none' });
    expect(existsSync(file)).toBe(true);
    const reread = decodeOnnx(new Uint8Array(readFileSync(file)));
    expect(reread.graph.inputs[0]!.type).toEqual(tensorType('float32', [2, 3]));
    expect(reread.graph.outputs[0]!.type).toEqual(tensorType('float32', [2, 3]));
  });

  it("'declared' writes every type of a model that did not come from ONNX (its author declared them)", () => {
    const model = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2,3]) {
  %a: float32[2,3] = onnx.Relu(%x)
  %b: float32[2,3] = onnx.Neg(%a)
  %y: float32[2,3] = onnx.Abs(%b)
  return %y
}
}`);
    expect(valueInfoNames(encodeOnnx(model))).toEqual(['a', 'b']);
    expect(valueInfoNames(encodeOnnx(model, { valueInfo: 'none' }))).toEqual([]);
  });

  it('parses policy names for option parsers', () => {
    expect(parseValueInfoPolicy('all')).toBe('all');
    expect(parseValueInfoPolicy('inferred')).toBeUndefined();
  });
});
