/**
 * The materialize-qdq goldens (and the plain-ONNX fold-qdq inputs) run in ONNX Runtime:
 * - every quantized constant's DequantizeLinear output equals, bit for bit, the reals its quant<>
 *   type stands for (`fround(fround(q - zero_point) * scale)`, computed here from the type alone);
 * - every graph output matches the reference interpreter on the same lowered model (floats within
 *   1e-5, quantized integers within one step: a float sum may land on the other side of a tie);
 * - ONNX's checker accepts the exported file where its opset is one python-onnx 1.12 knows (≤ 17).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { isTensorType, parseModel, Tensor, type Model, type QuantParams, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { createOpRegistry, integerRange, runReference } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { fromOrtTensor, SeededRandom, toOrtTensor } from '@modelpass/runtime';
import { transformPasses } from '@modelpass/transforms';
import { runOnnxChecker } from '../onnx-checker.js';

const FIXTURES = new URL('../../../transforms/fixtures/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'modelpass-qdq-ort-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  readonly label: string;
  readonly text: string;
  readonly pipeline: string;
}

function casesOf(pass: string, pipeline: (dir: string) => string): Case[] {
  const root = join(FIXTURES, pass);
  return readdirSync(root)
    .filter((name) => !name.startsWith('declines-'))
    .map((name) => ({ label: `${pass}/${name}`, text: readFileSync(join(root, name, 'input.mpir'), 'utf8'), pipeline: pipeline(join(root, name)) }));
}

const CASES: Case[] = [
  ...casesOf('materialize-qdq', (dir) => {
    try {
      const options = JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) as Record<string, unknown>;
      return `materialize-qdq{${Object.entries(options).map(([k, v]) => `${k}=${String(v)}`).join(' ')}}`;
    } catch {
      return 'materialize-qdq';
    }
  }),
  ...casesOf('fold-qdq', () => 'dce').filter((c) => !c.text.includes('quant<')),
];

/** The reals a quantized constant stands for, from its type only. */
function expectedReals(tensor: Tensor, quant: QuantParams): number[] {
  const values = tensor.toNumbers();
  const axis = quant.axis === undefined ? undefined : quant.axis < 0 ? quant.axis + tensor.rank : quant.axis;
  const inner = axis === undefined ? 1 : tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return values.map((q, i) => {
    const channel = axis === undefined ? 0 : Math.floor(i / inner) % tensor.shape[axis]!;
    return Math.fround(Math.fround(q - quant.zeroPoint[channel]!) * Math.fround(quant.scale[channel]!));
  });
}

function feedsFor(model: Model, random: SeededRandom): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of model.graph.inputs) {
    const type = input.type;
    if (!isTensorType(type) || !type.shape?.every((d) => typeof d === 'number')) throw new Error(`input '${input.name}' needs a static shape`);
    const shape = type.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const range = integerRange(type.dtype);
    const values = Array.from({ length: count }, () => (range ? random.integer(range.min, range.max) : random.uniform(-2, 2)));
    feeds[input.name] = Tensor.fromValues(type.dtype, shape, values);
  }
  return feeds;
}

async function lower(model: Model, pipeline: string): Promise<void> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  await new PassManager({ environment, verifyEach: true }).run(model, pipeline);
}

/** Quantized constants of the input, by name, with their params (before lowering). */
function quantizedConstants(model: Model): Map<string, { tensor: Tensor; quant: QuantParams }> {
  const found = new Map<string, { tensor: Tensor; quant: QuantParams }>();
  for (const value of model.graph.constants) {
    const quant = value.type.kind === 'tensor' ? value.type.quant : undefined;
    if (quant && value.constant) found.set(value.name, { tensor: value.constant, quant });
  }
  return found;
}

function dequantizedOf(model: Model, name: string): Value | undefined {
  for (const node of model.graph.nodes()) if (node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.name === name) return node.output(0);
  return undefined;
}

describe('materialize-qdq output runs in ONNX Runtime', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, testCase) => {
    const model = parseModel(testCase.text);
    const quantized = quantizedConstants(model);
    await lower(model, testCase.pipeline);
    // Expose each quantized constant's reals as an extra graph output.
    const exposed = new Map<string, string>();
    for (const name of quantized.keys()) {
      const reals = dequantizedOf(model, name);
      expect(reals, `a DequantizeLinear of '${name}'`).toBeDefined();
      model.graph.addOutput(reals!);
      exposed.set(name, reals!.name);
    }
    const bytes = encodeOnnx(model);
    if ((model.opset('onnx') ?? 0) <= 17) {
      const file = join(work, `${testCase.label.replace('/', '--')}.onnx`);
      writeFileSync(file, bytes);
      expect(runOnnxChecker([file]).get(file), 'ONNX checker').toBeNull();
    }
    const feeds = feedsFor(model, new SeededRandom(testCase.label));
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrtTensor(ort.Tensor, t, name)])));
    } finally {
      await session.release();
    }
    for (const [name, { tensor, quant }] of quantized) {
      const output = exposed.get(name)!;
      expect(fromOrtTensor(results[output]!, output).toNumbers(), `reals of '${name}'`).toEqual(expectedReals(tensor, quant));
    }
    const reference = runReference(model, feeds);
    for (const output of model.graph.outputs) {
      const actual = fromOrtTensor(results[output.name]!, output.name);
      const expected = reference.get(output.name) as Tensor;
      expect(actual.dtype).toBe(expected.dtype);
      const a = actual.toNumbers();
      const e = expected.toNumbers();
      const tolerance = integerRange(actual.dtype) ? 1 : 1e-5 * Math.max(1, ...e.map(Math.abs));
      const worst = Math.max(0, ...a.map((v, i) => Math.abs(v - e[i]!)));
      expect(worst, `max |ORT − reference| of '${output.name}'`).toBeLessThanOrEqual(tolerance);
    }
  });
});
