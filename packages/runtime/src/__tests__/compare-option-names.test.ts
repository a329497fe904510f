/** compareModels with a misspelled option: refused before any model is read or run (it used to compare on random inputs). */
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { compareModels, type CompareModelsOptions } from '@modelpass/runtime';

async function refusal(options: unknown): Promise<ModelpassError> {
  // The paths do not exist: a check that came after reading would fail differently.
  const error = await compareModels('no-such-a.onnx', 'no-such-b.onnx', options as CompareModelsOptions).catch((e: unknown) => e);
  if (!ModelpassError.is(error)) throw new Error(`expected a ModelpassError, got ${String(error)}`);
  return error;
}

describe('compareModels option names', () => {
  it('a misspelled option is named with the one meant', async () => {
    expect((await refusal({ inputz: 'test_data_set_0' })).reason).toBe("compareModels: unknown option 'inputz' — did you mean 'inputs'?");
    expect((await refusal({ dim: { N: 1 } })).reason).toBe("compareModels: unknown option 'dim' — did you mean 'dims'?");
    const unknown = await refusal({ tolerance: 1e-3 });
    expect(unknown.reason).toBe("compareModels: unknown option 'tolerance'");
    expect(unknown.diagnostics[0]!.expected).toContain('atol, rtol');
    expect(unknown.diagnostics[0]!.code).toBe('compare/unknown-option');
  });

  it('options that are not an object', async () => {
    expect((await refusal('test_data_set_0')).reason).toBe('compareModels: the options must be an object, not a string');
  });

  it('known options pass the check (the missing file is what fails)', async () => {
    const error = await refusal({ seed: 1, dims: { N: 1 }, atol: 1e-4, rtol: 1e-3, nanEqual: true, engine: 'ort' });
    expect(error.reason).not.toContain('unknown option');
  });
});
