/**
 * fold-constants' group fold: a weight read by several foldable nodes dies only when all of them fold. torch 1.13's
 * nn.MultiheadAttention exported with dynamic axes slices its packed in_proj_weight [3E, E] at bounds computed from
 * Shape(x); once the shapes are fixed the bounds fold, and each Slice alone would copy part of a weight the other
 * Slices keep alive (declined for growth), so the Transposes of the rows stayed (8 TRANSPOSEs in a .tflite of
 * nn.Transformer where the static export has 3). Folded together, the slices store the same bytes as the weight.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { foldConstantsPass, simplify } from '@modelpass/transforms';
import { evaluate, expectClose, randomTensor, runPass } from './helpers.js';

const E = 32;
const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

function constantBytes(model: Model): number {
  return model.graph.constants.reduce((n, value) => n + (value.constant?.byteLength ?? 0), 0);
}

/**
 * x [5, E] projected by rows of one packed weight W [3E, E] (and bias [3E]): for each [start, end) in `rows`,
 * x · Slice(W, start, end, axis 0)ᵀ + Slice(b, start, end); `extraReader` adds a node reading W directly.
 */
function packedProjections(rows: [number, number][], extraReader = false): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [5, E]));
  const weight = g.constant(randomTensor([3 * E, E], 3), 'in_proj_weight');
  const bias = g.constant(randomTensor([3 * E], 4), 'in_proj_bias');
  const slice = (value: Value, start: number, end: number) => g.op1('onnx.Slice', [value, g.constant(i64([start])), g.constant(i64([end])), g.constant(i64([0]))]);
  rows.forEach(([start, end], i) => {
    const product = g.op1('onnx.MatMul', [x, g.op1('onnx.Transpose', [slice(weight, start, end)], { perm: attrs.ints([1, 0]) })]);
    g.output(g.op1('onnx.Add', [slice(bias, start, end), product], {}, { outputs: [`y${i}`] }));
  });
  if (extraReader) g.output(g.op1('onnx.MatMul', [x, g.op1('onnx.Transpose', [weight], { perm: attrs.ints([1, 0]) }, { outputs: ['wt'] })], {}, { outputs: ['all'] }));
  return g.model();
}

const feeds = { x: randomTensor([5, E], 9) };

describe('fold-constants: readers of a shared weight fold together', () => {
  it('q and k/v Slices of the packed in_proj weight fold together (the weight dies, bytes unchanged), then the Transposes of the rows', async () => {
    const model = packedProjections([[0, E], [E, 3 * E]]);
    const expected = evaluate(model, feeds);
    const bytesBefore = constantBytes(model);
    const run = await runPass(foldConstantsPass, model);
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.MatMul', 'onnx.Add', 'onnx.MatMul', 'onnx.Add']);
    expect(model.graph.constants.some((value) => value.name === 'in_proj_weight')).toBe(false);
    // The weight's 12 KiB now as two row blocks; only the slice bounds' int64 constants are gone.
    expect(constantBytes(model)).toBeLessThanOrEqual(bytesBefore);
    expect(constantBytes(model)).toBeGreaterThanOrEqual(3 * E * E * 4);
    expect(run.statistics.get('declined-for-growth')).toBe(0);
    expect(run.debug.join('\n')).toMatch(/folded 2 readers of shared constants together/);
    evaluate(model, feeds).forEach((tensor, i) => expectClose(tensor, expected[i]!, 0));
  });

  it('simplify does the same for q, k and v read as three Slices', async () => {
    const model = packedProjections([[0, E], [E, 2 * E], [2 * E, 3 * E]]);
    const expected = evaluate(model, feeds);
    await runPass(simplify, model);
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Slice' || node.op === 'onnx.Transpose')).toEqual([]);
    evaluate(model, feeds).forEach((tensor, i) => expectClose(tensor, expected[i]!, 0));
  });

  it('a weight another node reads too (not a fold) stays, and so do its Slices', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [5, 3 * E]));
    const weight = g.constant(randomTensor([3 * E, E], 3), 'w');
    const slice = (start: number, end: number) => g.op1('onnx.Slice', [weight, g.constant(i64([start])), g.constant(i64([end])), g.constant(i64([0]))]);
    g.output(g.op1('onnx.Identity', [slice(0, E)], {}, { outputs: ['q'] }));
    g.output(g.op1('onnx.Identity', [slice(E, 3 * E)], {}, { outputs: ['kv'] }));
    g.output(g.op1('onnx.MatMul', [x, weight], {}, { outputs: ['all'] }));
    const model = g.model();
    const bytesBefore = constantBytes(model);
    const run = await runPass(foldConstantsPass, model);
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Slice').length).toBe(2);
    expect(constantBytes(model)).toBe(bytesBefore);
    expect(run.statistics.get('declined-for-growth')).toBe(2);
  });

  it('declined-for-growth counts a node left alone once, though a group fold elsewhere brings another walk', async () => {
    const g = new GraphBuilder();
    const slice = (value: Value, start: number, end: number) => g.op1('onnx.Slice', [value, g.constant(i64([start])), g.constant(i64([end])), g.constant(i64([0]))]);
    const packed = g.constant(randomTensor([3 * E, E], 3), 'packed');
    const other = g.constant(randomTensor([3 * E, E], 5), 'other');
    [slice(packed, 0, E), slice(packed, E, 3 * E), slice(other, 0, 2 * E), slice(other, E, 3 * E)].forEach((value, i) => g.output(g.op1('onnx.Identity', [value], {}, { outputs: [`y${i}`] })));
    const model = g.model();
    const run = await runPass(foldConstantsPass, model);
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Slice').map((node) => node.inputs[0]!.name)).toEqual(['other', 'other']);
    expect(run.statistics.get('declined-for-growth')).toBe(2);
  });

  it('readers whose results together outgrow the weight and its slice bounds (overlapping rows) are left alone, with the reason', async () => {
    const model = packedProjections([[0, 2 * E], [E, 3 * E]]);
    const run = await runPass(foldConstantsPass, model);
    // The bias slices (256 bytes each) fold alone; the weight's stay.
    const weightSlices = model.graph.nodeList().filter((node) => node.op === 'onnx.Slice' && node.inputs[0]!.name === 'in_proj_weight');
    expect(weightSlices.length).toBe(2);
    expect(run.debug.join('\n')).toMatch(/left 2 readers of shared constants alone .*: their results of 16384 bytes would replace 12336 bytes \(growth 4048 > max-growth 1024\)/);
    expect(run.debug.filter((line) => line.includes('readers of shared constants')).length).toBe(1); // one group, tried once
  });
});
