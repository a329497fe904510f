#!/usr/bin/env node
// SHA-256 of the .tflite each bench model converts to (legalize-tflite{io-layout=nhwc}), one line per model, so a
// speed change can be checked for byte-identical output: run before and after, diff the two outputs.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   node tools/bench/tflite/hashes.mjs [--models fashion-cnn,...] > before.txt   # … change, rebuild …
//   node tools/bench/tflite/hashes.mjs > after.txt && diff before.txt after.txt
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { FASHION, TORCHVISION, modelPath } from './models.mjs';
import { flag } from '../prune/ort-timing.mjs';

const MODELS = flag('models', [...FASHION, ...TORCHVISION].join(',')).split(',');
const PIPELINES = flag('pipelines', 'legalize-tflite{io-layout=nhwc},legalize-tflite').split(/,(?![^{]*})/);
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-hashes-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

for (const name of MODELS) {
  for (const pipeline of PIPELINES) {
    const model = readOnnx(modelPath(name));
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    await new PassManager({ environment, verifyEach: false }).run(model, pipeline);
    const target = join(WORK, `${name}.tflite`);
    writeTflite(model, target);
    console.log(`${createHash('sha256').update(readFileSync(target)).digest('hex')}  ${name}  ${pipeline}`);
  }
}
