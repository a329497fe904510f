import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Type } from '@modelpass/ir';
import { decodeOnnxDataValue, type OnnxDataValue } from '@modelpass/onnx';

/** Where Debian's libonnx-testdata puts ONNX's conformance suite. */
export const ONNX_TESTDATA_ROOT = '/usr/share/libonnx-testdata/data';
export const ONNX_CONFORMANCE_SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;
export type OnnxConformanceSuite = (typeof ONNX_CONFORMANCE_SUITES)[number];

export interface OnnxConformanceCase {
  readonly suite: OnnxConformanceSuite;
  readonly name: string;
  readonly dir: string;
  readonly modelPath: string;
}

/**
 * Every case of the conformance suites (a folder with `model.onnx`), sorted. Throws, never returns
 * an empty list, when the data is not installed: a test that needs it must fail, not skip.
 */
export function listOnnxConformanceCases(root = ONNX_TESTDATA_ROOT): OnnxConformanceCase[] {
  if (!existsSync(root)) {
    throw new Error(`ONNX conformance data not found at ${root}: run tools/setup.sh (installs Debian's libonnx-testdata)`);
  }
  const cases: OnnxConformanceCase[] = [];
  for (const suite of ONNX_CONFORMANCE_SUITES) {
    const suiteDir = join(root, suite);
    if (!existsSync(suiteDir)) throw new Error(`ONNX conformance suite '${suite}' missing under ${root}: run tools/setup.sh`);
    for (const name of readdirSync(suiteDir).sort()) {
      const dir = join(suiteDir, name);
      const modelPath = join(dir, 'model.onnx');
      if (existsSync(modelPath)) cases.push({ suite, name, dir, modelPath });
    }
  }
  if (cases.length === 0) throw new Error(`no ONNX conformance cases under ${root}: run tools/setup.sh`);
  return cases;
}

/** The numbered files `input_N.pb` / `output_N.pb` of a case's first data set, in order. */
export function onnxCaseDataFiles(testCase: OnnxConformanceCase, kind: 'input' | 'output', dataSet = 0): string[] {
  const dir = join(testCase.dir, `test_data_set_${dataSet}`);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((file) => /^(input|output)_(\d+)\.pb$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null && match[1] === kind)
    .sort((a, b) => Number(a[2]) - Number(b[2]))
    .map((match) => join(dir, match[0]));
}

/**
 * Loads a case's data files, decoding each as the message its value's type calls for
 * (`types[i]` for file i; tensors when the type is unknown).
 */
export function loadOnnxCaseValues(files: readonly string[], types: readonly Type[]): OnnxDataValue[] {
  return files.map((file, index) => decodeOnnxDataValue(readFileSync(file), types[index] ?? { kind: 'unknown' }, { file }));
}
