#!/usr/bin/env node
// What verify-each's input check costs with known values (`propagatedValues`: shape inference of the whole main
// graph on the first value a check asks for), as `modelpass convert` pays it: in a cold process, CPU ms of the input
// check (verifyModel with or without known values), then of the first inferShapes a pipeline such as optimize runs
// (so the share of the JIT warm-up both need shows). Run it alternating the two variants, one process each:
//
//   npx nx run-many -t build -p @modelpass/ops @modelpass/onnx
//   for r in 1 2 3 4 5 6; do for v in known plain; do nice -n 10 node tools/bench/verifier/known-values-cold.mjs M $v; done; done
import { readFileSync } from 'node:fs';
import { verifyModel } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes, propagatedValues } from '@modelpass/ops';

const [path, variant = 'known'] = process.argv.slice(2);
if (!path || !['known', 'plain'].includes(variant)) {
  process.stderr.write('usage: known-values-cold.mjs <model.onnx> [known|plain]\n');
  process.exit(2);
}
const registry = createOpRegistry();
const model = decodeOnnx(readFileSync(path));
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const start = cpu();
verifyModel(model, { registry, ...(variant === 'known' ? { knownValues: propagatedValues(model, { registry }) } : {}) });
const checked = cpu();
inferShapes(model, { registry });
const inferred = cpu();
console.log(`${variant} input-check ${(checked - start).toFixed(1)} then-inferShapes ${(inferred - checked).toFixed(1)} total ${(inferred - start).toFixed(1)}`);
