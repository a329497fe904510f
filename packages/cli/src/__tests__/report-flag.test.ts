/**
 * `--report FILE` on convert, compare and eval: the file is a valid version 1 report (checked
 * against the shipped JSON Schema) holding what the command measured — the figures are compared
 * with the command's own JSON output and with the models — and `.html` gives the self-contained page.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateReport, type Report } from '@modelpass/report';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-report-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const readReport = (path: string): Report => validateReport(JSON.parse(readFileSync(path, 'utf8')), path);

describe('--report', () => {
  it('convert: passes with options, time and statistics; models before/after; per-layer quantization', async () => {
    const output = join(temp, 'q.onnx');
    const report = join(temp, 'convert.json');
    // min-conv-reduction=0: conv1 (1 input channel) would otherwise stay float by quantize-static's cost rule.
    const pipeline = 'simplify,quantize-static{samples=32 min-conv-reduction=0}';
    const result = await runCli(['convert', cnn, '-o', output, '-p', pipeline, '--report', report, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = readReport(report);
    const summary = JSON.parse(result.stdout) as { passes: { name: string; statistics: Record<string, number> }[]; after: { nodes: number; bytes: number } };
    expect(json.command).toBe('convert');
    expect(json.pipeline).toMatch(/^simplify\{.*\},quantize-static\{.*samples=32.*\}$/);
    expect(json.passes.map((p) => p.name)).toEqual(['simplify', 'quantize-static']);
    expect(json.passes[1]!.options['samples']).toBe(32);
    expect(json.passes[1]!.statistics).toEqual(summary.passes.find((p) => p.name === 'quantize-static')!.statistics);
    expect(json.models!.after!.nodes).toBe(summary.after.nodes);
    expect(json.models!.after!.bytes).toBe(summary.after.bytes);
    expect(json.models!.after!.fileBytes).toBe(statSync(output).size);
    expect(json.models!.after!.bytesByDtype['int8']).toBeGreaterThan(0);
    const convs = json.layers.filter((l) => l.op === 'Conv');
    expect(convs).toHaveLength(2);
    for (const layer of convs) {
      expect(layer.quantization).toMatchObject({ dtype: 'int8', bits: 8, axis: 0 });
      expect(layer.quantization!.scaleCount).toBe(layer.weightShape![0]);
      // quantize-static folded each BatchNormalization into its Conv first: the original weight is not what was quantized.
      expect(layer.quantization!.sqnrDb).toBeUndefined();
    }
  });

  it('convert: the SQNR and cosine of int8 weights against the float weights they were quantized from', async () => {
    const report = join(temp, 'mlp.json');
    const result = await runCli(['convert', join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx'), '-o', join(temp, 'mlp.onnx'), '-p', 'quantize-static{samples=32}', '--report', report]);
    expect(result.code, result.stderr).toBe(0);
    const gemms = readReport(report).layers.filter((l) => l.quantization);
    expect(gemms.length).toBeGreaterThan(0);
    for (const layer of gemms) {
      // Per-channel int8 of trained weights: well above 30 dB, cosine ~1.
      expect(layer.quantization!.sqnrDb as number).toBeGreaterThan(30);
      expect(layer.quantization!.cosine).toBeGreaterThan(0.999);
    }
  });

  it('convert: FILE.html is the self-contained page of the same report', async () => {
    const html = join(temp, 'convert.html');
    const result = await runCli(['convert', cnn, '-o', join(temp, 'h.onnx'), '-p', 'optimize', '--report', html]);
    expect(result.code, result.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page.slice(0, 200).toLowerCase()).toContain('<!doctype html');
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    expect(statSync(html).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('convert: accuracy before/after with --check-dataset, latency before/after with --latency', async () => {
    const report = join(temp, 'measured.json');
    const result = await runCli(['convert', cnn, '-o', join(temp, 'm.onnx'), '-p', 'optimize', '--check', '--check-dataset', 'fashion-mnist:test', '--check-samples', '200', '--latency=5', '--report', report]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/latency \(onnxruntime, median of 5\): [\d.]+ ms → [\d.]+ ms/);
    const json = readReport(report);
    expect(json.accuracy!.before).toMatchObject({ samples: 200, dataset: 'fashion-mnist:test' });
    // BN folding keeps every prediction: the same accuracy on the same samples.
    expect(json.accuracy!.after!.top1).toBe(json.accuracy!.before!.top1);
    expect(json.latency!.before).toMatchObject({ runs: 5, batch: 1, engine: 'onnxruntime' });
    expect(json.latency!.after!.medianMs).toBeGreaterThan(0);
    expect((await runCli(['convert', cnn, '-o', join(temp, 'm.onnx'), '-p', 'optimize', '--latency'])).stderr).toMatch(/--latency measures for the report: give --report FILE/);
  });

  it('compare: both models and the output comparison', async () => {
    const optimized = join(temp, 'opt.onnx');
    expect((await runCli(['convert', cnn, '-o', optimized, '-p', 'optimize'])).code).toBe(0);
    const report = join(temp, 'compare.json');
    const result = await runCli(['compare', cnn, optimized, '--json', '--report', report]);
    expect(result.code, result.stderr).toBe(0);
    const json = readReport(report);
    const verdict = JSON.parse(result.stdout) as { maxAbsError: number; perOutput: { name: string; maxAbsError: number }[] };
    expect(json.command).toBe('compare');
    expect(json.inputs.map((i) => i.role)).toEqual(['reference', 'candidate']);
    expect(json.comparison!.withinTolerance).toBe(true);
    expect(json.comparison!.outputs.map((o) => [o.name, o.maxAbsError])).toEqual(verdict.perOutput.map((o) => [o.name, o.maxAbsError]));
    expect(json.models!.before.nodesByOp['BatchNormalization']).toBe(2);
    expect(json.models!.after!.nodesByOp['BatchNormalization']).toBeUndefined();
  });

  it('eval: the accuracy it printed, on the samples it used', async () => {
    const report = join(temp, 'eval.json');
    const result = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--limit', '300', '--json', '--report', report]);
    expect(result.code, result.stderr).toBe(0);
    const json = readReport(report);
    const printed = JSON.parse(result.stdout) as { accuracy: number; total: number };
    expect(json.accuracy!.before).toEqual({ top1: printed.accuracy, samples: 300, dataset: 'fashion-mnist:test' });
    expect(json.models!.before.parameters).toBe(106058);
    expect(json.layers.map((l) => l.node)).toEqual(['/conv1/Conv', '/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm']);
  });

  it('inspect: the model summary and its layers, in the same schema', async () => {
    const report = join(temp, 'inspect.json');
    const result = await runCli(['inspect', cnn, '--json', '--report', report]);
    expect(result.code, result.stderr).toBe(0);
    const json = readReport(report);
    const printed = JSON.parse(result.stdout) as { parameters: number };
    expect(json.command).toBe('inspect');
    expect(json.models!.before.parameters).toBe(printed.parameters);
    expect(json.layers.map((l) => l.node)).toEqual(['/conv1/Conv', '/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm']);
  });

  it('refuses a report path in a missing folder before doing any work', async () => {
    const result = await runCli(['eval', cnn, '--dataset', 'fashion-mnist:test', '--report', join(temp, 'missing', 'r.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot write report file .*its folder .* does not exist/);
  });
});
