/**
 * Serialized TensorProto (conformance `input_N.pb` / `output_N.pb`) → `decodeTensorProto`.
 * Inputs: real files and encoded tensors, mutated byte-wise and at the protobuf level.
 * Property for accepted tensors: encode → decode → encode gives the same bytes.
 */
import { Tensor } from '@modelpass/ir';
import { decodeTensorProto, encodeTensorProto } from '@modelpass/onnx';
import { mutateBytes } from '../mutate-bytes.mjs';
import { mutateOnnxStructure } from '../mutate-protobuf.mjs';
import { PropertyViolation, bytesEqual, step } from '../property.mjs';
import { corpusFiles, pickSeed, readSeeds, tensorProtoFiles } from '../seeds.mjs';
import { Random } from '../prng.mjs';

const DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

function syntheticSeeds() {
  const rng = new Random(7);
  const seeds = [];
  for (const dtype of DTYPES) {
    for (const shape of [[], [0], [3], [2, 3], [1, 1, 2, 2]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const tensor = Tensor.fromValues(dtype, shape, Array.from({ length: count }, () => (dtype === 'bool' ? rng.below(2) : dtype.startsWith('int') || dtype.startsWith('uint') ? (dtype.endsWith('64') ? BigInt(rng.below(100)) : rng.below(100)) : rng.float() * 10 - 5)));
      seeds.push({ name: `synthetic ${dtype}[${shape}]`, bytes: encodeTensorProto(tensor, 'x') });
    }
  }
  seeds.push({ name: 'synthetic string[2]', bytes: encodeTensorProto(Tensor.fromStrings([2], ['a', 'é']), 's') });
  return seeds;
}

export const tensorProtoTarget = {
  name: 'tensor-proto',
  extension: 'pb',
  inputKind: 'bytes',
  setup: (options) => ({ seeds: [...readSeeds([...tensorProtoFiles(), ...corpusFiles(options.corpus)]), ...syntheticSeeds()] }),
  generate(rng, state) {
    const seed = pickSeed(rng, state.seeds).bytes;
    const how = rng.weighted([[5, 'structure'], [4, 'bytes'], [1, 'both']]);
    let out = seed;
    if (how !== 'bytes') out = mutateOnnxStructure(rng, out, 'TensorProto');
    if (how !== 'structure') out = mutateBytes(rng, out, pickSeed(rng, state.seeds).bytes);
    return out;
  },
  parse: (input) => decodeTensorProto(input, { file: 'fuzz-input.pb' }),
  check(tensor) {
    const first = step('tensor-proto-roundtrip', 'encodeTensorProto of an accepted tensor', () => encodeTensorProto(tensor, 't'));
    const again = step('tensor-proto-roundtrip', 'decodeTensorProto of the re-encoded tensor', () => decodeTensorProto(first));
    const second = step('tensor-proto-roundtrip', 'encodeTensorProto again', () => encodeTensorProto(again, 't'));
    if (!bytesEqual(first, second)) throw new PropertyViolation('tensor-proto-roundtrip', 'encode(decode(encode(t))) differs from encode(t)');
  },
};
