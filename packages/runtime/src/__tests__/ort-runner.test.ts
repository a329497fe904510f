import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type DType } from '@modelpass/ir';
import { OrtRunner, compareOutputs, listTensorFiles, readNpy, runOrt, disposeSharedOrtRunner } from '@modelpass/runtime';
import { CONFORMANCE, conformanceAsNpy, temporaryDir } from './helpers.js';

const runner = new OrtRunner();
afterAll(async () => {
  await runner.dispose();
  await disposeSharedOrtRunner();
});

/** Runs a conformance case on ORT through the adapter, feeding numpy's decoding of its .pb inputs. */
async function runCase(testCase: string) {
  const npyDir = conformanceAsNpy(testCase);
  const files = listTensorFiles(npyDir);
  const modelPath = join(CONFORMANCE, testCase, 'model.onnx');
  const info = await runner.describe(modelPath);
  const feeds = new Map(info.inputs.map((input, i) => [input.name, readNpy(join(npyDir, `input_${i}.npy`))]));
  const expected = new Map(info.outputs.map((output, i) => [output.name, readNpy(join(npyDir, `output_${i}.npy`))]));
  expect(files.length).toBe(feeds.size + expected.size);
  const actual = await runner.run(modelPath, feeds);
  return { expected, actual, feeds };
}

describe('OrtRunner on ONNX conformance models', () => {
  const cases: [string, DType[]][] = [
    ['test_relu', ['float32']],
    ['test_cast_FLOAT_to_FLOAT16', ['float16']],
    ['test_cast_FLOAT16_to_FLOAT', ['float32']],
    ['test_cast_FLOAT_to_DOUBLE', ['float64']],
    ['test_mod_mixed_sign_float16', ['float16']],
    ['test_mod_mixed_sign_int8', ['int8']],
    ['test_mod_mixed_sign_int16', ['int16']],
    ['test_mod_mixed_sign_int32', ['int32']],
    ['test_mod_mixed_sign_int64', ['int64']],
    ['test_mod_uint8', ['uint8']],
    ['test_mod_uint16', ['uint16']],
    ['test_mod_uint32', ['uint32']],
    ['test_mod_uint64', ['uint64']],
    ['test_and2d', ['bool']],
    ['test_argmax_default_axis_example', ['int64']],
  ];
  it.each(cases)('%s matches the expected outputs exactly', async (testCase, dtypes) => {
    const { expected, actual } = await runCase(testCase);
    expect([...actual.values()].map((t) => t.dtype)).toEqual(dtypes);
    for (const [name, tensor] of expected) {
      const got = actual.get(name)!;
      // Exact: same dtype, shape and bytes (float16 bits included).
      expect(got.equals(tensor), `${testCase} output ${name}`).toBe(true);
    }
    expect(compareOutputs(expected, actual).withinTolerance).toBe(true);
  });

  it('passes strings both ways', async () => {
    const { actual: parsed } = await runCase('test_cast_STRING_to_FLOAT');
    expect(parsed.values().next().value!.dtype).toBe('float32');
    const { expected, actual } = await runCase('test_cast_FLOAT_to_STRING');
    const out = actual.values().next().value!;
    expect(out.dtype).toBe('string');
    expect(out.shape).toEqual(expected.values().next().value!.shape);
    // ORT prints floats with its own digits; both sides must parse back to the same float32.
    const asFloat32 = (s: readonly string[]) => s.map((v) => Math.fround(Number(v)));
    expect(asFloat32(out.strings!)).toEqual(asFloat32(expected.values().next().value!.strings!));
  });
});

