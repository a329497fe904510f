import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelsEqual, parseModel, printModel, verifyModel, type PrintOptions } from '@modelpass/ir';
import { buildModel, modelSpecArb } from './fixtures/random-model.js';

const printOptionsArb: fc.Arbitrary<PrintOptions> = fc.record(
  { readableElementLimit: fc.constantFrom(0, 4, 256) },
  { requiredKeys: [] },
);

describe('textual IR round trip (property-based)', () => {
  it('parse(print(m)) equals m and print(parse(print(m))) === print(m) for random valid models', () => {
    fc.assert(
      fc.property(modelSpecArb, printOptionsArb, (spec, options) => {
        const model = buildModel(spec);
        // Structure only: the random types (quant<> on any dtype, declared types unrelated to
        // constants' data) exercise the syntax, not type consistency, which `types` would check.
        expect(verifyModel(model, { types: false })).toEqual([]);
        const text = printModel(model, options);
        const parsed = parseModel(text, { file: 'random.mpir' });
        expect(modelsEqual(model, parsed)).toBeUndefined();
        expect(verifyModel(parsed, { types: false })).toEqual([]);
        expect(printModel(parsed, options)).toBe(text);
      }),
      { numRuns: Number(process.env.MPIR_RUNS ?? 300) },
    );
  });
});
