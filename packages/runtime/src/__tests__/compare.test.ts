import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { compareOutputs, compareTensors } from '@modelpass/runtime';

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
const f64 = (shape: number[], values: number[]) => Tensor.fromValues('float64', shape, values);

describe('compareTensors', () => {
  it('computes max absolute and relative error and cosine by hand', () => {
    // expected [1, 2, -4], actual [1.5, 2, -3]: |diff| = [0.5, 0, 1], rel = [0.5, 0, 0.25]
    // cosine = (1.5 + 4 + 12) / (sqrt(21) * sqrt(15.25))
    const r = compareTensors('y', f64([3], [1, 2, -4]), f64([3], [1.5, 2, -3]));
    expect(r.maxAbsError).toBe(1);
    expect(r.maxRelError).toBe(0.5);
    expect(r.cosine).toBeCloseTo(17.5 / (Math.sqrt(21) * Math.sqrt(15.25)), 14);
    expect(r.top1Agreement).toBeNull();
    expect([r.shapeMatch, r.dtypeMatch, r.exact, r.withinTolerance, r.mismatchedElements]).toEqual([true, true, false, false, 2]);
  });

  it('uses a floor for the relative error near zero and honours atol/rtol', () => {
    const r = compareTensors('y', f64([2], [0, 100]), f64([2], [1e-7, 100.05]), { relativeFloor: 1e-3, atol: 1e-6, rtol: 1e-3 });
    expect(r.maxAbsError).toBeCloseTo(0.05, 12);
    expect(r.maxRelError).toBeCloseTo(5e-4, 12); // max(1e-7 / 1e-3, 0.05 / 100), not 1e-7 / 0
    expect(r.withinTolerance).toBe(true);
    expect(compareTensors('y', f64([1], [100]), f64([1], [100.2]), { atol: 0, rtol: 1e-3 }).withinTolerance).toBe(false);
  });

  it('treats NaN against NaN as equal and NaN against a number as infinitely wrong', () => {
    const same = compareTensors('y', f32([3], [NaN, 1, Infinity]), f32([3], [NaN, 1, Infinity]));
    expect([same.maxAbsError, same.maxRelError, same.cosine, same.withinTolerance]).toEqual([0, 0, 1, true]);
    const differs = compareTensors('y', f32([2], [NaN, 1]), f32([2], [0, 1]));
    expect(differs.maxAbsError).toBe(Infinity);
    expect(differs.mismatchedElements).toBe(1);
    const infinities = compareTensors('y', f32([1], [Infinity]), f32([1], [-Infinity]));
    expect(infinities.maxAbsError).toBe(Infinity);
  });

  it('computes top-1 agreement for [batch, classes] outputs', () => {
    // rows: argmax expected [2, 0, 1, 1], actual [2, 1, 1, 0] -> 2 of 4 agree
    const expected = f32([4, 3], [0, 1, 5, 9, 1, 2, 0, 3, 1, 0, 2, 1]);
    const actual = f32([4, 3], [0, 1, 4, 1, 8, 2, 0, 3, 1, 4, 2, 1]);
    expect(compareTensors('logits', expected, actual).top1Agreement).toBe(0.5);
    expect(compareTensors('v', f32([12], expected.toNumbers()), f32([12], actual.toNumbers())).top1Agreement).toBeNull();
    expect(compareTensors('one-class', f32([3, 1], [1, 2, 3]), f32([3, 1], [1, 2, 3])).top1Agreement).toBeNull();
  });

  it('compares integers, bools and strings exactly, int64 beyond 2^53 included', () => {
    const big = Tensor.fromValues('int64', [2], [2n ** 60n, 1n]);
    const bigOff = Tensor.fromValues('int64', [2], [2n ** 60n + 1n, 1n]);
    const r = compareTensors('i', big, bigOff);
    expect(r.exact).toBe(true);
    expect(r.mismatchedElements).toBe(1);
    expect(r.withinTolerance).toBe(false);
    expect(compareTensors('i', big, big).withinTolerance).toBe(true);
    const ints = compareTensors('i', Tensor.fromValues('int32', [3], [1, 2, 3]), Tensor.fromValues('int32', [3], [1, 2, 5]));
    expect([ints.maxAbsError, ints.mismatchedElements, ints.exact]).toEqual([2, 1, true]);
    const bools = compareTensors('b', Tensor.fromValues('bool', [2], [true, false]), Tensor.fromValues('bool', [2], [true, true]));
    expect(bools.mismatchedElements).toBe(1);
    const strings = compareTensors('s', Tensor.fromStrings([2], ['a', 'b']), Tensor.fromStrings([2], ['a', 'c']));
    expect([strings.mismatchedElements, strings.maxAbsError, strings.withinTolerance]).toEqual([1, Infinity, false]);
  });

  it('reports shape and dtype mismatches', () => {
    const r = compareTensors('y', f32([2, 2], [1, 2, 3, 4]), f32([4], [1, 2, 3, 4]));
    expect([r.shapeMatch, r.maxAbsError, r.cosine, r.withinTolerance]).toEqual([false, Infinity, null, false]);
    const d = compareTensors('y', f32([2], [1, 2]), f64([2], [1, 2]));
    expect([d.dtypeMatch, d.shapeMatch, d.maxAbsError]).toEqual([false, true, 0]);
  });

  it('judges an output entirely within atol at its own scale: zeros or a rescaled copy disagree, float rounding agrees', () => {
    const logits = [3.1e-12, -1.7e-12, 0.4e-12, 2.2e-12];
    const zeroed = compareTensors('y', f64([1, 4], logits), f64([1, 4], [0, 0, 0, 0]));
    // the elements above half the largest |a| (3.1, 2.2, 1.7 of 1e-12; not 0.4) are out
    expect([zeroed.underAtol, zeroed.withinTolerance, zeroed.mismatchedElements]).toEqual([true, false, 3]);
    expect(zeroed.atol).toBeCloseTo(0.5 * 3.1e-12, 25);
    // float noise of a deep net's tiny outputs (up to ~6% of their scale between two correct engines) agrees; a negated copy does not
    expect(compareTensors('y', f64([1, 4], logits), f64([1, 4], logits.map((v) => v * 1.06))).withinTolerance).toBe(true);
    expect(compareTensors('y', f64([1, 4], logits), f64([1, 4], logits.map((v) => -v))).withinTolerance).toBe(false);
    expect(compareTensors('y', f64([1, 4], logits), f64([1, 4], logits.map((v) => v * 2))).withinTolerance).toBe(false);
    const rounded = compareTensors('y', f64([1, 4], logits), f64([1, 4], logits.map((v) => Math.fround(v) + 1e-20)));
    expect([rounded.underAtol, rounded.withinTolerance]).toEqual([true, true]);
    // Above atol, or all zero, or exactly equal: the plain rule.
    const plain = compareTensors('y', f64([2], [2e-5, 0]), f64([2], [2e-5, 9e-6]));
    expect([plain.underAtol, plain.atol, plain.withinTolerance]).toEqual([false, 1e-5, true]);
    expect(compareTensors('y', f64([2], [0, 0]), f64([2], [1e-9, 0]))).toMatchObject({ underAtol: false, withinTolerance: true });
    expect(compareTensors('y', f64([1, 4], logits), f64([1, 4], logits))).toMatchObject({ underAtol: true, withinTolerance: true, maxAbsError: 0 });
  });

  it('gives cosine 0 against an all-zero output and 1 for two zero outputs', () => {
    expect(compareTensors('y', f32([2], [0, 0]), f32([2], [1, 0])).cosine).toBe(0);
    expect(compareTensors('y', f32([2], [0, 0]), f32([2], [0, 0])).cosine).toBe(1);
  });
});

