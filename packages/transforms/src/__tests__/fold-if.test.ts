/**
 * fold-if beyond the golden fixtures: the same outputs in ONNX Runtime before and after, for both
 * conditions and for a condition only simplify's folds make constant; a branch with its own
 * initializers, an outer value returned as is and a nested If moved intact.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { foldIf, simplify, takenBranch } from '@modelpass/transforms';
import { expectClose, randomTensor, runPass } from './helpers.js';

const SESSION = { logSeverityLevel: 3 as const, graphOptimizationLevel: 'disabled' as const };

/** An If on `condition` (an mpir expression defining %cond from %x) whose then-branch has initializers, a nested If and an Identity of an outer value (ORT refuses a bare outer value as a branch output). */
function modelWith(conditionLines: string): Model {
  return parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2,3]) {
  const %zero = tensor<float32[]> [0]
${conditionLines}
  %h: float32[2,3] = onnx.Tanh(%x) name="tanh"
  %y: float32[2,3], %passthrough: float32[2,3] = onnx.If(%cond) {else_branch=graph @else_body() {
    %e = onnx.Neg(%x) name="neg"
    %a = onnx.Abs(%x) name="abs"
    return %e, %a
  }, then_branch=graph @then_body() {
    const %w = tensor<float32[3]> [0.5, -2, 3]
    %m = onnx.Mul(%h, %w) name="mul"
    %total = onnx.ReduceSum(%m) {keepdims=0} name="sum"
    %positive = onnx.Greater(%total, %zero) name="greater"
    %inner = onnx.If(%positive) {else_branch=graph @inner_else() {
      %ie = onnx.Sub(%m, %x) name="inner_sub"
      return %ie
    }, then_branch=graph @inner_then() {
      %it = onnx.Add(%m, %x) name="inner_add"
      return %it
    }} name="inner_if"
    %hh = onnx.Identity(%h) name="pass_h"
    return %inner, %hh
  }} name="if"
  %z: float32[2,3] = onnx.Mul(%y, %passthrough) name="outer_mul"
  return %z, %y
}
}`);
}

async function runOrt(model: Model, feeds: Record<string, Tensor>): Promise<Map<string, Tensor>> {
  const session = await ort.InferenceSession.create(encodeOnnx(model), SESSION);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', Float32Array.from(tensor.toNumbers()), tensor.shape);
    const result = await session.run(ortFeeds);
    const outputs = new Map<string, Tensor>();
    for (const [name, value] of Object.entries(result)) outputs.set(name, Tensor.fromValues('float32', [...value.dims], Array.from(value.data as Float32Array)));
    return outputs;
  } finally {
    await session.release();
  }
}

function ifCount(model: Model): number {
  return [...model.graph.allNodesOf('onnx.If')].length;
}

async function expectSameInOrt(model: Model, pass: Pass<OptionSpecs>): Promise<Model> {
  const feeds = { x: randomTensor([2, 3], 7) };
  const before = await runOrt(model, feeds);
  await runPass(pass, model);
  const after = await runOrt(model, feeds);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [name, tensor] of before) expectClose(after.get(name)!, tensor);
  return model;
}

describe('fold-if', () => {
  for (const value of [true, false]) {
    it(`gives ORT's outputs with a constant ${value} condition`, async () => {
      const model = await expectSameInOrt(modelWith(`  const %cond = tensor<bool[]> [${value}]`), foldIf as Pass<OptionSpecs>);
      // The taken then-branch keeps its nested If (its condition is computed); the else-branch has none.
      expect(ifCount(model)).toBe(value ? 1 : 0);
      expect(model.graph.outputs.map((v) => v.name)).toEqual(['z', 'y']);
      if (value) expect(model.graph.constants.some((c) => c.name === 'w')).toBe(true);
    });
  }

  it('inlines inside simplify once fold-shapes makes the condition constant', async () => {
    const condition = [
      '  %shape: int64[2] = onnx.Shape(%x) name="shape"',
      '  const %index = tensor<int64[]> [1]',
      '  %columns: int64[] = onnx.Gather(%shape, %index) name="gather"',
      '  const %three = tensor<int64[]> [3]',
      '  %cond: bool[] = onnx.Equal(%columns, %three) name="equal"',
    ].join('\n');
    const model = modelWith(condition);
    expect(takenBranch(model.graph.nodeList().find((n) => n.name === 'if')!)).toBeUndefined();
    await expectSameInOrt(model, simplify as Pass<OptionSpecs>);
    expect(model.graph.nodeList().some((n) => n.name === 'if')).toBe(false);
    expect(model.graph.nodeList().some((n) => n.name === 'inner_if')).toBe(true);
  });

  it('leaves an If with a computed condition alone', async () => {
    const model = modelWith('  %total0: float32[] = onnx.ReduceSum(%x) {keepdims=0} name="sum0"\n  %cond: bool[] = onnx.Greater(%total0, %zero) name="greater0"');
    const run = await runPass(foldIf as Pass<OptionSpecs>, model);
    expect(run.statistics.get('ifs-inlined')).toBe(0);
    expect(ifCount(model)).toBe(2);
  });

  it('reads a numeric one-element condition as nonzero = true', () => {
    for (const [literal, taken] of [['tensor<float32[1]> [0.5]', 'then_branch'], ['tensor<int64[]> [0]', 'else_branch']] as const) {
      const model = modelWith(`  const %cond = ${literal}`);
      expect(takenBranch(model.graph.nodeList().find((n) => n.name === 'if')!)?.taken).toBe(taken);
    }
  });
});
