#!/usr/bin/env node
// In-process A/B of ONNX → TFLite conversion time between two built trees: this repository (B) and a built copy of it
// from before a change (A, --base). Both trees' packages are loaded into one process (each resolves its own
// @modelpass/* from its own node_modules), and every round runs A and B's plain readOnnx + writeOnnx and conversion
// (readOnnx, legalize-tflite{io-layout=nhwc}, writeTflite) back to back in alternating order, so the shared machine's
// load hits both alike. CPU time (process.cpuUsage), after --warmup uncounted rounds.
//
//   node tools/bench/tflite/ab.mjs --base /tmp/before [--models shufflenet_v2_x0_5,...] [--rounds 20] [--warmup 1]
// The base tree needs packages/{ir,ops,onnx,pass-manager,transforms,tflite}/dist + package.json and node_modules whose
// @modelpass/* point at its own packages (e.g. a copy of the repository with its old dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modelPath } from './models.mjs';
import { flag, median } from '../prune/ort-timing.mjs';

const BASE = flag('base', '');
if (!BASE) throw new Error('--base <tree> is required: a built copy of the repository to compare against');
const MODELS = flag('models', 'fashion-cnn,fashion-transformer,shufflenet_v2_x0_5').split(',');
const ROUNDS = Number(flag('rounds', '20'));
const WARMUP = Number(flag('warmup', '1'));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-ab-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

async function tree(root) {
  const load = (name) => (root ? import(pathToFileURL(join(resolve(root), 'packages', name, 'dist/index.js')).href) : import(`@modelpass/${name}`));
  const [onnx, ops, pm, tflite, transforms] = await Promise.all(['onnx', 'ops', 'pass-manager', 'tflite', 'transforms'].map(load));
  return {
    plain(source, target) {
      onnx.writeOnnx(onnx.readOnnx(source), target);
    },
    async convert(source, target) {
      const model = onnx.readOnnx(source);
      const environment = new pm.PassEnvironment({ ops: tflite.registerTfliteDialect(ops.createOpRegistry()) });
      environment.passes.register(transforms.transformPasses, '@modelpass/transforms');
      environment.passes.register(tflite.tflitePasses, '@modelpass/tflite');
      await new pm.PassManager({ environment, verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
      tflite.writeTflite(model, target);
    },
  };
}

const cpu = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const trees = { A: await tree(BASE), B: await tree('') };
console.log(`load average ${loadavg()[0].toFixed(1)} at the start; A = ${BASE}, B = this tree; CPU ms, ${ROUNDS} rounds after ${WARMUP}`);
for (const name of MODELS) {
  const source = modelPath(name);
  const times = { A: { plain: [], conversion: [] }, B: { plain: [], conversion: [] } };
  for (let round = -WARMUP; round < ROUNDS; round++) {
    const steps = [];
    for (const side of ['A', 'B']) {
      steps.push([side, 'plain', () => trees[side].plain(source, join(WORK, `${side}.onnx`))]);
      steps.push([side, 'conversion', () => trees[side].convert(source, join(WORK, `${side}.tflite`))]);
    }
    const order = round % 2 ? steps.reverse() : steps;
    for (const [side, key, step] of round % 4 >= 2 ? [order[1], order[0], order[3], order[2]] : order) {
      const start = cpu();
      await step();
      if (round >= 0) times[side][key].push(cpu() - start);
    }
  }
  const line = (side) => {
    const t = times[side];
    return `conversion ${median(t.conversion).toFixed(1)} (min ${Math.min(...t.conversion).toFixed(1)}), load+save ${median(t.plain).toFixed(1)} (min ${Math.min(...t.plain).toFixed(1)}), ratio ×${(median(t.conversion) / median(t.plain)).toFixed(2)} (minimums ×${(Math.min(...t.conversion) / Math.min(...t.plain)).toFixed(2)})`;
  };
  const paired = times.B.conversion.map((b, i) => b / times.A.conversion[i]);
  console.log(`${name}\n  A ${line('A')}\n  B ${line('B')}\n  B/A conversion: ×${(median(times.B.conversion) / median(times.A.conversion)).toFixed(2)} by medians, ×${(Math.min(...times.B.conversion) / Math.min(...times.A.conversion)).toFixed(2)} by minimums, median of per-round ratios ×${median(paired).toFixed(2)}`);
}
console.log(`load average ${loadavg()[0].toFixed(1)} at the end`);
