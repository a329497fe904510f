/**
 * The numeric guarantee of @modelpass/transforms: every pass, and simplify/optimize, leaves the
 * outputs of real models unchanged in ONNX Runtime (float outputs within rounding:
 * max |a − b| ≤ 1e-5 · max(1, max |a|); integer and bool outputs exact).
 *
 * Corpus: project fixtures (fixtures/models/*), third-party ONNX models from npm packages, and the
 * ONNX node conformance cases that ORT runs. A pass that changes nothing (it returns preserveAll)
 * is not re-run in ORT.
 *
 * Size: on every real model (fixtures and third-party), the file `simplify` writes may not be
 * larger than the input file by more than 1% (fold-constants' growth budget keeps it so).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { fromOrtTensor, readTensorFile, toOrtTensor } from '@modelpass/runtime';
import type { OptionSpecs, Pass, PassContext } from '@modelpass/pass-manager';
import { materializeQdq, transformPasses } from '@modelpass/transforms';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const NODE_CASES = '/usr/share/libonnx-testdata/data/node';
const SESSION = { logSeverityLevel: 4 as const, graphOptimizationLevel: 'disabled' as const };

interface Case {
  id: string;
  kind: 'fixture' | 'third-party' | 'conformance';
  bytes: Uint8Array;
  feeds: Map<string, Tensor>;
}

interface Figures {
  models: number;
  skipped: string[];
  runs: number;
  changed: number;
  checkedInOrt: number;
  nodesRemoved: number;
  byPass: Map<string, { changed: number; nodesRemoved: number }>;
  failures: string[];
  /** `id: before → after bytes` of the file simplify writes, for real models. */
  simplifySizes: string[];
}

const figures: Figures = { models: 0, skipped: [], runs: 0, changed: 0, checkedInOrt: 0, nodesRemoved: 0, byPass: new Map(), failures: [], simplifySizes: [] };

/** The file simplify writes may exceed the input file by at most this fraction. */
const SIZE_SLACK = 0.01;

/** materialize-qdq as the untyped pass the loop below runs. */
const MATERIALIZE_QDQ = transformPasses.find((pass) => pass.name === materializeQdq.name)!;

function hasQuantTypes(model: Model): boolean {
  const quantized = (value: { type: Model['graph']['inputs'][number]['type'] } | null) => value?.type.kind === 'tensor' && value.type.quant !== undefined;
  for (const node of model.graph.allNodes()) if (node.outputs.some(quantized)) return true;
  return [...model.graph.inputs, ...model.graph.constants].some(quantized);
}

function countNodes(model: Model): number {
  let n = 0;
  for (const _ of model.graph.allNodes()) n++;
  return n;
}

function context(pass: Pass<OptionSpecs>): { ctx: PassContext<OptionSpecs>; result: { preservedAll: boolean } } {
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(pass.options)) if (spec.default !== undefined) options[name] = spec.default;
  const result = { preservedAll: false };
  const ctx = {
    options,
    registry: createOpRegistry(),
    passName: pass.name,
    patterns: [],
    statistic() {},
    analysis() {
      throw new Error('no analyses here');
    },
    report() {},
    debug() {},
    signal: new AbortController().signal,
    preserveAll: () => ({ all: true as const }),
    preserveNone: () => ({ all: false as const, analyses: new Set<string>() }),
    preserve: (analyses: readonly string[]) => ({ all: false as const, analyses: new Set(analyses) }),
  } as unknown as PassContext<OptionSpecs>;
  return { ctx, result };
}

async function runInOrt(bytes: Uint8Array, feeds: Map<string, Tensor>): Promise<Map<string, Tensor>> {
  const session = await ort.InferenceSession.create(bytes, SESSION);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const tensor = feeds.get(name);
      if (!tensor) throw new Error(`no feed for input '${name}'`);
      ortFeeds[name] = toOrtTensor(ort.Tensor as never, tensor, name) as unknown as ort.Tensor;
    }
    const outputs = await session.run(ortFeeds);
    const result = new Map<string, Tensor>();
    for (const name of session.outputNames) result.set(name, fromOrtTensor(outputs[name] as never, name));
    return result;
  } finally {
    await session.release();
  }
}

