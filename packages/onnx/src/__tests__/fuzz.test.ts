// Mutates bytes of real models (ONNX conformance models and a small model of ours) and checks that
// every failure to read or re-write one is a ModelpassError: no other exception, no hang.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ModelpassError, modelsEqual, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { addModel, modelBytes, tempDir, weightsModel } from './helpers.js';

const CONFORMANCE = '/usr/share/libonnx-testdata/data';
const SEED = 0x5eed;
const CASES = 4000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Uint8Array[] {
  if (!existsSync(CONFORMANCE)) throw new Error(`ONNX conformance data missing at ${CONFORMANCE}: run tools/setup.sh`);
  const picks = ['node/test_if', 'node/test_loop11', 'node/test_scan9_sum', 'node/test_conv_with_strides_padding', 'node/test_cast_FLOAT_to_STRING',
    'node/test_sequence_insert_at_back', 'node/test_optional_get_element_sequence', 'simple/test_gradient_of_add', 'pytorch-converted/test_ConvTranspose2d',
    'node/test_constant', 'node/test_reduce_sum_default_axes_keepdims_example', 'pytorch-operator/test_operator_lstm'];
  const models = picks.map((p) => join(CONFORMANCE, p, 'model.onnx')).filter(existsSync).map((p) => new Uint8Array(readFileSync(p)));
  // A few more, spread over the suite, so the corpus does not depend on exact case names.
  const nodeDir = join(CONFORMANCE, 'node');
  const names = readdirSync(nodeDir).sort();
  for (let i = 0; i < names.length; i += 97) models.push(new Uint8Array(readFileSync(join(nodeDir, names[i]!, 'model.onnx'))));
  models.push(modelBytes(addModel()));
  return models;
}

function mutate(source: Uint8Array, random: () => number): Uint8Array {
  const bytes = new Uint8Array(source);
  const pick = () => Math.floor(random() * bytes.length);
  switch (Math.floor(random() * 6)) {
    case 0: // flip a few bits
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) bytes[pick()]! ^= 1 << Math.floor(random() * 8);
      return bytes;
    case 1: // random bytes
      for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) bytes[pick()] = Math.floor(random() * 256);
      return bytes;
    case 2: // truncate
      return bytes.subarray(0, pick());
    case 3: { // huge varint where a length or a number may be
      const at = pick();
      for (let i = at; i < Math.min(bytes.length, at + 5); i++) bytes[i] = 0xff;
      return bytes;
    }
    case 4: { // splice a chunk of the file into another place
      const from = pick();
      const to = pick();
      const length = Math.min(64, bytes.length - Math.max(from, to));
      bytes.copyWithin(to, from, from + Math.max(0, length));
      return bytes;
    }
    default: { // insert bytes
      const at = pick();
      const extra = Uint8Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 256));
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes.subarray(0, at));
      out.set(extra, at);
      out.set(bytes.subarray(at), at + extra.length);
      return out;
    }
  }
}

test(`fuzz: ${CASES} mutated models fail only with ModelpassError`, () => {
  const random = mulberry32(SEED);
  const models = corpus();
  expect(models.length).toBeGreaterThan(10);
  const escaped: string[] = [];
  let accepted = 0;
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const source = models[i % models.length]!;
    const bytes = mutate(source, random);
    try {
      const model = decodeOnnx(bytes, { file: `fuzz-${i}.onnx` });
      encodeOnnx(model);
      accepted++;
    } catch (error) {
      if (ModelpassError.is(error)) { rejected++; if (process.env.FUZZ_DEBUG && /malformed/.test(error.message)) console.log(error.message.slice(0, 200)); }
      else escaped.push(`case ${i}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
  console.log(`fuzz: ${CASES} cases, ${accepted} still valid, ${rejected} rejected with ModelpassError, ${escaped.length} other errors, ${Date.now() - started} ms`);
  expect(escaped.slice(0, 20)).toEqual([]);
  expect(rejected).toBeGreaterThan(CASES / 4);
}, 60_000);

const FILE_CASES = 1200;

/** The in-memory decoder's verdict on the bytes: a model, or the error it gave. */
function decodeVerdict(bytes: Uint8Array, file: string): Model | ModelpassError | undefined {
  try {
    return decodeOnnx(bytes, { file });
  } catch (error) {
    return ModelpassError.is(error) ? error : undefined;
  }
}

test(`fuzz: ${FILE_CASES} mutated model files through readOnnx (lazy ranges) and writeOnnx`, () => {
  const random = mulberry32(SEED ^ 0xf11e);
  // Plus models whose weights are raw_data, so mutations hit the ranges the lazy reader skips.
  const models = [...corpus(), weightsModel(3, 2, 1), weightsModel(2, 1, 2)];
  const dir = tempDir('fuzz-files');
  const escaped: string[] = [];
  const disagreements: string[] = [];
  let accepted = 0;
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < FILE_CASES; i++) {
    const source = models[i % models.length]!;
    const bytes = mutate(source, random);
    const path = join(dir, `fuzz-${i}.onnx`);
    writeFileSync(path, bytes);
    try {
      // Every raw_data becomes a file range, so corrupt ranges are met by the lazy path.
      const model = readOnnx(path, { lazyThreshold: 1 });
      writeOnnx(model, join(dir, 'out.onnx'));
      accepted++;
      // Where the in-memory decoder accepts the same bytes, both give the same model.
      const inMemory = decodeVerdict(bytes, path);
      if (inMemory && !ModelpassError.is(inMemory)) {
        const difference = modelsEqual(inMemory, model);
        if (difference) disagreements.push(`case ${i}: ${difference}`);
      }
    } catch (error) {
      if (ModelpassError.is(error)) rejected++;
      else escaped.push(`case ${i}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    rmSync(path, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`fuzz (files): ${FILE_CASES} cases, ${accepted} still valid, ${rejected} rejected with ModelpassError, ${escaped.length} other errors, ${disagreements.length} disagreements with decodeOnnx, ${Date.now() - started} ms`);
  expect(escaped.slice(0, 20)).toEqual([]);
  expect(disagreements.slice(0, 20)).toEqual([]);
  expect(rejected).toBeGreaterThan(FILE_CASES / 4);
}, 60_000);
