import { describe, expect, it } from 'vitest';
import { defaultLoweringRules, LoweringRegistry, ONNX2TF_OPS, onnx2tfCoverage, summarizeCoverage } from '../index.js';

describe('onnx2tfCoverage', () => {
  const coverage = onnx2tfCoverage();

  it('judges every one of onnx2tf’s 210 op names once', () => {
    expect(new Set(ONNX2TF_OPS).size).toBe(ONNX2TF_OPS.length);
    expect(ONNX2TF_OPS.length).toBe(210);
    expect(coverage.map((entry) => entry.op)).toEqual([...ONNX2TF_OPS]);
  });

  it('counts an op as lowered only when a rule emits builtins for it', () => {
    const rules = defaultLoweringRules();
    for (const entry of coverage.filter((e) => e.kind === 'lowered')) {
      const rule = rules.get(`onnx.${entry.op}`) ?? rules.get(`com.microsoft.${entry.op}`);
      expect(rule?.targets.length, entry.op).toBeGreaterThan(0);
    }
    expect(coverage.find((e) => e.op === 'Atan')).toMatchObject({ kind: 'lowered' });
    expect(coverage.find((e) => e.op === 'GlobalAveragePool')).toMatchObject({ kind: 'before-lowering' });
  });

  it('follows the registry it is given: without rules only the preparation covers anything', () => {
    const bare = onnx2tfCoverage(new LoweringRegistry());
    const summary = summarizeCoverage(bare);
    expect(summary.lowered).toBe(0);
    expect(summary.covered).toBe(summary['before-lowering']);
    expect(summary.missing).toBe(210 - summary.covered);
  });

  it('sums up', () => {
    const summary = summarizeCoverage(coverage);
    expect(summary.covered + summary.refused + summary.missing).toBe(summary.total);
  });
});
