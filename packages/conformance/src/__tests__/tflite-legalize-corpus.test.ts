/**
 * Every ONNX model of the corpus — the third-party models (fixtures/third-party.json), the project's fixtures and
 * this package's — through legalize-tflite with its default options (s16 issue 12, item 6). Each must convert to
 * tflite ops only, except the refusals listed here with the reason TFLite 2.9 (or this converter) cannot run them;
 * the test fails when a model newly refuses, or when a listed one converts (then the list shrinks). Whether the
 * converted models agree with ONNX Runtime is checked model by model elsewhere (tflite-legalize-models,
 * tflite-legalize-fi-gaps for PaddleOCR v4 det, real-models-cli).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { PROJECT_MODELS_DIR, REPO_ROOT } from '../real-models.js';
import { legalize } from './tflite-legalize-harness.js';

/** Refused on purpose: id → what the refusal must say. */
const KNOWN_REFUSALS: Readonly<Record<string, RegExp>> = {
  // The whole model is an If on the run-time sample rate whose branches give outputs of run-time shape
  // ([batch, 1] from a dynamic [batch, samples] input); TFLite IF regions here need static shapes. The refusal
  // names the flag that fixes it: with --input-value sr=… and --input-shape all three convert and agree with ORT
  // (tflite-legalize-silero.test.ts).
  'silero-vad-legacy': /If_25.*cannot become a TFLite IF: output 0 has no static shape.*--input-value sr=/,
  'silero-vad-v5': /If_0.*cannot become a TFLite IF: output 0 has no static shape.*--input-value sr=/,
  'silero-vad-v6': /If_0.*cannot become a TFLite IF: output 0 has no static shape.*--input-value sr=/,
};

const localModels = (dir: string): { id: string; path: string }[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return localModels(join(dir, entry.name)).map((model) => ({ ...model, id: `${entry.name}/${model.id}` }));
    return entry.name.endsWith('.onnx') ? [{ id: entry.name.replace(/\.onnx$/, ''), path: join(dir, entry.name) }] : [];
  });

describe('legalize-tflite over the ONNX corpus: every model converts, or refuses as listed', async () => {
  const thirdParty = (await ensureThirdPartyModels({ format: 'onnx' })).map((entry: { id: string; path: string }) => ({ id: entry.id, path: entry.path }));
  const models = [...thirdParty, ...localModels(PROJECT_MODELS_DIR), ...localModels(join(REPO_ROOT, 'packages', 'conformance', 'fixtures'))];

  it('finds the corpus', () => {
    expect(thirdParty.length).toBeGreaterThanOrEqual(11);
    expect(models.length).toBeGreaterThanOrEqual(18);
  });

  for (const { id, path } of models) {
    it(id, async () => {
      const model = readOnnx(path);
      const outcome = await legalize(model).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      const known = KNOWN_REFUSALS[id];
      if (known) {
        expect(ModelpassError.is(outcome), `${id} converts now: take it off KNOWN_REFUSALS`).toBe(true);
        expect((outcome as Error).message).toMatch(known);
        return;
      }
      expect(outcome, `${id}: ${String((outcome as Error | undefined)?.message)}`).toBeUndefined();
      expect(model.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
    }, 120_000);
  }
});
