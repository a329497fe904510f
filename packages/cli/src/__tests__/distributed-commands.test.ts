/**
 * `modelpass batch`, `worker`, and `--redis`/`--shards` on eval and convert, against real models,
 * a real redis-server and real `modelpass worker` processes; outputs checked by ONNX Runtime.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisWorkers, type RedisWorkers, type WorkerProcess } from './redis-workers-fixture.js';
import { repoRoot, runCli } from './run-cli.js';

const CONFORMANCE = '/usr/share/libonnx-testdata/data/pytorch-converted';
// Cases ONNX Runtime 1.30 still loads (it dropped the opset-6 kernels some older cases use).
const CONFORMANCE_MODELS = ['test_ConstantPad2d', 'test_Conv1d', 'test_Conv2d_depthwise', 'test_Conv3d', 'test_ConvTranspose2d', 'test_ELU', 'test_Embedding', 'test_LeakyReLU', 'test_Linear_no_bias', 'test_MaxPool2d', 'test_PixelShuffle', 'test_ReflectionPad2d', 'test_Softmin'];
const FIXTURES = ['fashion-cnn', 'fashion-mlp', 'fashion-resnet', 'fashion-transformer', 'fashion-transformer-opset17'];
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

/** A folder of 18 real models (the fixtures and ONNX's pytorch-converted cases) and one corrupt file. */
function makeZoo(): string {
  const zoo = mkdtempSync(join(tmpdir(), 'zoo-'));
  for (const name of FIXTURES) copyFileSync(join(repoRoot, 'fixtures/models', name, 'model.onnx'), join(zoo, `${name}.onnx`));
  for (const name of CONFORMANCE_MODELS) copyFileSync(join(CONFORMANCE, name, 'model.onnx'), join(zoo, `${name}.onnx`));
  // The first bytes of a real model, cut off in the middle of its graph.
  writeFileSync(join(zoo, 'truncated.onnx'), readFileSync(cnn).subarray(0, 4000));
  return zoo;
}

async function expectBatchResult(zoo: string, out: string, result: { code: number; stdout: string }): Promise<void> {
  expect(result.code).toBe(1);
  const good = [...FIXTURES, ...CONFORMANCE_MODELS];
  expect(result.stdout).toContain(`${good.length} of ${good.length + 1} models converted, 1 failed`);
  expect(result.stdout).toMatch(/truncated\.onnx\s+FAILED[\s\S]*reason: .*truncated\.onnx.*(truncated|corrupt)/);
  for (const name of good) {
    const session = await ort.InferenceSession.create(join(out, `${name}.onnx`), { logSeverityLevel: 3 });
    expect(session.inputNames.length).toBeGreaterThan(0);
    await session.release();
  }
  // Nothing of the failed model, and no temporary file, is left in the output folder.
  expect(readdirSync(out).sort()).toEqual(good.map((n) => `${n}.onnx`).sort());
  expect(existsSync(join(zoo, 'truncated.onnx'))).toBe(true);
}

