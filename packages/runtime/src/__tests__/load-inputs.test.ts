import { cpSync, readdirSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, isTensorType } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { OrtRunner, compareOutputs, loadInputs, loadTestDataSet, readTensorFile, writeNpy } from '@modelpass/runtime';
import { CONFORMANCE, temporaryDir } from './helpers.js';

const runner = new OrtRunner({ maxSessions: 2 });
afterAll(() => runner.dispose());

describe('loadInputs', () => {
  const addCase = join(CONFORMANCE, 'test_add');
  const model = readOnnx(join(addCase, 'model.onnx'));

  it('matches input_N.pb files to inputs by position and loads expected outputs', async () => {
    const { inputs, outputs } = loadTestDataSet(join(addCase, 'test_data_set_0'), model);
    expect([...inputs.keys()]).toEqual(['x', 'y']);
    expect([...outputs.keys()]).toEqual(['sum']);
    const actual = await runner.run(join(addCase, 'model.onnx'), inputs);
    const report = compareOutputs(outputs, actual);
    expect(report.maxAbsError).toBe(0);
    expect(report.withinTolerance).toBe(true);
  });

  it('matches <input>.npy files by name, in any order', () => {
    const dir = temporaryDir('named');
    const x = Tensor.fromValues('float32', [3, 4, 5], Array.from({ length: 60 }, (_, i) => i));
    const y = Tensor.fromValues('float32', [3, 4, 5], Array.from({ length: 60 }, (_, i) => -i));
    writeNpy(y, join(dir, 'y.npy'));
    writeNpy(x, join(dir, 'x.npy'));
    const feeds = loadInputs([join(dir, 'y.npy'), join(dir, 'x.npy')], model);
    expect(feeds.get('x')!.equals(x)).toBe(true);
    expect(feeds.get('y')!.equals(y)).toBe(true);
    expect(loadInputs(dir, model).get('y')!.equals(y)).toBe(true);
  });

  it('rejects files that fit no input, the wrong dtype or shape, and missing inputs', () => {
    const dir = temporaryDir('bad-inputs');
    writeNpy(Tensor.fromValues('int32', [3, 4, 5], new Array(60).fill(1)), join(dir, 'x.npy'));
    expect(() => loadInputs([join(dir, 'x.npy')], model)).toThrow(/does not fit input 'x': wrong dtype \(expected float32\[3,4,5\], got int32\[3,4,5\]\)/);
    writeNpy(Tensor.fromValues('float32', [3, 4, 6], new Array(72).fill(1)), join(dir, 'y.npy'));
    expect(() => loadInputs([join(dir, 'y.npy')], model)).toThrow(/axis 2 has size 6/);
    writeNpy(Tensor.fromValues('float32', [1], [1]), join(dir, 'zzz.npy'));
    expect(() => loadInputs([join(dir, 'zzz.npy')], model)).toThrow(/cannot match file .*zzz.npy/);
    writeNpy(Tensor.fromValues('float32', [1], [1]), join(dir, 'input_7.npy'));
    expect(() => loadInputs([join(dir, 'input_7.npy')], model)).toThrow(/feeds input #7, but the model has only 2/);
    const good = temporaryDir('partial');
    writeNpy(Tensor.fromValues('float32', [3, 4, 5], new Array(60).fill(1)), join(good, 'x.npy'));
    expect(() => loadInputs(good, model)).toThrow(/no file for input 'y'/);
    expect(loadInputs(good, model, { requireAll: false }).size).toBe(1);
    expect(() => readTensorFile(join(good, 'x.txt'))).toThrow(/cannot tell the format/);
    expect(() => loadInputs(join(good, 'nope'), model)).toThrow(/does not exist/);
  });

  it('refuses a file that is a link out of the folder, naming link and target; a link inside the folder is read', () => {
    const outside = temporaryDir('outside');
    const dir = temporaryDir('linked');
    const x = Tensor.fromValues('float32', [3, 4, 5], Array.from({ length: 60 }, (_, i) => i));
    writeNpy(x, join(outside, 'y.npy'));
    mkdirSync(join(dir, 'store'));
    writeNpy(x, join(dir, 'store', 'x-data.npy'));
    symlinkSync(join(dir, 'store', 'x-data.npy'), join(dir, 'x.npy'));
    writeNpy(x, join(dir, 'y.npy'));
    expect(loadInputs(dir, model).get('x')!.equals(x)).toBe(true);
    symlinkSync(join(outside, 'y.npy'), join(dir, 'y2.npy'));
    expect(() => loadInputs(dir, model)).toThrow(`input file '${join(dir, 'y2.npy')}' is a symbolic link to '${join(outside, 'y.npy')}', outside the folder '${dir}'`);
    // The file given by itself is the user's own choice: read.
    expect(loadInputs([join(dir, 'x.npy'), join(outside, 'y.npy')], model).size).toBe(2);
  });

  it('reads a model folder holding one test_data_set_N/ (QA s12 N7); several sets or no files name the layouts', () => {
    expect(readdirSync(addCase).filter((name) => name.startsWith('test_data_set_'))).toEqual(['test_data_set_0']);
    const feeds = loadInputs(addCase, model);
    const { inputs } = loadTestDataSet(join(addCase, 'test_data_set_0'), model);
    expect([...feeds.keys()]).toEqual(['x', 'y']);
    for (const [name, tensor] of inputs) expect(feeds.get(name)!.equals(tensor)).toBe(true);

    const two = temporaryDir('two-sets');
    for (const set of ['test_data_set_0', 'test_data_set_1']) cpSync(join(addCase, 'test_data_set_0'), join(two, set), { recursive: true });
    expect(() => loadInputs(two, model)).toThrow(/holds 2 ONNX test data sets \(test_data_set_0, test_data_set_1\), but the inputs are one sample: give one set, e\.g\. '.*test_data_set_0'/);
    expect(loadInputs(join(two, 'test_data_set_1'), model).size).toBe(2);
    const empty = temporaryDir('no-files');
    expect(() => loadInputs(empty, model)).toThrow(/holds no \.npy or \.pb files \(expected files named after the model's inputs .*test_data_set_N/);
  });
});

describe('ORT through modelpass on a sample of ONNX node conformance cases', () => {
  // Every 8th case, so the sweep stays quick; ENVIRONMENT.md: ORT 1.30 passes 859/932 cases.
  const cases = readdirSync(CONFORMANCE).sort().filter((_, i) => i % 8 === 0);

  it('loads each case with readOnnx + loadTestDataSet, runs it and agrees with the expected outputs', async () => {
    let passed = 0;
    let failed = 0;
    const problems: string[] = [];
    for (const testCase of cases) {
      const dir = join(CONFORMANCE, testCase);
      if (!existsSync(join(dir, 'test_data_set_0'))) continue;
      const model = readOnnx(join(dir, 'model.onnx'));
      if (![...model.graph.inputs, ...model.graph.outputs].every((v) => isTensorType(v.type))) continue; // sequences, optionals
      try {
        const { inputs, outputs } = loadTestDataSet(join(dir, 'test_data_set_0'), model);
        const actual = await runner.run(join(dir, 'model.onnx'), inputs);
        const report = compareOutputs(outputs, actual, { atol: 1e-3, rtol: 1e-3 });
        if (report.withinTolerance) passed++;
        else {
          failed++;
          problems.push(`${testCase}: maxAbsError ${report.maxAbsError}`);
        }
      } catch (error) {
        // Whatever goes wrong must arrive as a ModelpassError, never a raw crash.
        expect((error as Error).name, `${testCase}: ${(error as Error).message}`).toBe('ModelpassError');
        failed++;
        problems.push(`${testCase}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    if (process.env.MODELPASS_VERBOSE) console.log({ passed, failed, problems });
    expect(passed + failed).toBeGreaterThan(80);
    expect(passed / (passed + failed), problems.join('\n')).toBeGreaterThan(0.9);
  }, 120_000);
});
