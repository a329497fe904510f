import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareModels, OrtRunner, refereeEngineOptions } from '@modelpass/runtime';
import { python, temporaryDir } from './helpers.js';

/** Two written-out LayerNorms that differ only in the order of the centring Sub: `x - mean` vs `mean - x`. */
function layerNormPair(): { plain: string; swapped: string } {
  const dir = temporaryDir('layernorm-sub');
  python(
    `
import sys, numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
def build(swap, path):
    inits = [nh.from_array(np.array(2.0, np.float32), 'two'), nh.from_array(np.array(1e-5, np.float32), 'eps'),
             nh.from_array(np.linspace(0.5, 1.5, 8).astype(np.float32), 'gamma'), nh.from_array(np.linspace(-1, 1, 8).astype(np.float32), 'beta')]
    nodes = [h.make_node('ReduceMean', ['x'], ['mean'], axes=[-1]),
             h.make_node('Sub', ['mean', 'x'] if swap else ['x', 'mean'], ['d']),
             h.make_node('Pow', ['d', 'two'], ['sq']), h.make_node('ReduceMean', ['sq'], ['var'], axes=[-1]),
             h.make_node('Add', ['var', 'eps'], ['ve']), h.make_node('Sqrt', ['ve'], ['sd']),
             h.make_node('Div', ['d', 'sd'], ['n']), h.make_node('Mul', ['n', 'gamma'], ['g']), h.make_node('Add', ['g', 'beta'], ['y'])]
    graph = h.make_graph(nodes, 'ln', [h.make_tensor_value_info('x', T.FLOAT, [2, 4, 8])], [h.make_tensor_value_info('y', T.FLOAT, [2, 4, 8])], inits)
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid('', 13)]), path)
build(False, sys.argv[1]); build(True, sys.argv[2])
`,
    [join(dir, 'plain.onnx'), join(dir, 'swapped.onnx')],
  );
  return { plain: join(dir, 'plain.onnx'), swapped: join(dir, 'swapped.onnx') };
}

describe('referee runs are not fooled by ONNX Runtime fusions', () => {
  const { plain, swapped } = layerNormPair();

  it('control: at ORT level "all" its LayerNorm fusion makes the two models run identically', async () => {
    const runner = new OrtRunner({ sessionOptions: { graphOptimizationLevel: 'all' } });
    const result = await compareModels(plain, swapped, { engine: runner });
    await runner.dispose();
    expect(result.withinTolerance).toBe(true);
    expect(result.maxAbsError).toBe(0);
  });

  it('compareModels (and modelpass compare) calls the two models different', async () => {
    const result = await compareModels(plain, swapped);
    expect(result.withinTolerance).toBe(false);
    expect(result.maxAbsError).toBeGreaterThan(0.05);
  });

  it("a caller's own optimization level is kept", () => {
    expect(refereeEngineOptions({}).ort?.sessionOptions?.graphOptimizationLevel).toBe('basic');
    expect(refereeEngineOptions({ ort: { sessionOptions: { graphOptimizationLevel: 'all' } } }).ort?.sessionOptions?.graphOptimizationLevel).toBe('all');
  });
});
