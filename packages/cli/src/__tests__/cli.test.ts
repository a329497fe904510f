import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const cnnInputs = join(repoRoot, 'fixtures/models/fashion-cnn/test_data_set_0');
const conformanceConv = '/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx';
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('modelpass inspect', () => {
  it('prints the JSON summary the issue asks for', async () => {
    const result = await runCli(['inspect', cnn, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.format).toBe('onnx');
    expect(summary.ops).toMatchObject({ Conv: 2, BatchNormalization: 2, Gemm: 2 });
    expect(summary.nodes).toBe(Object.values(summary.ops as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(summary.parameters).toBeGreaterThan(10_000);
    expect(summary.bytes).toBe(summary.parameters * 4);
    expect(summary.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 1, 28, 28] }]);
    expect(summary.outputs[0]).toMatchObject({ name: 'logits', dtype: 'float32' });
  });

  it('reads the textual IR too', async () => {
    const mpir = join(work, 'conv.mpir');
    expect((await runCli(['convert', conformanceConv, '-o', mpir])).code).toBe(0);
    const result = await runCli(['inspect', mpir, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ format: 'mpir', nodes: 1, ops: { Conv: 1 } });
  });
});

describe('modelpass convert', () => {
  it('runs a pipeline and keeps the outputs identical in ONNX Runtime', async () => {
    const out = join(work, 'cnn-optimized.onnx');
    const convert = await runCli(['convert', cnn, '-o', out, '--pipeline', 'optimize', '--statistics', '--timing']);
    expect(convert.code, convert.stderr).toBe(0);
    expect(convert.stderr).toMatch(/Pass statistics report/);
    expect(convert.stderr).toMatch(/Pass execution timing report/);
    const inspect = JSON.parse((await runCli(['inspect', out, '--json'])).stdout);
    expect(inspect.ops.BatchNormalization).toBeUndefined();
    const compare = await runCli(['compare', cnn, out, '--inputs', cnnInputs, '--json']);
    expect(compare.code, compare.stderr).toBe(0);
    const report = JSON.parse(compare.stdout);
    expect(report.maxAbsError).toBeLessThan(1e-4);
    expect(report.cosine).toBeGreaterThan(0.999999);
    expect(report.top1Agreement).toBe(1);
  });

  it('round-trips ONNX through the textual IR with identical outputs', async () => {
    const mpir = join(work, 'cnn.mpir');
    const back = join(work, 'cnn-back.onnx');
    expect((await runCli(['convert', cnn, '-o', mpir])).code).toBe(0);
    expect(readFileSync(mpir, 'utf8')).toMatch(/onnx\.Conv/);
    expect((await runCli(['convert', mpir, '-o', back])).code).toBe(0);
    const report = JSON.parse((await runCli(['compare', cnn, back, '--seed', '3', '--dim', 'N=4', '--json'])).stdout);
    expect(report.maxAbsError).toBe(0);
  });

  it('points at the column of a pipeline typo and exits 1', async () => {
    const out = join(work, 'never.onnx');
    const result = await runCli(['convert', cnn, '-o', out, '--pipeline', 'dce,canonicalise']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown pass 'canonicalise' at 1:5 — did you mean 'canonicalize'\?/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a wrongly typed option with its expected type', async () => {
    const result = await runCli(['convert', cnn, '-o', join(work, 'x.onnx'), '--pipeline', 'fold-constants{max-size=big}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/option 'max-size' of pass 'fold-constants' expects an integer ≥ 0, got 'big' at 1:25/);
  });

  it('leaves no output behind when the input is corrupt', async () => {
    const truncated = join(work, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(cnn).subarray(0, 2000));
    const out = join(work, 'truncated-out.onnx');
    const result = await runCli(['convert', truncated, '-o', out, '--pipeline', 'simplify']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/truncated\.onnx/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('truncated-out'))).toEqual([]);
  });
});

describe('exit codes of the real binary', () => {
  it('0 on success, 2 on usage errors, 1 on model errors', () => {
    expect(spawnCli(['--version']).code).toBe(0);
    const noOutput = spawnCli(['convert', cnn]);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toMatch(/needs an output file/);
    const unknownFlag = spawnCli(['inspect', cnn, '--jsn']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/did you mean '--json'/);
    const unknownCommand = spawnCli(['inspekt', cnn]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/did you mean 'inspect'/);
    writeFileSync(join(work, 'model.weird'), 'not a model');
    expect(spawnCli(['inspect', join(work, 'model.weird')]).code).toBe(2);
    const missing = spawnCli(['inspect', join(work, 'missing.onnx')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.onnx/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('modelpass passes', () => {
  it('lists every built-in pass with options as JSON', async () => {
    const result = await runCli(['passes', '--json']);
    expect(result.code).toBe(0);
    const passes = JSON.parse(result.stdout) as { name: string; options: { name: string; kind: string }[] }[];
    const names = passes.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['canonicalize', 'dce', 'cse', 'fold-constants', 'simplify', 'optimize']));
    expect(passes.find((p) => p.name === 'fold-constants')!.options).toContainEqual(expect.objectContaining({ name: 'max-size', kind: 'number' }));
  });
});

describe('crash reproducer', () => {
  it('a pass that throws leaves a reproducer that `modelpass replay` fails with the same error', async () => {
    // A plugin written as a third party would, loaded by path; it lives inside the repo so that
    // '@modelpass/pass-manager' resolves from it.
    const pluginDir = join(repoRoot, 'packages/cli/tmp', `plugin-${process.pid}`);
    mkdirSync(pluginDir, { recursive: true });
    try {
      writeFileSync(
        join(pluginDir, 'plugin.mjs'),
        `import { definePass, definePlugin } from '@modelpass/pass-manager';
export default definePlugin({
  name: 'exploding-plugin', version: '1.0.0', passManager: '^0.1.0',
  passes: [definePass({ name: 'explode', summary: 'always fails', run(model) {
    if (model.graph.nodeCount > 0) throw new Error('boom: ' + model.graph.nodeCount + ' nodes');
  } })],
});
`,
      );
      const reproducer = join(work, 'repro');
      const result = await runCli(['convert', cnn, '-o', join(work, 'boom.onnx'), '--pipeline', 'dce,explode', '--plugin', join(pluginDir, 'plugin.mjs'), '--reproducer', reproducer]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/pass 'explode' from plugin 'exploding-plugin'@1\.0\.0 failed: boom: 12 nodes/);
      expect(result.stderr).toContain(`modelpass replay ${reproducer} --allow-plugins`);
      expect(readFileSync(join(reproducer, 'README.md'), 'utf8')).toContain('--allow-plugins');
      expect(existsSync(join(reproducer, 'input.mpir'))).toBe(true);
      expect(readFileSync(join(reproducer, 'pipeline.txt'), 'utf8')).toMatch(/explode/);
      const replay = spawnCli(['replay', reproducer, '--allow-plugins']);
      expect(replay.code).toBe(1);
      expect(replay.stderr).toMatch(/pass 'explode' from plugin 'exploding-plugin'@1\.0\.0 failed: boom: 12 nodes/);
    } finally {
      rmSync(pluginDir, { recursive: true, force: true });
    }
  });

  it("a pass's own diagnosis of the user's input writes no reproducer unless --reproducer asks for one", async () => {
    const missing = join(work, 'missing-teacher.onnx');
    const pipeline = `distill{teacher=${missing} dataset=fashion-mnist:train epochs=1}`;
    const quiet = await runCli(['convert', cnn, '-o', join(work, 'never.onnx'), '--pipeline', pipeline]);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('missing-teacher.onnx');
    expect(quiet.stderr).not.toContain('reproducer');
    const asked = join(work, 'asked-repro');
    const loud = await runCli(['convert', cnn, '-o', join(work, 'never.onnx'), '--pipeline', pipeline, '--reproducer', asked]);
    expect(loud.code).toBe(1);
    expect(loud.stderr).toContain(`a reproducer was written to ${asked}`);
    expect(existsSync(join(asked, 'pipeline.txt'))).toBe(true);
    expect(existsSync(join(work, 'never.onnx'))).toBe(false);
  });

  it('rejects something that is not a plugin with a clear message', async () => {
    const notPlugin = join(work, 'not-plugin.mjs');
    writeFileSync(notPlugin, 'export default { hello: 1 };\n');
    const result = await runCli(['passes', '--plugin', notPlugin]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not a modelpass plugin/);
  });
});
