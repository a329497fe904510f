// The verifier's type checks never reject a model that ONNX Runtime runs: every ONNX conformance
// case and every real model of the corpus is verified with the canonical op set, as imported and
// again after inferShapes has typed every value (so each node's declared output types meet its
// inference and its type constraints); a case with verifier errors must be one ORT refuses too
// (it fails to load or to run on the case's own data). Every .mpir model fixture (pass goldens,
// examples, templates) must verify clean too.
import { afterAll, describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDiagnostic, parseModel, verifyModel, type Diagnostic, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import type * as ort from 'onnxruntime-node';
import {
  listOnnxConformanceCases,
  loadOnnxCaseValues,
  onnxCaseDataFiles,
  projectOnnxModels,
  REPO_ROOT,
  runOrtOnce,
  thirdPartyOnnxModels,
  toOrtValue,
  type OnnxConformanceCase,
} from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const registry = createOpRegistry();

/** The verifier's diagnostics on the model as imported, then after inferShapes typed its values. */
function verifyAsImportedAndInferred(model: Model): Diagnostic[] {
  const asImported = verifyModel(model, { registry, unknownOps: 'ignore' });
  inferShapes(model, registry);
  return [...asImported, ...verifyModel(model, { registry, unknownOps: 'ignore' })];
}

function verifierErrors(model: Model): Diagnostic[] {
  return verifyAsImportedAndInferred(model).filter((d) => d.severity === 'error');
}

/** Why ORT refuses the case's model on its own data, or undefined when it runs. */
async function ortRefusal(testCase: OnnxConformanceCase, model: Model): Promise<string | undefined> {
  try {
    const inputs = model.graph.inputs.filter((value) => !value.constant && !value.sparseConstant);
    const values = loadOnnxCaseValues(onnxCaseDataFiles(testCase, 'input'), inputs.map((value) => value.type));
    const feeds: Record<string, ort.Tensor> = {};
    values.forEach((value, index) => (feeds[inputs[index]!.name] = toOrtValue(value)));
    await runOrtOnce(testCase.modelPath, feeds);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

const summary: string[] = [];
afterAll(() => console.log(summary.join('\n')));

describe('verifier on the conformance corpus', () => {
  test('no case that ONNX Runtime runs has a verifier error', async () => {
    const cases = listOnnxConformanceCases();
    const falseRejections: string[] = [];
    let rejected = 0;
    let warned = 0;
    for (const testCase of cases) {
      const diagnostics = verifyAsImportedAndInferred(readOnnx(testCase.modelPath));
      if (diagnostics.some((d) => d.severity === 'warning')) warned++;
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length === 0) continue;
      rejected++;
      const refusal = await ortRefusal(testCase, readOnnx(testCase.modelPath));
      if (refusal === undefined) falseRejections.push(`${testCase.suite}/${testCase.name}: ${errors.map((d) => formatDiagnostic(d)).join(' | ')}`);
      else summary.push(`rejected, ORT refuses too: ${testCase.suite}/${testCase.name}: ${formatDiagnostic(errors[0]!)} — ORT: ${refusal}`);
    }
    summary.push(`verifier corpus: ${cases.length} cases, ${rejected} rejected (ORT refuses each), ${warned} with warnings`);
    expect(falseRejections).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(1000);
  }, 600_000);

  test('every real model (third-party and project fixtures) verifies without errors', async () => {
    const corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()];
    const failures: string[] = [];
    for (const entry of corpus) {
      const errors = verifierErrors(readOnnx(entry.path));
      if (errors.length > 0) failures.push(`${entry.id}: ${errors.slice(0, 5).map((d) => formatDiagnostic(d)).join(' | ')}`);
    }
    summary.push(`verifier real models: ${corpus.length} models verified`);
    expect(failures).toEqual([]);
    expect(corpus.length).toBeGreaterThanOrEqual(10);
  }, 600_000);

  test('every .mpir fixture of the repository (pass goldens, examples, templates) verifies without errors', () => {
    const files = mpirFixtures(REPO_ROOT);
    const failures: string[] = [];
    for (const file of files) {
      const model = parseModel(readFileSync(file, 'utf8'), { file });
      const errors = verifyModel(model, { registry, unknownOps: 'ignore' }).filter((d) => d.severity === 'error');
      if (errors.length > 0) failures.push(`${relative(REPO_ROOT, file)}: ${errors.map((d) => formatDiagnostic(d)).join(' | ')}`);
    }
    summary.push(`verifier .mpir fixtures: ${files.length} files verified`);
    expect(failures).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(50);
  });
});

/**
 * Every .mpir model fixture under packages/ and examples/ (folders named fixtures or templates,
 * outside node_modules and dist); the ir's own syntax fixtures under __tests__ spell type-invalid
 * IR on purpose and are left out.
 */
function mpirFixtures(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === '__tests__' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.mpir') && /[/\\](fixtures|templates)[/\\]/.test(path)) found.push(path);
    }
  };
  for (const top of ['packages', 'examples']) walk(join(root, top));
  return found.sort();
}
