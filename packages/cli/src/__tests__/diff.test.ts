/**
 * `modelpass diff` against the statistics passes report about themselves: for `simplify` (constant
 * and shape folding, dead code) on our transformer and a real PaddleOCR model, `fuse-bn` (BN folds)
 * on the CNN and `eliminate-identity` on Silero VAD, the nodes the diff lists as removed and added,
 * the constant bytes of the two models and the fused nodes match the pass statistics exactly; on a
 * perturbed weight the intermediate-tensor comparison names the first divergent tensor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateReport, type ModelDiff, type Report } from '@modelpass/report';
import { repoRoot, runCli } from './run-cli.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-diff-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const fixture = (name: string) => join(repoRoot, 'fixtures/models', name, 'model.onnx');
const real = new Map((await ensureThirdPartyModels({ ids: ['ppocr-v4-rec', 'silero-vad-v5'] })).map((m) => [m.id, m.path] as const));

/** Runs `convert -p pipeline --statistics-json` and `diff --json --report`; returns the pass's statistics, the diff and the report. */
async function convertAndDiff(name: string, model: string, pipeline: string, diffFlags: string[] = []): Promise<{ stats: Record<string, number>; diff: ModelDiff; report: Report; code: number }> {
  const output = join(temp, `${name}.onnx`);
  const statsFile = join(temp, `${name}.stats.json`);
  const converted = await runCli(['convert', model, '-o', output, '-p', pipeline, '--statistics-json', statsFile]);
  expect(converted.code, converted.stderr).toBe(0);
  const stats = (JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, Record<string, number>>)[pipeline]!;
  const reportFile = join(temp, `${name}.report.json`);
  const diffed = await runCli(['diff', model, output, '--json', '--report', reportFile, ...diffFlags]);
  expect(diffed.code, diffed.stderr).toBe(1);
  const report = validateReport(JSON.parse(readFileSync(reportFile, 'utf8')), reportFile);
  const diff = JSON.parse(diffed.stdout) as ModelDiff;
  expect(report.diff).toEqual(diff);
  return { stats, diff, report, code: diffed.code };
}

function expectSameNodeAndByteCounts(stats: Record<string, number>, diff: ModelDiff, report: Report): void {
  expect(diff.nodes.removed.length - diff.nodes.added.length).toBe(stats['nodes-removed']);
  expect(report.models!.before.bytes - report.models!.after!.bytes).toBe(stats['bytes-saved']);
}

describe('diff of a model and its simplify output', () => {
  it.each([
    ['fashion-transformer', () => fixture('fashion-transformer')],
    ['ppocr-v4-rec', () => real.get('ppocr-v4-rec')!],
  ])('%s: removed/added nodes and constant bytes match the statistics; no intermediate tensor diverges', async (name, model) => {
    const { stats, diff, report } = await convertAndDiff(`simplify-${name}`, model(), 'simplify');
    expect(stats['nodes-removed']).toBeGreaterThan(0);
    expect(stats['nodes-folded']).toBeGreaterThan(0);
    expectSameNodeAndByteCounts(stats, diff, report);
    // Folding replaces computed inputs by constants; it never turns a constant input into a computed one.
    const kinds = diff.nodes.changed.flatMap((c) => c.inputs.filter((i) => i.afterKind !== undefined).map((i) => `${i.beforeKind}→${i.afterKind}`));
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['node→constant']));
    expect(diff.tensors!.compared).toBeGreaterThan(0);
    expect(diff.tensors!.firstDivergent).toBeUndefined();
  });
});

describe('diff and the statistics of single rewrites', () => {
  it('fuse-bn on the CNN: each BN fold is a removed BatchNormalization and a Conv with new weight and bias', async () => {
    const { stats, diff, report } = await convertAndDiff('fuse-bn', fixture('fashion-cnn'), 'fuse-bn');
    expectSameNodeAndByteCounts(stats, diff, report);
    expect(diff.nodes.removed.map((n) => n.op)).toEqual(new Array(stats['nodes-fused']).fill('BatchNormalization'));
    const convs = diff.nodes.changed.filter((c) => c.op === 'Conv');
    expect(convs).toHaveLength(stats['nodes-fused']!);
    for (const conv of convs) expect(conv.inputs.map((i) => i.index)).toEqual([1, 2]);
    expect(diff.initializers.changed.map((t) => t.name).sort()).toEqual(['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight']);
    expect(diff.initializers.removed).toHaveLength(4 * stats['nodes-fused']!);
    expect(diff.tensors!.firstDivergent).toBeUndefined();
  });

  it('eliminate-identity on Silero VAD (inside If branches too): the removed nodes are the identities it counted', async () => {
    const { stats, diff, report } = await convertAndDiff('identity', real.get('silero-vad-v5')!, 'eliminate-identity', ['--no-tensors']);
    expectSameNodeAndByteCounts(stats, diff, report);
    expect(diff.nodes.removed.map((n) => n.op)).toEqual(new Array(stats['nodes-removed']).fill('Identity'));
    expect(diff.nodes.added).toEqual([]);
    expect(diff.tensors).toBeUndefined();
  });
});

describe('modelpass diff', () => {
  it('finds nothing between a model and itself (exit 0)', async () => {
    const cnn = fixture('fashion-cnn');
    const result = await runCli(['diff', cnn, cnn]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('nodes: 12 paired (12 unchanged, 0 changed), 0 removed, 0 added');
    expect(result.stdout).toMatch(/intermediate tensors in both \(onnxruntime, random inputs, seed 0\): 12 compared, 0 outside/);
  });

  it('names the first divergent intermediate tensor of a model with one changed weight', async () => {
    const text = join(temp, 'cnn.mpir');
    expect((await runCli(['convert', fixture('fashion-cnn'), '-o', text])).code).toBe(0);
    const changed = join(temp, 'cnn-changed.mpir');
    // conv2.bias, first element, from its printed value to 1 more.
    const source = readFileSync(text, 'utf8');
    const match = /(const %conv2\.bias = tensor<float32\[32\]> \[)([-0-9.e]+)/.exec(source)!;
    writeFileSync(changed, source.replace(match[0], `${match[1]}${Number(match[2]) + 1}`));
    const result = await runCli(['diff', text, changed, '--seed', '3']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('  ~ /conv2/Conv (Conv): input 2 conv2.bias');
    expect(result.stdout).toMatch(/ {2}~ conv2\.bias float32\[32\]: max abs 1(\.0+)?, /);
    expect(result.stdout).toContain('  first divergent: /conv2/Conv_output_0 (node /conv2/Conv, Conv)');
  });

  it('refuses bad arguments with exit 2', async () => {
    const cnn = fixture('fashion-cnn');
    expect((await runCli(['diff', cnn])).code).toBe(2);
    expect((await runCli(['diff', cnn, cnn, '--inputs', temp, '--seed', '1'])).stderr).toMatch(/with --inputs the files give them/);
    const missing = await runCli(['diff', cnn, join(temp, 'nope.onnx')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.onnx/);
  });
});
