/**
 * NumPy `.npy` bytes → `decodeNpy`. Inputs: valid files of every dtype we write (mutated
 * byte-wise) and generated files with hostile headers. Property for accepted arrays:
 * encode → decode → encode gives the same bytes.
 */
import { Tensor } from '@modelpass/ir';
import { NPY_DESCRIPTORS, decodeNpy, encodeNpy } from '@modelpass/runtime';
import { generateNpy } from '../generate-npy.mjs';
import { mutateBytes } from '../mutate-bytes.mjs';
import { PropertyViolation, bytesEqual, step } from '../property.mjs';
import { Random } from '../prng.mjs';
import { corpusFiles, pickSeed, readSeeds } from '../seeds.mjs';

function syntheticSeeds() {
  const rng = new Random(11);
  const seeds = [];
  for (const dtype of NPY_DESCRIPTORS.keys()) {
    for (const shape of [[], [0], [4], [2, 3], [2, 1, 2]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: count }, () => (dtype === 'bool' ? rng.below(2) : dtype.endsWith('64') && !dtype.startsWith('float') ? BigInt(rng.below(1000)) : rng.below(100)));
      seeds.push({ name: `synthetic ${dtype}[${shape}]`, bytes: encodeNpy(Tensor.fromValues(dtype, shape, values)) });
    }
  }
  seeds.push({ name: 'synthetic strings', bytes: encodeNpy(Tensor.fromStrings([3], ['a', 'bc', '𝔘'])) });
  return seeds;
}

export const npyTarget = {
  name: 'npy',
  extension: 'npy',
  inputKind: 'bytes',
  setup: (options) => ({ seeds: [...syntheticSeeds(), ...readSeeds(corpusFiles(options.corpus))] }),
  generate(rng, state) {
    if (rng.chance(0.5)) return generateNpy(rng);
    return mutateBytes(rng, pickSeed(rng, state.seeds).bytes, pickSeed(rng, state.seeds).bytes);
  },
  parse: (input) => decodeNpy(input, 'fuzz-input.npy'),
  check(tensor) {
    const first = step('npy-roundtrip', 'encodeNpy of an accepted array', () => encodeNpy(tensor));
    const again = step('npy-roundtrip', 'decodeNpy of the re-encoded array', () => decodeNpy(first));
    const second = step('npy-roundtrip', 'encodeNpy again', () => encodeNpy(again));
    if (!bytesEqual(first, second)) throw new PropertyViolation('npy-roundtrip', 'encode(decode(encode(a))) differs from encode(a)');
  },
};
