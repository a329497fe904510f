/**
 * ONNX ModelProto bytes → `decodeOnnx`. Inputs: real models mutated byte-wise and at the protobuf
 * level (schema-aware). Property for accepted models: encode → decode gives an equal model.
 */
import { modelsEqual } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { mutateBytes } from '../mutate-bytes.mjs';
import { mutateOnnxStructure } from '../mutate-protobuf.mjs';
import { PropertyViolation, step } from '../property.mjs';
import { corpusFiles, onnxModelFiles, pickSeed, readSeeds } from '../seeds.mjs';

export function loadOnnxSeeds(options) {
  return readSeeds([...onnxModelFiles(), ...corpusFiles(options.corpus)]);
}

export function generateOnnxInput(rng, seeds) {
  const seed = pickSeed(rng, seeds).bytes;
  const how = rng.weighted([[5, 'structure'], [4, 'bytes'], [1, 'both']]);
  let out = seed;
  if (how !== 'bytes') out = mutateOnnxStructure(rng, out, 'ModelProto');
  if (how !== 'structure') out = mutateBytes(rng, out, pickSeed(rng, seeds).bytes);
  return out;
}

export const onnxTarget = {
  name: 'onnx',
  extension: 'onnx',
  inputKind: 'bytes',
  setup: (options) => ({ seeds: loadOnnxSeeds(options) }),
  generate: (rng, state) => generateOnnxInput(rng, state.seeds),
  parse: (input) => decodeOnnx(input, { file: 'fuzz-input.onnx' }),
  check(model) {
    const bytes = step('onnx-roundtrip', 'encodeOnnx of an accepted model', () => encodeOnnx(model));
    const again = step('onnx-roundtrip', 'decodeOnnx of the re-encoded model', () => decodeOnnx(bytes, { file: 'fuzz-input.onnx' }));
    const difference = step('onnx-roundtrip', 'modelsEqual', () => modelsEqual(model, again));
    if (difference !== undefined) throw new PropertyViolation('onnx-roundtrip', `decode(encode(model)) differs: ${difference}`);
  },
};
