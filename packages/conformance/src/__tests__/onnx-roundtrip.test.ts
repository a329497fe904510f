// Every ONNX conformance case goes through modelpass (import → export); ONNX Runtime must give
// bit-identical outputs on the original and the exported file, and ONNX's checker must accept every
// exported file whose original it accepts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import type * as ort from 'onnxruntime-node';
import {
  listOnnxConformanceCases,
  loadOnnxCaseValues,
  onnxCaseDataFiles,
  ortOutputsIdentical,
  runOnnxChecker,
  runOrtOnce,
  toOrtValue,
  type OnnxConformanceCase,
  type OrtOutput,
} from '@modelpass/conformance';

const outDir = mkdtempSync(join(tmpdir(), 'modelpass-onnx-roundtrip-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

interface CaseResult {
  readonly testCase: OnnxConformanceCase;
  readonly exported: string;
}

function sameOutputs(a: Record<string, OrtOutput>, b: Record<string, OrtOutput>): string | undefined {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return `output count ${names.length} vs ${Object.keys(b).length}`;
  for (const name of names) {
    const other = b[name];
    if (!other) return `output '${name}' missing after round trip`;
    if (!ortOutputsIdentical(a[name]!, other)) return `output '${name}' differs`;
  }
  return undefined;
}

describe('ONNX conformance round trip', () => {
  const cases = listOnnxConformanceCases();
  const exportedCases: CaseResult[] = [];

  test('every case imports and exports', () => {
    const failures: string[] = [];
    for (const testCase of cases) {
      const exported = join(outDir, `${testCase.suite}__${testCase.name}.onnx`);
      try {
        writeOnnx(readOnnx(testCase.modelPath), exported);
        exportedCases.push({ testCase, exported });
      } catch (error) {
        failures.push(`${testCase.suite}/${testCase.name}: ${(error as Error).message}`);
      }
    }
    console.log(`onnx round trip: ${cases.length} cases, ${exportedCases.length} exported`);
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(1000);
  });

  test('ONNX Runtime gives identical outputs on original and exported files', async () => {
    let runnable = 0;
    let identical = 0;
    let nondeterministic = 0;
    const mismatches: string[] = [];
    for (const { testCase, exported } of exportedCases) {
      let feeds: Record<string, ort.Tensor>;
      let original: Record<string, OrtOutput>;
      try {
        const model = readOnnx(testCase.modelPath);
        const inputs = model.graph.inputs.filter((value) => !value.constant && !value.sparseConstant);
        const files = onnxCaseDataFiles(testCase, 'input');
        const values = loadOnnxCaseValues(files, inputs.map((value) => value.type));
        feeds = {};
        values.forEach((value, index) => (feeds[inputs[index]!.name] = toOrtValue(value)));
        original = await runOrtOnce(testCase.modelPath, feeds);
      } catch {
        continue; // ORT cannot run the original (dropped op, unsupported type, non-tensor input...)
      }
      runnable++;
      let roundTripped: Record<string, OrtOutput>;
      try {
        roundTripped = await runOrtOnce(exported, feeds);
      } catch (error) {
        mismatches.push(`${testCase.suite}/${testCase.name}: exported file fails in ORT: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      const difference = sameOutputs(original, roundTripped);
      if (difference === undefined) {
        identical++;
        continue;
      }
      // Random ops: ORT must disagree with itself on the original for the case not to count.
      const again = await runOrtOnce(testCase.modelPath, feeds);
      if (sameOutputs(original, again) !== undefined) {
        nondeterministic++;
        continue;
      }
      mismatches.push(`${testCase.suite}/${testCase.name}: ${difference}`);
    }
    console.log(
      `onnx round trip in ORT: ${exportedCases.length} cases, ${runnable} ORT-runnable, ${identical} identical, ` +
        `${nondeterministic} nondeterministic (random ops), ${mismatches.length} mismatched`,
    );
    expect(mismatches).toEqual([]);
    expect(runnable).toBeGreaterThan(800);
    expect(identical + nondeterministic).toBe(runnable);
  }, 600_000);

  test('ONNX checker accepts every exported file whose original it accepts', () => {
    const originals = exportedCases.map((c) => c.testCase.modelPath);
    const exported = exportedCases.map((c) => c.exported);
    const verdicts = runOnnxChecker([...originals, ...exported]);
    let originalAccepted = 0;
    let exportedAccepted = 0;
    const rejected: string[] = [];
    for (const { testCase, exported: path } of exportedCases) {
      if (verdicts.get(testCase.modelPath) !== null) continue;
      originalAccepted++;
      const verdict = verdicts.get(path);
      if (verdict === null) exportedAccepted++;
      else rejected.push(`${testCase.suite}/${testCase.name}: ${verdict}`);
    }
    console.log(`onnx checker: ${originalAccepted} originals accepted, ${exportedAccepted} exported accepted`);
    expect(rejected).toEqual([]);
    expect(originalAccepted).toBeGreaterThan(800);
  }, 300_000);
});
