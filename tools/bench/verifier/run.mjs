#!/usr/bin/env node
// What the verifier's type checks cost, on the real-model corpus: each model is imported and typed
// by inferShapes (as verify-each sees it after a pass), then verifyModel runs, interleaved round by
// round, in three ways: structure only (no registry), with the canonical registry and `types: false`
// (schemas, hooks, ONNX type constraints), and the full default (plus declared types against
// inference, constants' and quant<> types). Prints the median milliseconds of each per model.
//
//   npx nx run-many -t build        # this script imports the built dist of each package
//   node tools/bench/verifier/run.mjs [--rounds 60] [--models id,id]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { verifyModel } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { projectOnnxModels, thirdPartyOnnxModels, formatTable } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const ROUNDS = Number(flag('rounds', '60'));
const WARMUP = Math.min(10, Math.floor(ROUNDS / 4));
const only = flag('models', undefined)?.split(',');

const registry = createOpRegistry();
const corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()].filter(
  (model) => !only || only.includes(model.id),
);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const entry of corpus) {
  const model = decodeOnnx(readFileSync(entry.path));
  inferShapes(model, registry);
  const nodes = [...model.graph.allNodes()].length;
  const modes = [() => verifyModel(model), () => verifyModel(model, { registry, types: false }), () => verifyModel(model, { registry })];
  const times = modes.map(() => []);
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    modes.forEach((mode, i) => {
      const start = performance.now();
      mode();
      if (round >= WARMUP) times[i].push(performance.now() - start);
    });
  }
  const [structure, schemas, full] = times.map(median);
  const errors = verifyModel(model, { registry }).filter((d) => d.severity === 'error').length;
  rows.push([entry.id, nodes, structure.toFixed(2), schemas.toFixed(2), full.toFixed(2), (full / schemas).toFixed(2), errors]);
}
console.log(`verifyModel, median of ${ROUNDS} interleaved rounds (ms)`);
console.log(formatTable(['model', 'nodes', 'structure', 'registry, types: false', 'full', 'full / types:false', 'errors'], rows));
