/**
 * raise-tflite rules for CONV_3D, TILE, ARG_MAX, ARG_MIN, SCATTER_ND, TOPK_V2, LOG_SOFTMAX and CUMSUM (QA s12: r3d_18's, a TransformerEncoder's and a
 * decoder's .tflite could not go back to ONNX, 'tflite.CONV_3D / TILE / ARG_MAX has no ONNX lowering yet'): a tflite-dialect model
 * run by the TFLite 2.9 runtime, then raised and run by ONNX Runtime, gives the same outputs.
 * CONV_3D covers SAME with an odd total padding (TFLite puts the odd row after), VALID with stride and
 * dilation, a bias and a fused RELU; TILE a constant and a run-time (graph input) multiples; ARG_MAX with
 * int64 output over the last axis, ARG_MIN with int32 output over axis 0, both on data with ties; SCATTER_ND
 * with constant distinct indices (any opset) and run-time repeated ones (summed: ScatterND reduction 'add',
 * opset 16; refused by node at opset 13); TOPK_V2 with int32 indices.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, attrs, tensorType, type Attribute, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

/** x float32[1,4,5,6,2] NDHWC through two CONV_3Ds; t float32[2,3] tiled by a constant and by run-time multiples m int32[2]. */
function model(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [1, 4, 5, 6, 2]));
  const t = graph.addInput('t', tensorType('float32', [2, 3]));
  const m = graph.addInput('m', tensorType('int32', [2]));
  const r = graph.addInput('r', tensorType('float32', [3, 4]));
  const filter = graph.addConstant('filter', ramp([3, 2, 3, 2, 4], 0.5)); // DHWIO
  const bias = graph.addConstant('bias', Tensor.fromValues('float32', [4], [0.25, -0.5, 1, 0]));
  const conv = (padding: string, stride: number, dilation: number, fused: string): Record<string, Attribute> => ({
    padding: attrs.string(padding),
    stride_d: attrs.int(stride),
    stride_h: attrs.int(stride),
    stride_w: attrs.int(1),
    dilation_d_factor: attrs.int(1),
    dilation_h_factor: attrs.int(dilation),
    dilation_w_factor: attrs.int(dilation),
    fused_activation_function: attrs.string(fused),
  });
  const outputs: Value[] = [];
  // SAME, stride 2 on D and H: D 4 → 2 (k 3: total 1, odd row after), H 5 → 3 (k 2: total 1), W 6 → 6 (k 3: total 2).
  outputs.push(...add(graph, 'CONV_3D', [x, filter, bias], [['conv_same', tensorType('float32', [1, 2, 3, 6, 4])]], conv('SAME', 2, 1, 'NONE')));
  // VALID, dilation 2 on H and W, fused RELU: D 4 − 2 = 2, H 5 − 2 = 3, W 6 − 4 = 2.
  outputs.push(...add(graph, 'CONV_3D', [x, filter, null], [['conv_valid', tensorType('float32', [1, 2, 3, 2, 4])]], conv('VALID', 1, 2, 'RELU')));
  outputs.push(...add(graph, 'TILE', [t, graph.addConstant('multiples', Tensor.fromValues('int32', [2], [2, 3]))], [['tiled', tensorType('float32', [4, 9])]]));
  outputs.push(...add(graph, 'TILE', [t, m], [['tiled_run_time', tensorType('float32', [6, 6])]]));
  const axis = (name: string, value: number) => graph.addConstant(name, Tensor.fromValues('int32', [1], [value]));
  outputs.push(...add(graph, 'ARG_MAX', [r, axis('last_axis', -1)], [['arg_max', tensorType('int64', [3])]], { output_type: attrs.string('INT64') }));
  outputs.push(...add(graph, 'ARG_MIN', [r, axis('first_axis', 0)], [['arg_min', tensorType('int32', [4])]], { output_type: attrs.string('INT32') }));
  outputs.push(...add(graph, 'LOG_SOFTMAX', [r], [['log_softmax', tensorType('float32', [3, 4])]]));
  outputs.push(...add(graph, 'CUMSUM', [r, graph.addConstant('cumsum_axis', Tensor.fromValues('int32', [], [1]))], [['cumsum', tensorType('float32', [3, 4])]], { exclusive: attrs.int(1), reverse: attrs.int(1) }));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: CONV_3D, TILE, ARG_MAX, ARG_MIN', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = model();
    // r has ties (a 1 twice in row 0, a -2 twice in column 1): both keep the first index.
    const r = Tensor.fromValues('float32', [3, 4], [1, 0, 1, -1, 2, -2, 0.5, 3, -1, -2, 4, 0]);
    const feeds = { x: ramp([1, 4, 5, 6, 2], 2, 0.3), t: ramp([2, 3], 1, 1), m: Tensor.fromValues('int32', [2], [3, 2]), r };
    const onTflite = await new TfliteEngine().run(tflite, feeds);
    raiseFromTflite(tflite, registry, { opset: 13 });
    const ops = tflite.graph.nodeList().map((n) => n.op);
    expect(ops.filter((op) => op.startsWith('tflite.'))).toEqual([]);
    expect(ops).toEqual(expect.arrayContaining(['onnx.Conv', 'onnx.Tile', 'onnx.ArgMax', 'onnx.ArgMin', 'onnx.LogSoftmax', 'onnx.CumSum']));
    const onOrt = await runOrt(tflite, feeds);
    expect([...onOrt.keys()].sort()).toEqual([...onTflite.keys()].sort());
    for (const [name, expected] of onTflite) {
      const actual = onOrt.get(name)!;
      expect(actual.shape, name).toEqual(expected.shape);
      const e = expected.toNumbers();
      const g = actual.toNumbers();
      if (name.startsWith('conv') || name === 'log_softmax' || name === 'cumsum') {
        for (let i = 0; i < e.length; i++) expect(Math.abs(g[i]! - e[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e[i]!)));
      } else {
        expect(g, name).toEqual(e);
      }
    }
    // Not trivially equal: the convolutions vary and the RELU zeroed some outputs.
    expect(new Set(onTflite.get('conv_same')!.toNumbers()).size).toBeGreaterThan(40);
    expect(onTflite.get('conv_valid')!.toNumbers().some((v) => v === 0)).toBe(true);
    expect(onTflite.get('arg_max')!.toNumbers()).toEqual([0, 3, 2]);
    expect(onTflite.get('arg_min')!.toNumbers()).toEqual([2, 1, 1, 0]);
    expect(onOrt.get('arg_min')!.dtype).toBe('int32');
    // exclusive and reverse: row 0 [1, 0, 1, -1] → sums of what follows each element.
    expect(onTflite.get('cumsum')!.toNumbers().slice(0, 4)).toEqual([0, 0, -1, 0]);
  }, 60_000);

  function scatterModel(): Model {
    const graph = new Graph('main');
    const u = graph.addInput('u', tensorType('float32', [3, 2]));
    const i = graph.addInput('i', tensorType('int32', [3, 1]));
    const v = graph.addInput('v', tensorType('float32', [2, 6]));
    const shape = graph.addConstant('shape', Tensor.fromValues('int32', [2], [4, 2]));
    const fixed = graph.addConstant('fixed', Tensor.fromValues('int32', [3, 1], [3, 0, 1]));
    const outputs = [
      ...add(graph, 'SCATTER_ND', [fixed, u, shape], [['scatter_constant', tensorType('float32', [4, 2])]]),
      ...add(graph, 'SCATTER_ND', [i, u, shape], [['scatter_run_time', tensorType('float32', [4, 2])]]),
      ...add(graph, 'TOPK_V2', [v, graph.addConstant('k', Tensor.fromValues('int32', [], [3]))], [['top_values', tensorType('float32', [2, 3])], ['top_indices', tensorType('int32', [2, 3])]]),
    ];
    graph.setOutputs(outputs);
    const result = new Model(graph);
    result.opsetImports.set('tflite', 3);
    return result;
  }

  it('SCATTER_ND (repeated run-time indices summed) and TOPK_V2 raised at opset 16 give ORT the TFLite runtime outputs', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = scatterModel();
    const feeds = {
      u: Tensor.fromValues('float32', [3, 2], [1, 2, 3, 4, 5, 6]),
      i: Tensor.fromValues('int32', [3, 1], [2, 0, 2]),
      v: Tensor.fromValues('float32', [2, 6], [0.5, 3, -1, 3, 2, 0, 1, 1, 4, -2, 1, 0]),
    };
    const onTflite = await new TfliteEngine().run(tflite, feeds);
    raiseFromTflite(tflite, registry, { opset: 16 });
    expect(tflite.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
    const onOrt = await runOrt(tflite, feeds);
    for (const [name, expected] of onTflite) {
      expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
      expect(onOrt.get(name)!.dtype, name).toBe(expected.dtype);
      expect(onOrt.get(name)!.toNumbers(), name).toEqual(expected.toNumbers());
    }
    // Row 2 was given twice (1,2 and 5,6): TFLite sums them.
    expect(onTflite.get('scatter_run_time')!.toNumbers()).toEqual([3, 4, 0, 0, 6, 8, 0, 0]);
    expect(onTflite.get('top_indices')!.toNumbers()).toEqual([1, 3, 4, 2, 0, 1]);
  }, 60_000);

  it('at opset 13 a SCATTER_ND of run-time indices is refused by node (repeats would need reduction add)', () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = scatterModel();
    let message = '';
    try {
      raiseFromTflite(tflite, registry, { opset: 13 });
    } catch (error) {
      message = (error as Error).message + JSON.stringify((error as { diagnostics?: unknown }).diagnostics ?? []);
    }
    expect(message).toMatch(/scatter_run_time/);
    expect(message).toMatch(/opset 16/);
    expect(message).not.toMatch(/scatter_constant/);
  });
});
