/**
 * The three Silero VADs (s17 issue 12) convert to TFLite once the sample rate and the shapes are fixed, as
 * `modelpass convert silero_vad_v5.onnx -o v5.tflite --input-value sr=16000 --input-shape input=1,512
 * --input-shape state=2,1,128` fixes them (sr a constant, the inputs static): the If on the rate and the shape
 * Ifs inside its branch are inlined (legalize/known-conditions.ts), and the .tflite runs in TFLite 2.9 as the
 * ONNX file runs in ONNX Runtime — over four chunks in a row, each runtime fed back its own state, since a
 * VAD is run that way. Without the flags the refusal names the flag that fixes it. The models come from the
 * third-party cache (fixtures/third-party.json, fetched by npm pack when absent); a run that cannot get them
 * skips these cases, saying why on stderr and in the suite name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { legalize, maxAbsDifference, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface SileroCase {
  readonly id: 'silero-vad-v5' | 'silero-vad-v6' | 'silero-vad-legacy';
  readonly rate: 16000 | 8000;
  /** Samples per chunk: 512 at 16 kHz, 256 at 8 kHz (Silero's documented chunk sizes). */
  readonly samples: number;
  /** The recurrent state: input name → its shape and the output that carries it to the next chunk. */
  readonly state: Readonly<Record<string, { shape: number[]; next: string }>>;
}

const V5_STATE = { state: { shape: [2, 1, 128], next: 'stateN' } };
const LEGACY_STATE = { h: { shape: [2, 1, 64], next: 'hn' }, c: { shape: [2, 1, 64], next: 'cn' } };
const CASES: readonly SileroCase[] = [
  { id: 'silero-vad-v5', rate: 16000, samples: 512, state: V5_STATE },
  { id: 'silero-vad-v5', rate: 8000, samples: 256, state: V5_STATE },
  { id: 'silero-vad-v6', rate: 16000, samples: 512, state: V5_STATE },
  { id: 'silero-vad-v6', rate: 8000, samples: 256, state: V5_STATE },
  { id: 'silero-vad-legacy', rate: 16000, samples: 512, state: LEGACY_STATE },
  { id: 'silero-vad-legacy', rate: 8000, samples: 256, state: LEGACY_STATE },
];
const CHUNKS = 4;
const TOLERANCE = 1e-4;

const fetched = await ensureThirdPartyModels({ format: 'onnx', ids: ['silero-vad-legacy', 'silero-vad-v5', 'silero-vad-v6'] }).then(
  (entries: { id: string; path: string }[]) => new Map(entries.map((entry) => [entry.id, entry.path])),
  (error: unknown) => `fixture unavailable: ${(error as Error).message}`,
);
const pathOf = (id: string): string | undefined => (typeof fetched === 'string' ? undefined : fetched.get(id));
const skipReason = typeof fetched === 'string' ? ` (skipped: ${fetched})` : '';
if (typeof fetched === 'string') console.warn(`tflite-legalize-silero: the Silero cases are skipped, ${fetched}`);

/** What `--input-value sr=RATE --input-shape input=1,SAMPLES --input-shape <state>=…` do to the model. */
function fixInputs(model: Model, testCase: SileroCase): Model {
  const graph = model.graph;
  const sr = graph.inputs.find((input) => input.name === 'sr')!;
  const constant = graph.addConstant(graph.uniqueName('sr__value'), Tensor.fromValues('int64', [], [BigInt(testCase.rate)]));
  sr.replaceAllUsesWith(constant);
  graph.removeInput(sr);
  constant.rename('sr');
  graph.inputs.find((input) => input.name === 'input')!.type = tensorType('float32', [1, testCase.samples]);
  for (const [name, { shape }] of Object.entries(testCase.state)) graph.inputs.find((input) => input.name === name)!.type = tensorType('float32', shape);
  return model;
}

/** Audio-like chunk k: a tone plus seeded noise, so the VAD's outputs move from chunk to chunk. */
function chunk(samples: number, k: number): Tensor {
  const noise = seededTensor([1, samples], 100 + k, -0.05, 0.05).toNumbers();
  return Tensor.fromValues('float32', [1, samples], noise.map((n, i) => 0.3 * Math.sin((2 * Math.PI * 440 * (k * samples + i)) / 16000) + n));
}

const engine = new TfliteEngine();

describe(`Silero VAD → TFLite with the sample rate and shapes fixed${skipReason}`, () => {
  for (const testCase of CASES) {
    it.skipIf(!pathOf(testCase.id))(`${testCase.id}, sr=${testCase.rate}, ${testCase.samples} samples: only tflite ops, ${CHUNKS} chunks with the state fed back agree with ORT`, async () => {
      const path = pathOf(testCase.id)!;
      const original = readOnnx(path);
      const converted = fixInputs(readOnnx(path), testCase);
      await legalize(converted);
      const ops = [...converted.graph.allNodes()].map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      expect(ops).not.toContain('tflite.IF'); // every If resolved at conversion time, none left for run time
      expect(converted.graph.inputs.map((input) => input.name).sort()).toEqual(['input', ...Object.keys(testCase.state)].sort());

      const zeros = Object.fromEntries(Object.entries(testCase.state).map(([name, { shape }]) => [name, Tensor.fromValues('float32', shape, new Array<number>(shape.reduce((n, d) => n * d, 1)).fill(0))]));
      let ortState: Record<string, Tensor> = zeros;
      let tfliteState: Record<string, Tensor> = zeros;
      const probabilities: number[] = [];
      for (let k = 0; k < CHUNKS; k++) {
        const input = chunk(testCase.samples, k);
        const want = await runOrt(original, { input, sr: Tensor.fromValues('int64', [], [BigInt(testCase.rate)]), ...ortState });
        const got = await engine.run(converted, { input, ...tfliteState });
        for (const name of ['output', ...Object.values(testCase.state).map((state) => state.next)]) {
          expect(maxAbsDifference(want.get(name)!, got.get(name)!), `chunk ${k}: ${name}`).toBeLessThanOrEqual(TOLERANCE);
        }
        probabilities.push(want.get('output')!.toNumbers()[0]!);
        ortState = Object.fromEntries(Object.entries(testCase.state).map(([name, { next }]) => [name, want.get(next)!]));
        tfliteState = Object.fromEntries(Object.entries(testCase.state).map(([name, { next }]) => [name, got.get(next)!]));
      }
      // The state matters: the chunks do not all give the first chunk's probability.
      expect(probabilities.some((p) => Math.abs(p - probabilities[0]!) > 1e-4), `probabilities ${probabilities.join(', ')}`).toBe(true);
    }, 120_000);
  }

  for (const id of ['silero-vad-v5', 'silero-vad-legacy'] as const) {
    it.skipIf(!pathOf(id))(`${id} with sr left an input: refused at the rate If, naming --input-value sr=…`, async () => {
      const error = await legalize(readOnnx(pathOf(id)!)).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(ModelpassError.is(error), String(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/node '(If_0|If_25)' \(onnx\.If\)/);
      expect(message).toMatch(/its condition is computed from the value of input 'sr': fix it for the conversion \(modelpass convert --input-value sr=…\)/);
    }, 120_000);
  }
});
