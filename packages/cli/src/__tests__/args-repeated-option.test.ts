/** QA s16 round 12: a single-value option given twice (`-o a -o b`) silently used the last value. */
import { describe, expect, it } from 'vitest';
import { parseArgs, type FlagSpecs } from '../args.js';

const specs: FlagSpecs = {
  output: { type: 'string', short: 'o', help: 'output', valueName: 'FILE' },
  input: { type: 'list', help: 'inputs', valueName: 'X' },
  check: { type: 'boolean', help: 'check' },
};

describe('an option given twice', () => {
  it('with two values is a usage error naming both', () => {
    expect(() => parseArgs(['m.onnx', '-o', 'a.onnx', '-o', 'b.onnx'], specs, 'convert')).toThrow("option '--output' (-o) is given twice ('a.onnx' and 'b.onnx'); it takes one value");
    expect(() => parseArgs(['--output=a', '--output', 'b'], specs, 'convert')).toThrow(/given twice/);
  });

  it('with the same value, a repeatable option or a boolean is fine', () => {
    expect(parseArgs(['-o', 'a.onnx', '--output', 'a.onnx'], specs, 'convert').flags.get('output')).toBe('a.onnx');
    expect(parseArgs(['--input', 'x', '--input', 'y'], specs, 'convert').flags.get('input')).toEqual(['x', 'y']);
    expect(parseArgs(['--check', '--no-check'], specs, 'convert').flags.get('check')).toBe(false);
  });
});
