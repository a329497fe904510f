#!/usr/bin/env node
// Writes the synthetic decoder-only transformer (decoder-graph.mjs) as ONNX with external data:
//   node tools/make-decoder-model/make-decoder.mjs --size 1b|small --out DIR [--seed 1]
// → DIR/model.onnx + DIR/model.onnx.data. Weights are computed and written chunk by chunk, so the
// ~4 GB of the 1b size never sit in memory (peak RSS is printed).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeOnnx } from '@modelpass/onnx';
import { DECODER_SIZES, makeDecoderModel, parameterCount } from './decoder-graph.mjs';

const { values } = parseArgs({ options: { size: { type: 'string', default: 'small' }, out: { type: 'string' }, seed: { type: 'string', default: '1' } } });
const config = DECODER_SIZES[values.size];
if (!config || !values.out) {
  console.error(`usage: make-decoder.mjs --size ${Object.keys(DECODER_SIZES).join('|')} --out DIR [--seed N]`);
  process.exit(2);
}
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const started = performance.now();
const model = makeDecoderModel(config, Number(values.seed));
const path = join(out, 'model.onnx');
writeOnnx(model, path, { externalData: 'always' });
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ path, size: values.size, parameters: parameterCount(config), ...config, seconds: Number(seconds.toFixed(1)), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