/** Empty string when equal within the rule, else why not. */
function compare(expected: Tensor, actual: Tensor): string {
  if (expected.dtype !== actual.dtype) return `dtype ${expected.dtype} vs ${actual.dtype}`;
  if (expected.shape.join(',') !== actual.shape.join(',')) return `shape [${expected.shape}] vs [${actual.shape}]`;
  if (expected.dtype === 'string') return expected.equals(actual) ? '' : 'strings differ';
  const a = expected.toNumbers();
  const b = actual.toNumbers();
  const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(expected.dtype);
  if (!isFloat) return a.every((v, i) => v === b[i]) ? '' : 'integer outputs differ';
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return `NaN at ${i}`;
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x !== y) return `inf mismatch at ${i}: ${x} vs ${y}`;
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(x));
    maxDiff = Math.max(maxDiff, Math.abs(x - y));
  }
  const bound = 1e-5 * Math.max(1, maxAbs);
  return maxDiff <= bound ? '' : `max |a-b| = ${maxDiff.toExponential(3)} > ${bound.toExponential(3)}`;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function fixtureCases(): Case[] {
  const dir = join(ROOT, 'fixtures/models');
  if (!existsSync(dir)) return [];
  const cases: Case[] = [];
  for (const name of readdirSync(dir).sort()) {
    const modelPath = join(dir, name, 'model.onnx');
    const data = join(dir, name, 'test_data_set_0');
    if (!existsSync(modelPath) || !existsSync(data)) continue;
    const bytes = readFileSync(modelPath);
    const model = decodeOnnx(bytes, { file: modelPath });
    const inputs = model.graph.inputs.filter((v) => !v.constant);
    const feeds = new Map<string, Tensor>();
    inputs.forEach((value, i) => feeds.set(value.name, readTensorFile(join(data, `input_${i}.pb`))));
    cases.push({ id: `fixture/${name}`, kind: 'fixture', bytes, feeds });
  }
  return cases;
}

async function thirdPartyCases(): Promise<Case[]> {
  const models = await ensureThirdPartyModels({ format: 'onnx', log: null });
  return models.map((entry, index) => {
    const random = seeded(1234 + index);
    const feeds = new Map<string, Tensor>();
    for (const input of entry.inputs) {
      const count = input.testShape.reduce((n, d) => n * d, 1);
      const fill = input.fill;
      const values = Array.from({ length: count }, (_, i) => {
        if (fill.kind === 'zeros') return 0;
        if (fill.kind === 'value') return fill.value![i % fill.value!.length]!;
        const low = fill.low ?? 0;
        const high = fill.high ?? 1;
        return low + (high - low) * random();
      });
      const dtype = input.dtype as Tensor['dtype'];
      const typed = dtype === 'int64' ? values.map((v) => BigInt(Math.round(v))) : dtype.startsWith('int') || dtype.startsWith('uint') ? values.map(Math.round) : values;
      feeds.set(input.name, Tensor.fromValues(dtype, input.testShape, typed as number[]));
    }
    return { id: `third-party/${entry.id}`, kind: 'third-party' as const, bytes: readFileSync(entry.path), feeds };
  });
}

function conformanceCases(): Case[] {
  if (!existsSync(NODE_CASES)) return [];
  const cases: Case[] = [];
  for (const name of readdirSync(NODE_CASES).sort()) {
    const dir = join(NODE_CASES, name);
    const data = join(dir, 'test_data_set_0');
    if (!existsSync(join(dir, 'model.onnx')) || !existsSync(data)) continue;
    try {
      const bytes = readFileSync(join(dir, 'model.onnx'));
      const model = decodeOnnx(bytes, { file: join(dir, 'model.onnx') });
      const feeds = new Map<string, Tensor>();
      const inputs = model.graph.inputs.filter((v) => !v.constant);
      inputs.forEach((value, i) => feeds.set(value.name, readTensorFile(join(data, `input_${i}.pb`))));
      cases.push({ id: `node/${name}`, kind: 'conformance', bytes, feeds });
    } catch {
      figures.skipped.push(`node/${name} (import or inputs unsupported)`);
    }
  }
  return cases;
}

