import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ComputedStorage,
  FileRangeStorage,
  GraphBuilder,
  ModelpassError,
  modelsEqual,
  parseModel,
  printModel,
  Tensor,
  tensorType,
} from '@modelpass/ir';

const dir = mkdtempSync(join(tmpdir(), 'mpir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function modelWithLargeWeights() {
  const weights = new Float32Array(1000).map((_, i) => Math.sin(i));
  const file = join(dir, 'weights.bin');
  const header = new Uint8Array(16).fill(7);
  writeFileSync(file, Buffer.concat([header, Buffer.from(weights.buffer)]));
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1000]));
  const w = b.constant(Tensor.fromStorage('float32', [1000], new FileRangeStorage(file, 16, 4000)), 'w');
  const c = b.constant(Tensor.fromStorage('float32', [1000], new ComputedStorage(4000, () => new Uint8Array(weights.buffer.slice(0)), 'folded')), 'c');
  const small = b.constant(Tensor.fromValues('int64', [2], [1n, 2n]), 'small');
  b.output(b.op1('onnx.Add', [x, w]), b.op1('onnx.Mul', [x, c]), small);
  return { model: b.model(), file, weights };
}

describe('large tensors in the textual IR', () => {
  it('inlines everything by default, bit-exactly (hex past the readable limit)', () => {
    const { model } = modelWithLargeWeights();
    const text = printModel(model);
    expect(text).toMatch(/const %w = tensor<float32\[1000\]> hex"/);
    const back = parseModel(text);
    expect(back.graph.getValue('w')!.constant!.storage!.kind).toBe('memory');
    expect(modelsEqual(model, back)).toBeUndefined();
    expect(printModel(back)).toBe(text);
  });

  it('prints file-backed constants as file(...) references that parse back to lazy file ranges', () => {
    const { model, file, weights } = modelWithLargeWeights();
    const options = { elideConstantsLargerThan: 1024 };
    const text = printModel(model, options);
    expect(text).toContain(`const %w = tensor<float32[1000]> file(${JSON.stringify(file)}, offset=16, length=4000)`);
    expect(text).toContain('const %c = tensor<float32[1000]> elided(4000)');
    expect(text).toContain('const %small = tensor<int64[2]> [1, 2]');
    const withoutElided = text.replace(/\n.*elided\(4000\)/, '').replace('onnx.Mul(%x, %c)', 'onnx.Mul(%x, %x)');
    const back = parseModel(withoutElided, { allowRead: [dir] });
    const storage = back.graph.getValue('w')!.constant!.storage!;
    expect(storage).toBeInstanceOf(FileRangeStorage);
    expect(storage).toMatchObject({ path: file, offset: 16, byteLength: 4000 });
    expect(new Float32Array(back.graph.getValue('w')!.constant!.bytes().slice().buffer)).toEqual(weights);
    expect(printModel(back, options)).toBe(withoutElided);
  });

  it('refuses to parse elided data back (never garbage)', () => {
    const { model } = modelWithLargeWeights();
    const text = printModel(model, { elideConstantsLargerThan: 1024 });
    expect(() => parseModel(text, { file: 'dump.mpir', allowRead: [dir] })).toThrow(ModelpassError);
    expect(() => parseModel(text, { file: 'dump.mpir', allowRead: [dir] })).toThrow(/dump\.mpir:\d+:\d+: tensor data was elided/);
  });

  it('can reference file data whatever its size', () => {
    const { model, file } = modelWithLargeWeights();
    expect(printModel(model, { referenceFileData: true })).toContain(`file(${JSON.stringify(file)}, offset=16, length=4000)`);
  });
});