/** The --report JSON of a zoo batch: every model with its status, output, sizes and timings; the corrupt one with its error. */
function expectBatchReport(reportFile: string, zoo: string, out: string, backend: RegExp): void {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const good = [...FIXTURES, ...CONFORMANCE_MODELS];
  expect(report).toMatchObject({ schema: 'modelpass-batch-report/1', pipeline: 'simplify', summary: { models: good.length + 1, converted: good.length, failed: 1 } });
  expect(report.backend).toMatch(backend);
  expect(Date.parse(report.finishedAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
  expect(report.seconds).toBeGreaterThan(0);
  for (const model of report.models) {
    const name = model.input.slice(zoo.length + 1);
    expect(model.inputBytes).toBe(statSync(model.input).size);
    expect(model.seconds).toBeGreaterThanOrEqual(0);
    expect(model.worker).toMatch(/:\d+$/);
    if (name === 'truncated.onnx') {
      expect(model).toMatchObject({ status: 'failed', output: null, outputBytes: null, nodesBefore: null });
      expect(model.error).toMatch(/truncated\.onnx.*(truncated|corrupt)/);
    } else {
      expect(model).toMatchObject({ status: 'converted', output: join(out, name), outputBytes: statSync(join(out, name)).size, error: null });
      expect(model.nodesAfter).toBeGreaterThan(0);
    }
  }
}

describe('modelpass batch (in this process)', () => {
  it('converts every good model of a zoo, reports the corrupt one with its error, exit 1; --report FILE.json', async () => {
    const zoo = makeZoo();
    const out = mkdtempSync(join(tmpdir(), 'out-'));
    const reportFile = join(mkdtempSync(join(tmpdir(), 'report-')), 'batch.json');
    const result = await runCli(['batch', '--pipeline', 'simplify', zoo, '-o', out, '--report', reportFile]);
    await expectBatchResult(zoo, out, result);
    expectBatchReport(reportFile, zoo, out, /in-process|embedded|this process/);
    // A report kind it cannot write is refused before anything is converted.
    const refused = await runCli(['batch', '--pipeline', 'simplify', cnn, '-o', mkdtempSync(join(tmpdir(), 'out-')), '--report', join(tmpdir(), 'batch.csv')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--report '.*batch\.csv': the report is written as \.json or \.html/);
  });

  it('refuses a pipeline typo and a missing output folder before converting anything', async () => {
    const typo = await runCli(['batch', '--pipeline', 'simplfy', cnn, '-o', tmpdir()]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/simplfy.*did you mean 'simplify'/);
    const missing = await runCli(['batch', '--pipeline', 'simplify', cnn, '-o', join(tmpdir(), 'no-such-folder')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-folder' does not exist/);
    const noInput = await runCli(['batch', '--pipeline', 'simplify', join(tmpdir(), 'no-such-models'), '-o', mkdtempSync(join(tmpdir(), 'batch-out-'))]);
    expect(noInput.code).not.toBe(0);
    expect(noInput.stdout + noInput.stderr).toMatch(/no-such-models' does not exist/);
    expect(noInput.stdout + noInput.stderr).not.toMatch(/cannot tell the format/);
  });
});

describe('--redis: modelpass worker processes on a real redis-server', () => {
  let cluster: RedisWorkers | undefined;
  let url = '';
  let workers: WorkerProcess[] = [];
  const queue = 'cli-test';

  beforeAll(async () => {
    cluster = await startRedisWorkers(2, queue);
    ({ url, workers } = cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('batch --redis converts on the workers with the same outcomes', async () => {
    const zoo = makeZoo();
    const out = mkdtempSync(join(tmpdir(), 'out-'));
    const reports = mkdtempSync(join(tmpdir(), 'report-'));
    const result = await runCli(['batch', '--pipeline', 'simplify', zoo, '-o', out, '--redis', url, '--queue', queue, '--report', join(reports, 'batch.json')]);
    await expectBatchResult(zoo, out, result);
    expectBatchReport(join(reports, 'batch.json'), zoo, out, /bullmq/);
    // The same batch as an HTML page: one row per model, the failure's reason escaped in its row.
    const again = await runCli(['batch', '--pipeline', 'simplify', join(zoo, 'truncated.onnx'), cnn, '-o', mkdtempSync(join(tmpdir(), 'out-')), '--redis', url, '--queue', queue, '--report', join(reports, 'batch.html')]);
    expect(again.code).toBe(1);
    const html = readFileSync(join(reports, 'batch.html'), 'utf8');
    expect(html).toMatch(/<h1>modelpass batch: 1 of 2 models converted, 1 failed<\/h1>/);
    expect(html.match(/<tr class="(converted|failed)">/g)).toEqual(['<tr class="failed">', '<tr class="converted">']);
    expect(html).not.toMatch(/<script/);
    expect(workers.map((w) => (w.log.match(/convert finished/g) ?? []).length).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(19);
  });

  it('eval --redis gives the accuracy of eval', async () => {
    const single = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--limit', '1500', '--json']);
    const sharded = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--limit', '1500', '--json', '--redis', url, '--queue', queue, '--shards', '3']);
    expect(sharded.code).toBe(0);
    expect(sharded.stderr).toMatch(/3 shards on bullmq/);
    const a = JSON.parse(single.stdout);
    const b = JSON.parse(sharded.stdout);
    expect([b.correct, b.total, b.accuracy]).toEqual([a.correct, a.total, a.accuracy]);
    expect(b.perClass).toEqual(a.perClass);
  });

  it('convert --redis shards quantize-static calibration and writes the same bytes as convert', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'q-'));
    const pipeline = 'quantize-static{calibration=percentile dataset=fashion-mnist:train samples=384}';
    const single = await runCli(['convert', cnn, '-o', join(folder, 'single.onnx'), '--pipeline', pipeline]);
    const sharded = await runCli(['convert', cnn, '-o', join(folder, 'sharded.onnx'), '--pipeline', pipeline, '--redis', url, '--queue', queue, '--shards', '3']);
    expect([single.code, sharded.code]).toEqual([0, 0]);
    expect(readFileSync(join(folder, 'sharded.onnx')).equals(readFileSync(join(folder, 'single.onnx')))).toBe(true);
    expect(workers.some((w) => /calibrate-shard finished/.test(w.log))).toBe(true);
  });

  it('a Redis URL nobody answers is an error naming it, not a hang', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const result = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--limit', '10', '--redis', dead]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no Redis server answers at ${dead}`);
  });
});