async function checkCase(c: Case): Promise<void> {
  let baseline: Map<string, Tensor>;
  try {
    baseline = await runInOrt(c.bytes, c.feeds);
  } catch {
    figures.skipped.push(`${c.id} (ORT does not run the original)`);
    return;
  }
  figures.models++;
  for (const pass of transformPasses) {
    const model = decodeOnnx(c.bytes, { file: c.id });
    const before = countNodes(model);
    const { ctx } = context(pass);
    figures.runs++;
    let preserved;
    try {
      preserved = await pass.run(model, ctx);
    } catch (error) {
      figures.failures.push(`${c.id} / ${pass.name}: pass threw: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    if (preserved && 'all' in preserved && preserved.all) continue;
    figures.changed++;
    const removed = before - countNodes(model);
    figures.nodesRemoved += Math.max(0, removed);
    const entry = figures.byPass.get(pass.name) ?? { changed: 0, nodesRemoved: 0 };
    entry.changed++;
    entry.nodesRemoved += Math.max(0, removed);
    figures.byPass.set(pass.name, entry);
    // ONNX has no quantized types: a pass that leaves quant<> types (fold-qdq) is checked through their lowering.
    if (hasQuantTypes(model)) await MATERIALIZE_QDQ.run(model, context(MATERIALIZE_QDQ).ctx);
    const written = encodeOnnx(model);
    if (pass.name === 'simplify' && c.kind !== 'conformance') {
      figures.simplifySizes.push(`${c.id}: ${c.bytes.length} → ${written.length} bytes`);
      if (written.length > c.bytes.length * (1 + SIZE_SLACK)) {
        figures.failures.push(`${c.id} / simplify: the model grew from ${c.bytes.length} to ${written.length} bytes (more than ${SIZE_SLACK * 100}%)`);
      }
    }
    let outputs: Map<string, Tensor>;
    try {
      outputs = await runInOrt(written, c.feeds);
    } catch (error) {
      figures.failures.push(`${c.id} / ${pass.name}: ORT rejects the result: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    figures.checkedInOrt++;
    for (const [name, expected] of baseline) {
      const actual = outputs.get(name);
      const why = actual ? compare(expected, actual) : 'output missing';
      if (why) figures.failures.push(`${c.id} / ${pass.name}: output '${name}': ${why}`);
    }
  }
}

describe('transforms keep ONNX Runtime outputs', () => {
  afterAll(() => {
    const lines = [
      `transforms numerics: ${figures.models} models, ${transformPasses.length} passes, ${figures.runs} pass runs, ` +
        `${figures.changed} changed a model, ${figures.checkedInOrt} checked in ORT, ${figures.nodesRemoved} nodes removed in total, ` +
        `${figures.skipped.length} skipped, ${figures.failures.length} failures`,
      ...[...figures.byPass].sort().map(([name, s]) => `  ${name}: changed ${s.changed} models, removed ${s.nodesRemoved} nodes`),
      'simplify file sizes (real models it changed):',
      ...figures.simplifySizes.map((line) => `  ${line}`),
    ];
    console.log(lines.join('\n'));
  });

  it('on the project fixtures', async () => {
    const cases = fixtureCases();
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) await checkCase(c);
    expect(figures.failures).toEqual([]);
  });

  it('on third-party ONNX models', async () => {
    const cases = await thirdPartyCases();
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) await checkCase(c);
    expect(figures.failures).toEqual([]);
  }, 240_000);

  it('on the ONNX node conformance cases ORT runs', async () => {
    const cases = conformanceCases();
    expect(cases.length).toBeGreaterThan(100);
    for (const c of cases) await checkCase(c);
    expect(figures.failures).toEqual([]);
  }, 300_000);
});
