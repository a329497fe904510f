/**
 * Targets that misbehave on purpose, to prove the fuzzer catches each kind of finding: the one
 * input byte picks the behaviour (most values: accept or reject with a ModelpassError).
 */
import { ModelpassError } from '@modelpass/ir';

const behaviours = {
  7: () => {
    throw new TypeError('planted crash');
  },
  13: () => {
    for (;;); // planted hang
  },
  21: () => new Uint8Array(256 * 1024 * 1024), // planted memory blow-up: 256 MiB kept for a 1-byte input
  29: () => ({ brokenProperty: true }),
  37: () => {
    throw new ModelpassError({ reason: 'internal error: planted' });
  },
};

export const targets = [
  {
    name: 'planted-faults',
    extension: 'bin',
    inputKind: 'bytes',
    setup: () => ({}),
    generate: (rng) => Uint8Array.of(rng.below(128)),
    parse(input) {
      const behaviour = behaviours[input[0]];
      if (behaviour) return behaviour();
      if (input[0] % 2) throw new ModelpassError({ reason: 'planted rejection' });
      return {};
    },
    check(value) {
      if (value.brokenProperty) throw Object.assign(new Error('planted property violation'), { name: 'PropertyViolation', property: 'planted' });
    },
  },
];
