import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { defaultTransposeRules, sinkTransposes, TransposeRuleRegistry } from '@modelpass/transforms';
import { evaluate, expectClose, randomTensor } from './helpers.js';

/**
 * `x` (or `x + y` when `twoInputs`) → Relu → Transpose(NCHW → NHWC) → Conv: the transpose stays inside (Conv has no
 * sinking rule), and only a chain of single-operand ops up to a graph input lets it be hoisted there.
 */
function reluThenTranspose(twoInputs: boolean): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 4, 5]));
  const source = twoInputs ? b.op1('onnx.Add', [x, b.input('y', tensorType('float32', [1, 3, 4, 5]))]) : x;
  const relu = b.op1('onnx.Relu', [source]);
  const nhwc = b.op1('onnx.Transpose', [relu], { perm: attrs.ints([0, 2, 3, 1]) });
  const weight = b.constant(Tensor.fromValues('float32', [2, 4, 1, 1], [1, -2, 3, 0.5, -1, 0.25, 2, 1]), 'w');
  b.output(b.op1('onnx.Conv', [nhwc, weight]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** The default rules, each plan call counted. */
function countingRules(): { rules: TransposeRuleRegistry; calls: () => number } {
  let calls = 0;
  const defaults = defaultTransposeRules();
  const rules = new TransposeRuleRegistry(
    defaults.ops().map((op) => {
      const rule = defaults.get(op)!;
      return { ...rule, ops: [op], plan: (...args: Parameters<typeof rule.plan>) => (calls++, rule.plan(...args)) };
    }),
  );
  return { rules, calls: () => calls };
}

describe('sinkTransposes: hoisting a transpose left inside up to a graph input', () => {
  it('moves it above a single-operand chain to the graph input, with the same values', () => {
    const model = reluThenTranspose(false);
    const x = randomTensor([1, 3, 4, 5], 7);
    const before = evaluate(model, { x });
    const result = sinkTransposes(model);
    const transposes = model.graph.nodeList().filter((node) => node.op === 'onnx.Transpose');
    expect(transposes).toHaveLength(1);
    expect(transposes[0]!.inputs[0]!.isGraphInput).toBe(true);
    expect(result.atBoundary).toBe(1);
    expectClose(before[0]!, evaluate(model, { x })[0]!);
  });

  it('asks no rule for a plan when the chain cannot reach a graph input (an op of two non-constant operands)', () => {
    const model = reluThenTranspose(true);
    const { rules, calls } = countingRules();
    const result = sinkTransposes(model, { rules });
    // The transpose stays where it was (after Relu), and no op's rule was asked: nothing reads a transpose that a
    // rule could move, and the walk up stops at Add before any of Relu's candidate permutations is tried.
    const transpose = model.graph.nodeList().find((node) => node.op === 'onnx.Transpose')!;
    expect(transpose.inputs[0]!.producer?.op).toBe('onnx.Relu');
    expect(result.atBoundary).toBe(0);
    expect(calls()).toBe(0);
  });
});
