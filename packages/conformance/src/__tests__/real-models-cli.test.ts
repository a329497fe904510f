// The built `modelpass` command on real models, as a user runs it: `modelpass convert <model> -o
// out.onnx`, then `modelpass compare <model> out.onnx --json`, which runs both in ONNX Runtime on
// the same inputs. A plain conversion must give identical outputs (max abs error 0). The CLI is
// spawned from packages/cli/dist (nx builds it first: this project's test target depends on ^build).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { writeNpy } from '@modelpass/runtime';
import { REPO_ROOT, realModelFeeds, thirdPartyOnnxModels, type RealOnnxModel } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const workDir = mkdtempSync(join(tmpdir(), 'modelpass-real-cli-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const models = new Map(
  thirdPartyOnnxModels(await ensureThirdPartyModels({ ids: ['blazeface-front-128', 'silero-vad-v5'] })).map((m) => [m.id, m] as const),
);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function modelpass(args: readonly string[]): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx nx run-many -t build)`);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: workDir, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

interface CompareJson {
  maxAbsError: number;
  withinTolerance: boolean;
  missingOutputs: string[];
  perOutput: { name: string; maxAbsError: number; shapeMatch: boolean; dtypeMatch: boolean; present: boolean }[];
}

async function convertAndCompare(model: RealOnnxModel, compareFlags: readonly string[]): Promise<CompareJson> {
  const out = join(workDir, `${model.id}.onnx`);
  const converted = await modelpass(['convert', model.path, '-o', out]);
  expect(converted.code, `convert failed: ${converted.stderr}`).toBe(0);
  expect(statSync(out).size).toBeGreaterThan(0);
  const compared = await modelpass(['compare', model.path, out, '--json', ...compareFlags]);
  expect(compared.code, `compare failed: ${compared.stderr}`).toBe(0);
  const report = JSON.parse(compared.stdout) as CompareJson;
  const outputs = readOnnx(model.path).graph.outputs.map((o) => o.name);
  expect(report.perOutput.map((o) => o.name).sort()).toEqual([...outputs].sort());
  expect(report.missingOutputs).toEqual([]);
  for (const output of report.perOutput) expect(output.present && output.shapeMatch && output.dtypeMatch, output.name).toBe(true);
  return report;
}

describe('modelpass convert + compare on real models', () => {
  test('blazeface-front-128 (NHWC, tf2onnx names with ":"): seeded random inputs, identical outputs', async () => {
    const report = await convertAndCompare(models.get('blazeface-front-128')!, ['--seed', '7']);
    console.log(`cli blazeface-front-128: max abs error ${report.maxAbsError} over ${report.perOutput.length} outputs`);
    expect(report.maxAbsError).toBe(0);
    expect(report.withinTolerance).toBe(true);
  }, 60_000);

  test('silero-vad-v5 (nested If subgraphs): manifest inputs given as .npy files, identical outputs', async () => {
    const model = models.get('silero-vad-v5')!;
    const inputsDir = join(workDir, 'silero-inputs');
    mkdirSync(inputsDir);
    for (const [name, tensor] of realModelFeeds(model, readOnnx(model.path), 0)) writeNpy(tensor, join(inputsDir, `${name}.npy`));
    const report = await convertAndCompare(model, ['--inputs', inputsDir]);
    console.log(`cli silero-vad-v5: max abs error ${report.maxAbsError} over ${report.perOutput.length} outputs`);
    expect(report.maxAbsError).toBe(0);
    expect(report.withinTolerance).toBe(true);
  }, 60_000);

  test('a wrong input file is a clear error with exit code 1, and no output file is left behind', async () => {
    const bogus = join(workDir, 'not-a-model.onnx');
    const out = join(workDir, 'never-written.onnx');
    writeFileSync(bogus, readFileSync(models.get('blazeface-front-128')!.path).subarray(0, 1000)); // truncated
    const result = await modelpass(['convert', bogus, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not-a-model.onnx');
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