describe('compareOutputs', () => {
  it('takes the worst figure over outputs and lists missing ones', () => {
    const expected = new Map([
      ['a', f64([2], [1, 2])],
      ['b', f64([2, 2], [1, 0, 0, 1])],
      ['gone', f64([1], [0])],
    ]);
    const actual = new Map([
      ['a', f64([2], [1, 2.5])],
      ['b', f64([2, 2], [0, 1, 0, 1])],
      ['extra', f64([1], [0])],
    ]);
    const report = compareOutputs(expected, actual);
    expect(report.perOutput.map((o) => o.name)).toEqual(['a', 'b', 'gone', 'extra']);
    expect(report.missingOutputs).toEqual(['gone', 'extra']);
    expect(report.maxAbsError).toBe(Infinity);
    expect(report.top1Agreement).toBe(0.5);
    expect(report.cosine).toBeCloseTo(0.5, 14); // output b: dot 1, norms sqrt2 * sqrt2
    expect(report.withinTolerance).toBe(false);
    const clean = compareOutputs(new Map([['a', f64([2], [1, 2])]]), new Map([['a', f64([2], [1, 2])]]));
    expect([clean.maxAbsError, clean.maxRelError, clean.cosine, clean.top1Agreement, clean.withinTolerance]).toEqual([0, 0, 1, null, true]);
  });
});
