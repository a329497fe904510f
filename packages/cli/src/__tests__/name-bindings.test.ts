import { describe, expect, it } from 'vitest';
import { parseDimSizes, parseNameBindings } from '../name-bindings.js';
import { parseInputDtypes } from '../input-dtypes.js';
import { parseInputShapes } from '../input-shapes.js';
import { parseInputValues } from '../input-values.js';

describe('NAME=VALUE flags', () => {
  const syntax = { flag: 'input-value', expected: 'NAME=VALUES, e.g. sr=16000' };

  it('split each value at its first =, trimmed', () => {
    expect([...parseNameBindings([' sr=16000 ', 'mask=a=b', 'v= 1, 2 '], syntax)]).toEqual([['sr', '16000'], ['mask', 'a=b'], ['v', '1, 2']]);
  });

  it('refuse a missing name or value, a spaced name and a name given twice, quoting the flag', () => {
    expect(() => parseNameBindings(['=3'], syntax)).toThrow("--input-value '=3': expected NAME=VALUES, e.g. sr=16000");
    expect(() => parseNameBindings(['sr='], syntax)).toThrow("--input-value 'sr=': expected NAME=VALUES");
    expect(() => parseNameBindings(['s r=1'], syntax)).toThrow("--input-value 's r=1': expected");
    expect(() => parseNameBindings(['sr=1', 'sr=2'], syntax)).toThrow("--input-value gives input 'sr' twice");
    expect([...parseNameBindings(['x='], { ...syntax, allowEmpty: true })]).toEqual([['x', '']]);
  });

  it('are what --input-shape, --input-dtype and --input-value read', () => {
    expect([...parseInputShapes(['x=batch,?,16', 's='])]).toEqual([['x', ['batch', null, 16]], ['s', []]]);
    expect(() => parseInputShapes(['x=1', 'x=2'])).toThrow("--input-shape gives input 'x' twice");
    expect([...parseInputDtypes(['tokens= int64'])]).toEqual([['tokens', 'int64']]);
    expect(() => parseInputDtypes(['tokens=int 64'])).toThrow("--input-dtype 'tokens=int 64': expected NAME=DTYPE, e.g. tokens=int64");
    expect(() => parseInputDtypes(['tokens=int65'])).toThrow("'int65' is not a dtype");
    expect([...parseInputValues(['sr=16000', 'v=1, 2'])]).toEqual([['sr', ['16000']], ['v', ['1', '2']]]);
  });

  it('--dim sizes: whole numbers of at least the minimum, the later value of a name wins', () => {
    expect(parseDimSizes(['N=4', 'T=7', 'N=2'], 'dim', 'N=1')).toEqual({ N: 2, T: 7 });
    expect(parseDimSizes(['N=0'], 'dim', 'N=1', 0)).toEqual({ N: 0 });
    expect(() => parseDimSizes(['N=0'], 'check-dim', 'N=4')).toThrow("--check-dim takes NAME=SIZE with a positive size (e.g. --check-dim N=4), got 'N=0'");
    expect(() => parseDimSizes(['N=x'], 'dim', 'N=1', 0)).toThrow("--dim takes NAME=SIZE (e.g. --dim N=1), got 'N=x'");
  });
});
