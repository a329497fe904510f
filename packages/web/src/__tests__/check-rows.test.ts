/**
 * The page's check table says when an output changed shape or went missing, instead of printing
 * an error of "Infinity" as if the values had blown up.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { compareOutputs } from '@modelpass/runtime/reference';
import { checkRowOf, verdictDetail } from '../page/check-rows.js';

const floats = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);

describe('check rows', () => {
  it('prints the error of comparable outputs', () => {
    const report = compareOutputs(new Map([['y', floats([2], [1, 2])]]), new Map([['y', floats([2], [1, 2.5])]]));
    expect(checkRowOf(report.perOutput[0]!)).toMatchObject({ output: 'y', difference: '5.00e-1', withinTolerance: false });
    expect(verdictDetail(report)).toBe('max abs error 5.00e-1');
  });

  it('says an output changed shape or is missing, never Infinity', () => {
    const report = compareOutputs(
      new Map([
        ['features', floats([1, 4], [1, 2, 3, 4])],
        ['gone', floats([1], [0])],
      ]),
      new Map([['features', floats([1, 3], [1, 2, 3])]]),
    );
    const rows = report.perOutput.map(checkRowOf);
    expect(rows.map((r) => r.difference)).toEqual(['shape [1,4] → [1,3]', 'missing after the pipeline']);
    expect(verdictDetail(report)).toBe("not compared: 'features' shape [1,4] → [1,3], 'gone' missing after the pipeline");
    expect(JSON.stringify(rows) + verdictDetail(report)).not.toMatch(/Infinity|inf/);
  });
});