describe('OrtRunner sessions', () => {
  const relu = join(CONFORMANCE, 'test_relu', 'model.onnx');
  const x = Tensor.fromValues('float32', [3, 4, 5], Array.from({ length: 60 }, (_, i) => i - 30));

  it('caches sessions by file and mtime, and by bytes, within an LRU bound', async () => {
    const local = new OrtRunner({ maxSessions: 2 });
    try {
      const dir = temporaryDir('sessions');
      const copy = join(dir, 'relu.onnx');
      copyFileSync(relu, copy);
      await local.run(copy, { x });
      await local.run(copy, { x });
      expect(local.cachedSessions).toBe(1);
      utimesSync(copy, new Date(), new Date(Date.now() + 5000));
      await local.run(copy, { x });
      expect(local.cachedSessions).toBe(2);
      const bytes = new Uint8Array(readFileSync(relu));
      const fromBytes = await local.run(bytes, { x });
      expect(local.cachedSessions).toBe(2); // bounded: the oldest was released
      expect(fromBytes.get('y')!.toNumbers()).toEqual(x.toNumbers().map((v) => Math.max(0, v)));
      await local.run(bytes.slice(), { x }); // same bytes, same hash: no new session
      expect(local.cachedSessions).toBe(2);
    } finally {
      await local.dispose();
    }
    expect(local.cachedSessions).toBe(0);
  });

  it('outputs taken over without a copy stay each run\'s own (a later run, a mutation, dispose change none)', async () => {
    const negated = Tensor.fromValues('float32', [3, 4, 5], x.toNumbers().map((v) => 0.5 - v));
    const first = (await runner.run(relu, { x })).get('y')!;
    const expected = x.toNumbers().map((v) => Math.max(0, v));
    const second = (await runner.run(relu, { x: negated })).get('y')!;
    expect(first.toNumbers()).toEqual(expected);
    expect(second.toNumbers()).toEqual(negated.toNumbers().map((v) => Math.max(0, v)));
    second.bytes().fill(0);
    const third = (await runner.run(relu, { x })).get('y')!;
    expect(third.toNumbers()).toEqual(expected);
    expect(first.toNumbers()).toEqual(expected);
    expect(first.bytes().buffer).not.toBe(third.bytes().buffer);
  });

  it('runOrt uses a shared runner and selects outputs', async () => {
    const out = await runOrt(relu, new Map([['x', x]]), { outputs: ['y'] });
    expect([...out.keys()]).toEqual(['y']);
    await expect(runOrt(relu, { x }, { outputs: ['nope'] })).rejects.toThrow(/'nope' is not an output/);
  });

  it('says clearly what is wrong with the feeds', async () => {
    await expect(runner.run(relu, {})).rejects.toThrow(/input 'x' of model .*test_relu.* is missing from the feeds/);
    await expect(runner.run(relu, { x: Tensor.fromValues('int32', [1], [1]) })).rejects.toThrow(/input 'x' .* has the wrong dtype \(expected float32\[3,4,5\], got int32\[1\]\)/);
    await expect(runner.run(relu, { x, z: x })).rejects.toThrow(/feed 'z' is not an input/);
    const shapeError = await runner.run(relu, { x: Tensor.fromValues('float32', [2], [1, 2]) }).catch((e: unknown) => e);
    expect(shapeError).toMatchObject({ name: 'ModelpassError' });
    expect((shapeError as Error).message).toMatch(/test_relu\/model.onnx: ONNX Runtime failed to run the model: .*invalid (rank|dimensions)/i);
    await expect(runner.run(relu, { x: Tensor.fromValues('bfloat16', [3, 4, 5], new Array(60).fill(0)) })).rejects.toThrow(/dtype/);
  });

  it('says clearly when ONNX Runtime rejects a model', async () => {
    const dir = temporaryDir('bad');
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'this is not a model');
    const error = await runner.run(bad, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ModelpassError' });
    expect((error as Error).message).toContain(bad);
    expect((error as Error).message).toMatch(/bad.onnx: ONNX Runtime rejected the model: .*protobuf parsing failed/i);
    await expect(runner.run(join(dir, 'missing.onnx'), {})).rejects.toThrow(/does not exist/);
    await expect(runner.run(new Uint8Array([1, 2, 3]), {})).rejects.toThrow(/rejected model <3 bytes of ONNX>/);
    // A failed load is not cached.
    expect(runner.cachedSessions).toBeLessThanOrEqual(4);
  });
});
