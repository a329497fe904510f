/**
 * Tensors whose shapes differ (a pruned channel count) are not comparable element by element: their
 * errors are stored as "Infinity" with a null cosine, and every reader says "shape changed old → new"
 * instead of printing "max abs inf, cosine n/a" as if the values had blown up.
 */
import { describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { diffModels, formatModelDiff, renderHtmlReport, reportProblems, type ModelDiff, type Report } from '@modelpass/report';
import { sampleReport } from '../html/__tests__/sample-report.js';

const wide = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4]) {
  const %w = tensor<float32[4,3]> [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]
  %y: float32[1,3] = onnx.MatMul(%x, %w) name="mm"
  return %y
}
}`);
const narrow = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4]) {
  const %w = tensor<float32[4,2]> [1, 0, 0, 1, 0, 0, 1, 1]
  %y: float32[1,2] = onnx.MatMul(%x, %w) name="mm"
  return %y
}
}`);

const reshapedTensor = {
  name: 'conv1_out',
  node: 'conv1',
  op: 'Conv',
  maxAbsError: 'Infinity' as const,
  maxRelError: 'Infinity' as const,
  cosine: null,
  withinTolerance: false,
  shapeChange: { before: [1, 16, 28, 28], after: [1, 12, 28, 28] },
};

describe('tensors that changed shape', () => {
  it('diff: a reshaped initializer says its shape changed, with no infinite error', () => {
    const text = formatModelDiff(diffModels(wide, narrow));
    expect(text).toContain('~ w float32[4,3] → float32[4,2]: shape changed (not compared element by element)');
    expect(text).not.toMatch(/inf|n\/a/);
  });

  it('diff: an intermediate tensor that changed shape says old → new dims', () => {
    const diff: ModelDiff = {
      ...diffModels(wide, wide),
      tensors: { engine: 'onnxruntime', inputs: { source: 'random', seed: 0, samples: 1 }, compared: 1, tensors: [reshapedTensor], firstDivergent: 'conv1_out', atol: 1e-5, rtol: 1e-5 },
    };
    const text = formatModelDiff(diff);
    expect(text).toContain('! conv1_out (conv1, Conv): shape changed [1,16,28,28] → [1,12,28,28] — not compared element by element');
    expect(text).not.toMatch(/max abs inf|cosine n\/a/);
  });

  it('report: the schema accepts shape changes and missing outputs; the HTML says shape changed, not ∞', () => {
    const base = sampleReport();
    const check = base.passes[0]!.check!;
    const report: Report = {
      ...base,
      passes: [
        {
          ...base.passes[0]!,
          check: {
            ...check,
            withinTolerance: false,
            outputs: [
              { ...check.outputs[0]!, maxAbsError: 'Infinity', maxRelError: 'Infinity', cosine: null, withinTolerance: false, shapeChange: { before: [1, 10], after: [1, 8] } },
              { ...check.outputs[0]!, name: 'scores', maxAbsError: 'Infinity', maxRelError: 'Infinity', cosine: null, withinTolerance: false, missingIn: 'after' },
            ],
          },
        },
        ...base.passes.slice(1),
      ],
      check: {
        ...base.check!,
        status: 'failed',
        failedPass: { index: 1, name: 'canonicalize' },
        divergence: { node: 'conv1', op: 'Conv', tensor: 'conv1_out', maxAbsError: 'Infinity', maxRelError: 'Infinity', cosine: null, shapeChange: { before: [1, 16, 28, 28], after: [1, 12, 28, 28] }, comparedTensors: 1 },
      },
      diff: {
        ...base.diff!,
        // The sample's one changed initializer has a real infinite relative error; this one changed shape.
        initializers: { ...base.diff!.initializers, changed: [{ name: 'w', dtype: 'float32', shape: [4, 3], shapeAfter: [4, 2], maxAbsError: 'Infinity', maxRelError: 'Infinity', cosine: null }] },
        tensors: { ...base.diff!.tensors!, tensors: [reshapedTensor] },
      },
    };
    expect(reportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const html = renderHtmlReport(report);
    expect(html).toContain('conv1_out: shape changed [1,16,28,28] → [1,12,28,28]');
    expect(html).toContain('shape changed [1,10] → [1,8]');
    expect(html).toContain('missing after the change');
    expect(html).not.toContain('∞');
  });
});
