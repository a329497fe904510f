import { describe, expect, it } from 'vitest';
import { checkOptionNames, closestOptionName, ModelpassError } from '@modelpass/ir';

const check = { fn: 'writeThing', known: ['externalData', 'externalDataFile', 'irVersion'], source: '@modelpass/test' };

function refusal(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('checkOptionNames', () => {
  it('accepts undefined, an empty object and known names', () => {
    expect(() => checkOptionNames(undefined, check)).not.toThrow();
    expect(() => checkOptionNames({}, check)).not.toThrow();
    expect(() => checkOptionNames({ externalData: 'x', irVersion: 9 }, check)).not.toThrow();
  });

  it('names an unknown option with the one meant and every known one', () => {
    const error = refusal(() => checkOptionNames({ externaldata: 'always' }, check));
    expect(error.reason).toBe("writeThing: unknown option 'externaldata' — did you mean 'externalData'?");
    expect(error.diagnostics[0]!.expected).toBe('one of externalData, externalDataFile, irVersion');
    expect(error.diagnostics[0]!.source).toBe('@modelpass/test');
    expect(refusal(() => checkOptionNames({ somethingElse: 1 }, check)).reason).toBe("writeThing: unknown option 'somethingElse'");
  });

  it('refuses options that are not an object', () => {
    expect(refusal(() => checkOptionNames('always', check)).reason).toBe('writeThing: the options must be an object, not a string');
    expect(refusal(() => checkOptionNames(null, check)).reason).toBe('writeThing: the options must be an object, not null');
    expect(refusal(() => checkOptionNames([1], check)).reason).toBe('writeThing: the options must be an object, not an array');
  });

  it('suggests within two edits or the same letters in another case, else nothing', () => {
    expect(closestOptionName('irversion', check.known)).toBe('irVersion');
    expect(closestOptionName('irVersoin', check.known)).toBe('irVersion');
    expect(closestOptionName('externalDataFiles', check.known)).toBe('externalDataFile');
    expect(closestOptionName('threshold', check.known)).toBeUndefined();
    expect(closestOptionName('x'.repeat(10_000), check.known)).toBeUndefined();
  });
});

describe('describeArgument and isModelLike', () => {
  it('word what was given instead, and tell a Model (of any copy) from other objects', async () => {
    const { describeArgument, isModelLike, GraphBuilder, tensorType } = await import('@modelpass/ir');
    expect(describeArgument(new Uint8Array(3))).toBe('a Uint8Array of 3 bytes');
    expect(describeArgument('m.onnx')).toBe('a string');
    expect(describeArgument(new Map())).toBe('an object (Map)');
    expect(describeArgument(undefined)).toBe('undefined');
    const b = new GraphBuilder();
    b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2]))]));
    const model = b.model({ '': 17 });
    expect(isModelLike(model)).toBe(true);
    expect(isModelLike({ graph: model.graph, opsetImports: new Map() })).toBe(true);
    expect(isModelLike({ graph: null, opsetImports: new Map() })).toBe(false);
    expect(isModelLike('m.onnx')).toBe(false);
  });
});
