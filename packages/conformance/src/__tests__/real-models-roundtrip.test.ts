// Every real ONNX model of the corpus (the third-party models of fixtures/third-party.json and the
// project's fixtures/models/*) goes import → export. Referees: ONNX Runtime must give bit-identical
// outputs (NaN-aware) on the original and the exported file for the same inputs, and ONNX's checker
// must accept the exported file (or give the same verdict as on the original). The exported file,
// imported again, must hold exactly the IR the original gave.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Tensor, modelsEqual } from '@modelpass/ir';
import { decodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import {
  fileSize,
  formatTable,
  opCounts,
  outputsBitIdentical,
  projectOnnxModels,
  realModelFeeds,
  runOnnxChecker,
  thirdPartyOnnxModels,
  REAL_MODEL_FEED_SETS,
  type RealModelFeedOverrides,
  type RealOnnxModel,
} from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

/** The third-party ONNX models the issue names; the manifest may hold more, never fewer. */
const REQUIRED_THIRD_PARTY = [
  'blazeface-front-128',
  'blazeface-back-256',
  'silero-vad-legacy',
  'silero-vad-v5',
  'ppocr-v4-det',
  'ppocr-v4-rec',
  'ppocr-mobile-v2-cls',
  'openwakeword-hello-deepa',
  'openwakeword-hello-deepa-old',
  'openwakeword-namaste-deepa',
];

interface RoundTrip {
  readonly model: RealOnnxModel;
  readonly exportedPath: string;
  readonly nodes: number;
  readonly ops: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  ortIdentical?: boolean;
  feedSets?: number;
  checker?: string;
}

const outDir = mkdtempSync(join(tmpdir(), 'modelpass-real-models-'));
// One thread, sequential: ONNX Runtime's results must not depend on scheduling.
const ort = new OrtRunner({ maxSessions: 2, sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' } });
let corpus: RealOnnxModel[] = [];
const roundTrips: RoundTrip[] = [];

beforeAll(async () => {
  corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()];
}, 300_000);

afterAll(async () => {
  await ort.dispose();
  rmSync(outDir, { recursive: true, force: true });
  if (roundTrips.length === 0) return;
  const rows = roundTrips.map((r) => [
    r.model.id,
    r.nodes,
    r.ops,
    r.bytesIn,
    r.bytesOut,
    r.ortIdentical === undefined ? 'not run' : `${r.ortIdentical ? 'yes' : 'NO'} (${r.feedSets} input set${r.feedSets === 1 ? '' : 's'})`,
    r.checker ?? 'not run',
  ]);
  console.log(`real-model round trip (${roundTrips.length} models)\n` + formatTable(['model', 'nodes', 'ops', 'bytes in', 'bytes out', 'ORT identical', 'checker'], rows));
});

describe('real ONNX models: import → export', () => {
  test('the corpus holds every model the issue names, and the project fixtures', () => {
    const ids = corpus.map((m) => m.id);
    for (const id of REQUIRED_THIRD_PARTY) expect(ids).toContain(id);
    expect(corpus.filter((m) => m.origin === 'project').length).toBeGreaterThanOrEqual(2);
  });

  test('every model imports and exports, and the export imports back to the same IR', () => {
    const failures: string[] = [];
    for (const model of corpus) {
      const exportedPath = join(outDir, `${model.id}.onnx`);
      try {
        const imported = readOnnx(model.path);
        writeOnnx(imported, exportedPath);
        const counts = opCounts(imported);
        roundTrips.push({
          model,
          exportedPath,
          nodes: [...counts.values()].reduce((a, b) => a + b, 0),
          ops: counts.size,
          bytesIn: fileSize(model.path),
          bytesOut: fileSize(exportedPath),
        });
        // Decoded without a file name on both sides, so node locations do not name the file.
        const difference = modelsEqual(decodeOnnx(readFileSync(model.path)), decodeOnnx(readFileSync(exportedPath)));
        if (difference !== undefined) failures.push(`${model.id}: IR differs after the round trip: ${difference}`);
      } catch (error) {
        failures.push(`${model.id}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(roundTrips.length).toBe(corpus.length);
  });

  test('ONNX Runtime gives bit-identical outputs on the original and the exported file', async () => {
    const mismatches: string[] = [];
    let feedSetsRun = 0;
    for (const roundTrip of roundTrips) {
      const { model, exportedPath } = roundTrip;
      const imported = decodeOnnx(readFileSync(model.path));
      const feedSets = [{ label: 'default', overrides: {} as RealModelFeedOverrides }, ...(REAL_MODEL_FEED_SETS[model.id] ?? [])];
      roundTrip.ortIdentical = true;
      roundTrip.feedSets = feedSets.length;
      for (const { label, overrides } of feedSets) {
        const feeds = realModelFeeds(model, imported, 0, overrides);
        const original = await ort.run(model.path, feeds);
        let exported: Map<string, Tensor>;
        try {
          exported = await ort.run(exportedPath, feeds);
        } catch (error) {
          roundTrip.ortIdentical = false;
          mismatches.push(`${model.id} (${label}): the exported file fails in ONNX Runtime: ${(error as Error).message.split('\n')[0]}`);
          continue;
        }
        feedSetsRun++;
        const difference = outputsBitIdentical(original, exported);
        if (difference !== undefined) {
          roundTrip.ortIdentical = false;
          mismatches.push(`${model.id} (${label}): ${difference}`);
        }
      }
    }
    console.log(`ORT round trip: ${roundTrips.length} models, ${feedSetsRun} input sets run on both files`);
    expect(mismatches).toEqual([]);
    expect(roundTrips.filter((r) => r.ortIdentical).length).toBe(corpus.length);
  }, 120_000);

  test('the comparison is sharp: one-ulp changes of the last weight matrix are caught, in ORT outputs and in the IR', async () => {
    const model = corpus.find((m) => m.id === 'fashion-mlp')!;
    const changed = readOnnx(model.path);
    const weight = changed.graph.constants.filter((v) => v.constant?.dtype === 'float32' && v.constant.shape.length === 2).at(-1)!;
    const bytes = new Uint8Array(weight.constant!.bytes());
    for (let i = 0; i < bytes.length; i += 4) bytes[i]! ^= 1; // the least significant mantissa bit of each element
    weight.constant = Tensor.fromBytes('float32', weight.constant!.shape, bytes);
    const changedPath = join(outDir, 'fashion-mlp-one-ulp.onnx');
    writeOnnx(changed, changedPath);
    const feeds = realModelFeeds(model, changed, 0);
    expect(outputsBitIdentical(await ort.run(model.path, feeds), await ort.run(changedPath, feeds))).toMatch(/elements differ/);
    expect(modelsEqual(decodeOnnx(readFileSync(model.path)), decodeOnnx(readFileSync(changedPath)))).toMatch(weight.name);
  });

  test("ONNX's checker (full_check) accepts every exported file, or gives the original's verdict", () => {
    const verdicts = runOnnxChecker(roundTrips.flatMap((r) => [r.model.path, r.exportedPath]));
    const problems: string[] = [];
    for (const roundTrip of roundTrips) {
      const original = verdicts.get(roundTrip.model.path);
      const exported = verdicts.get(roundTrip.exportedPath);
      if (original === undefined || exported === undefined) {
        problems.push(`${roundTrip.model.id}: the checker returned no verdict`);
        continue;
      }
      if (original === null) {
        roundTrip.checker = exported === null ? 'ok' : 'REJECTED';
        if (exported !== null) problems.push(`${roundTrip.model.id}: original accepted, exported rejected: ${exported}`);
      } else {
        // The checker rejects the original too: only the same verdict is required.
        roundTrip.checker = exported === null ? 'ok (original rejected)' : 'rejected, as the original';
        console.log(`${roundTrip.model.id}: the checker rejects the original: ${original}`);
        if (exported !== null && exported.replaceAll(roundTrip.exportedPath, '') !== original.replaceAll(roundTrip.model.path, '')) {
          problems.push(`${roundTrip.model.id}: the checker's verdicts differ: original "${original}", exported "${exported}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
