// Issue 7's "done when": the two authoring passes (authoring/compression-plugin.ts, written only
// against the documented API) as a plain .mjs plugin file in an empty folder outside the repo,
// loaded by the built `modelpass` CLI with --plugin, run with verify-each on the Fashion-MNIST CNN,
// written as ONNX and evaluated in ONNX Runtime by `modelpass eval` on real test images.
// The .mjs is the TypeScript source with its types stripped by TypeScript itself: the same code.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, test } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { REPO_ROOT } from '@modelpass/conformance';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const CNN = join(REPO_ROOT, 'fixtures', 'models', 'fashion-cnn', 'model.onnx');
const outside = mkdtempSync(join(tmpdir(), 'modelpass-stranger-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

async function modelpass(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx nx run-many -t build)`);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: outside, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

describe('the authoring passes as a stranger\'s plugin file outside the repo', () => {
  test('int8 weights and L1 channel removal load with --plugin, pass verify-each and keep accuracy in ONNX Runtime', async () => {
    const source = readFileSync(fileURLToPath(new URL('./authoring/compression-plugin.ts', import.meta.url)), 'utf8');
    const plain = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    expect(plain).toContain("from '@modelpass/ir'");
    writeFileSync(join(outside, 'compression-plugin.mjs'), plain);

    const quantized = join(outside, 'cnn-int8.onnx');
    const convert = await modelpass(['convert', CNN, '-o', quantized, '--plugin', './compression-plugin.mjs', '--pipeline', 'int8-weights', '--statistics']);
    expect(convert.stderr + convert.stdout).toMatch(/weights-quantized/);
    expect(convert.code, convert.stderr).toBe(0);
    const ops = readOnnx(quantized).graph.nodeList().map((node) => node.op);
    expect(ops.filter((op) => op === 'onnx.DequantizeLinear').length).toBe(4);

    const pruned = join(outside, 'cnn-pruned.onnx');
    const prune = await modelpass(['convert', CNN, '-o', pruned, '--plugin', './compression-plugin.mjs', '--pipeline', 'prune-channels-l1{ratio=0.25}']);
    expect(prune.code, prune.stderr).toBe(0);

    const accuracy = async (model: string): Promise<number> => {
      const result = await modelpass(['eval', model, '--dataset', 'fashion-mnist:test', '--limit', '1000', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { accuracy: number }).accuracy;
    };
    const [original, int8, channels] = [await accuracy(CNN), await accuracy(quantized), await accuracy(pruned)];
    console.log(`fashion-cnn on 1,000 test images: fp32 ${original}, int8 weights ${int8}, 25% channels removed ${channels}`);
    expect(Math.abs(int8 - original)).toBeLessThanOrEqual(0.01);
    expect(channels).toBeGreaterThan(0.5);
  }, 180_000);
});
