#!/usr/bin/env node
// Bit-exactness guard for interpreter speed work: runs `runReference` on every ONNX conformance
// case (libonnx-testdata, all suites) and on every real model (seed 0 feeds and the named feed sets)
// and writes one line per case: the SHA-256 of every output's dtype, shape and bytes (or the error).
// Run it before and after a kernel change and diff the two files: any changed line is a changed result.
//
//   npx nx run-many -t build
//   node tools/bench/real-models/snapshot.mjs > before.txt   # ... change, rebuild ...
//   node tools/bench/real-models/snapshot.mjs > after.txt && diff before.txt after.txt
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@modelpass/ir';
import { decodeOnnx, decodeOnnxDataValue, readOnnx } from '@modelpass/onnx';
import { runReference } from '@modelpass/ops';
import { listOnnxConformanceCases, opsWithoutKernel, projectOnnxModels, realModelFeeds, REAL_MODEL_FEED_SETS, thirdPartyOnnxModels } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

function toRuntime(value) {
  switch (value.kind) {
    case 'tensor':
      return value.tensor;
    case 'sequence':
      return value.elements.map(toRuntime);
    case 'optional':
      return value.value === null ? null : toRuntime(value.value);
    default:
      throw new Error(`unsupported data value ${value.kind}`);
  }
}

function digest(hash, value) {
  if (value === null || value === undefined) return hash.update('null;');
  if (Array.isArray(value)) {
    hash.update(`seq${value.length}[`);
    for (const element of value) digest(hash, element);
    return hash.update(']');
  }
  hash.update(`${value.dtype}[${value.shape.join(',')}]`);
  if (value.dtype === 'string') hash.update(JSON.stringify(value.strings));
  else hash.update(value.bytes());
  return hash.update(';');
}

function outcome(run) {
  try {
    const outputs = run();
    const hash = createHash('sha256');
    for (const [name, value] of outputs) {
      hash.update(name);
      digest(hash, value);
    }
    return hash.digest('hex').slice(0, 24);
  } catch (error) {
    return `error: ${String(error.message).split('\n')[0]}`;
  }
}

for (const testCase of listOnnxConformanceCases()) {
  let model;
  try {
    model = readOnnx(testCase.modelPath);
  } catch (error) {
    console.log(`${testCase.suite}/${testCase.name} unreadable`);
    continue;
  }
  const dataDir = join(testCase.dir, 'test_data_set_0');
  const feeds = new Map();
  let bad = false;
  for (let i = 0; existsSync(join(dataDir, `input_${i}.pb`)); i++) {
    const input = model.graph.inputs[i];
    if (!input) { bad = true; break; }
    try {
      let value = toRuntime(decodeOnnxDataValue(readFileSync(join(dataDir, `input_${i}.pb`)), input.type));
      if (value instanceof Tensor && value.dtype === 'uint16' && input.type.kind === 'tensor' && input.type.dtype === 'bfloat16') {
        value = Tensor.fromBytes('bfloat16', value.shape, new Uint8Array(value.bytes()));
      }
      feeds.set(input.name, value);
    } catch {
      bad = true;
    }
  }
  console.log(`${testCase.suite}/${testCase.name} ${bad ? 'bad inputs' : outcome(() => runReference(model, feeds))}`);
}

const corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()];
for (const entry of corpus) {
  const model = decodeOnnx(readFileSync(entry.path));
  if (opsWithoutKernel(model).length > 0) continue;
  console.log(`real/${entry.id}/seed0 ${outcome(() => runReference(model, realModelFeeds(entry, model, 0)))}`);
  for (const set of REAL_MODEL_FEED_SETS[entry.id] ?? []) {
    console.log(`real/${entry.id}/${set.label.replace(/\s+/g, "_")} ${outcome(() => runReference(model, realModelFeeds(entry, model, 0, set.overrides)))}`);
  }
}
