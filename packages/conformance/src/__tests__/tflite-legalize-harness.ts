/**
 * Shared steps of the TFLite legalization tests: legalize a canonical model with the pass manager
 * (verify-each on, tflite dialect registered), run the original in ONNX Runtime and the result in
 * the TFLite runtime (TFLite 2.9), and compare.
 */
import { expect } from 'vitest';
import { GraphBuilder, isTensorType, ModelpassError, printModel, Tensor, tensorType, type DType, type Model, type Value } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { runOrt, TfliteEngine } from '@modelpass/runtime';
import { legalizeTflite, registerTfliteDialect } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';

export function tfliteEnvironment(): PassEnvironment {
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register([legalizeTflite], '@modelpass/tflite');
  return environment;
}

/** Runs `legalize-tflite{options}` (verify-each on) and returns its statistics. */
export async function legalize(model: Model, options = '', before = ''): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: tfliteEnvironment(), instrumentations: [statistics] }).run(model, `${before}legalize-tflite${options ? `{${options}}` : ''}`);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

/** Deterministic floats in [lo, hi). */
export function seededTensor(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  let state = seed >>> 0 || 1;
  const count = shape.reduce((n, d) => n * d, 1);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    values[i] = lo + (hi - lo) * (state / 2 ** 32);
  }
  return Tensor.fromValues('float32', shape, values);
}

/** NCHW → NHWC data of a rank-4 tensor. */
export function toNhwc(tensor: Tensor): Tensor {
  const [n, c, h, w] = tensor.shape as [number, number, number, number];
  const source = tensor.toNumbers();
  const out = new Array<number>(source.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * h + y) * w + x) * c + k] = source[((b * c + k) * h + y) * w + x]!;
  return Tensor.fromValues(tensor.dtype, [n, h, w, c], out);
}

export function maxAbsDifference(a: Tensor, b: Tensor): number {
  expect(b.shape).toEqual(a.shape);
  const x = a.toNumbers();
  const y = b.toNumbers();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

/** Feeds for every graph input: static dims as given, symbolic ones as 1. */
export function feedsFor(model: Model, seed = 7, range: [number, number] = [-1, 1]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  model.graph.inputs.forEach((input, index) => {
    if (!isTensorType(input.type) || !input.type.shape) throw new Error(`input ${input.name} has no shape`);
    feeds[input.name] = seededTensor(input.type.shape.map((d) => (typeof d === 'number' ? d : 1)), seed + index, range[0], range[1]);
  });
  return feeds;
}

const engine = new TfliteEngine();

/** ORT on `original` vs the TFLite runtime on `converted` (NHWC feeds for inputs declared NHWC); the worst difference per output. */
export async function compareInRuntimes(original: Model, converted: Model, feeds: Record<string, Tensor>, nhwcInputs: ReadonlySet<string> = new Set()): Promise<number[]> {
  const expected = await runOrt(original, feeds);
  const tfliteFeeds: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) tfliteFeeds[name] = nhwcInputs.has(name) ? toNhwc(tensor) : tensor;
  const actual = await engine.run(converted, tfliteFeeds);
  return original.graph.outputs.map((output, index) => {
    const want = expected.get(output.name)!;
    const got = actual.get(converted.graph.outputs[index]!.name)!;
    expect(got, `output ${output.name}`).toBeDefined();
    const wantNhwc = want.rank === 4 && got.rank === 4 && got.shape[3] === want.shape[1] && got.shape[1] !== want.shape[1] ? toNhwc(want) : want;
    return maxAbsDifference(wantNhwc, got);
  });
}

/** What a one-input table case gives to build its model. */
export interface SingleInputCase {
  readonly input: readonly (number | string)[];
  readonly dtype?: DType;
  readonly opset?: number;
  /** Opsets of other domains (com.microsoft). */
  readonly domains?: Record<string, number>;
  readonly build: (b: GraphBuilder, x: Value) => Value | Value[];
}

/** The model of a one-input table case: graph input `x` of its shape and dtype, the case's nodes as outputs, shapes inferred. */
export function singleInputModel(testCase: SingleInputCase): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType(testCase.dtype ?? 'float32', [...testCase.input]));
  const outputs = testCase.build(b, x);
  b.output(...(Array.isArray(outputs) ? outputs : [outputs]));
  const model = b.model({ onnx: testCase.opset ?? 17, ...testCase.domains });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** Legalizing must throw a ModelpassError whose message matches every pattern, leaving the model unchanged. */
export async function expectRefused(model: Model, patterns: readonly RegExp[]): Promise<void> {
  const before = printModel(model);
  const error = await legalize(model, 'optimize=false').then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(ModelpassError.is(error), String(error)).toBe(true);
  const text = (error as Error).message;
  expect(text).toMatch(/cannot be converted to TFLite; nothing was changed/);
  for (const pattern of patterns) expect(text).toMatch(pattern);
  expect(printModel(model)).toBe(before);
}
