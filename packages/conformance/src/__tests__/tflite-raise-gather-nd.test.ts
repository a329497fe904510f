/**
 * raise-tflite rule for GATHER_ND (QA s13: RAFT's .tflite could not go back to ONNX, 'tflite.GATHER_ND has no
 * ONNX lowering yet'): a tflite-dialect model run by the TFLite 2.9 runtime, then raised and run by ONNX Runtime,
 * gives the same outputs. float32 and int32 params; indices of rank 1, 2 and 3, tuples of 1 to 3 coordinates
 * (whole rows, columns of rows, single elements); int32 and int64 indices, at run time (graph inputs: the
 * int32 ones go through a Cast) and constant.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';
import { expectRaisedAgrees } from './tflite-raised-case.js';

afterAll(() => disposeSharedOrtRunner());

const int64 = (shape: number[], values: number[]) => Tensor.fromValues('int64', shape, values.map(BigInt));

/** p float32[4,3,2] and q int32[5,4]; run-time indices i1 int32[2], i2 int32[3,1], i3 int64[2,2,3], j2 int32[3,2]. */
function model(): Model {
  const graph = new Graph('main');
  const p = graph.addInput('p', tensorType('float32', [4, 3, 2]));
  const q = graph.addInput('q', tensorType('int32', [5, 4]));
  const i1 = graph.addInput('i1', tensorType('int32', [2]));
  const i2 = graph.addInput('i2', tensorType('int32', [3, 1]));
  const i3 = graph.addInput('i3', tensorType('int64', [2, 2, 3]));
  const j2 = graph.addInput('j2', tensorType('int32', [3, 2]));
  const outputs: Value[] = [];
  // Rank-1 indices [2]: one tuple of two coordinates → the row p[a, b, :].
  outputs.push(...add(graph, 'GATHER_ND', [p, i1], [['f_rank1', tensorType('float32', [2])]]));
  // Rank-2 indices [3, 1]: three whole p[a] slices.
  outputs.push(...add(graph, 'GATHER_ND', [p, i2], [['f_rank2', tensorType('float32', [3, 3, 2])]]));
  // Rank-3 int64 indices [2, 2, 3]: single elements.
  outputs.push(...add(graph, 'GATHER_ND', [p, i3], [['f_rank3', tensorType('float32', [2, 2])]]));
  // Constant int64 indices of rank 3 [2, 1, 2] on p: rows p[a, b, :].
  const c3 = graph.addConstant('c3', int64([2, 1, 2], [3, 2, 0, 1]));
  outputs.push(...add(graph, 'GATHER_ND', [p, c3], [['f_const', tensorType('float32', [2, 1, 2])]]));
  // int32 params: run-time int32 indices [3, 2] → elements; constant int32 indices [2, 1, 1] → rows; constant int64 [1] → a row.
  outputs.push(...add(graph, 'GATHER_ND', [q, j2], [['i_rank2', tensorType('int32', [3])]]));
  const c31 = graph.addConstant('c31', Tensor.fromValues('int32', [2, 1, 1], [4, 1]));
  outputs.push(...add(graph, 'GATHER_ND', [q, c31], [['i_rank3', tensorType('int32', [2, 1, 4])]]));
  const c1 = graph.addConstant('c1', int64([1], [2]));
  outputs.push(...add(graph, 'GATHER_ND', [q, c1], [['i_rank1', tensorType('int32', [4])]]));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: GATHER_ND', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const tflite = model();
    const feeds = {
      p: ramp([4, 3, 2], 2, 0.4),
      q: Tensor.fromValues('int32', [5, 4], Array.from({ length: 20 }, (_, i) => (i * 37) % 101 - 50)),
      i1: Tensor.fromValues('int32', [2], [2, 1]),
      i2: Tensor.fromValues('int32', [3, 1], [3, 0, 3]),
      i3: int64([2, 2, 3], [0, 0, 1, 3, 2, 0, 1, 1, 1, 2, 0, 1]),
      j2: Tensor.fromValues('int32', [3, 2], [4, 3, 0, 0, 2, 1]),
    };
    const onOrt = await expectRaisedAgrees(tflite, feeds);
    expect(tflite.graph.nodeList().filter((n) => n.op === 'onnx.GatherND')).toHaveLength(7);
    // A spot check independent of both runtimes: f_rank1 = p[2, 1, :], i_rank1 = q[2, :].
    expect(onOrt.get('f_rank1')!.toNumbers()).toEqual(feeds.p.toNumbers().slice(2 * 6 + 1 * 2, 2 * 6 + 1 * 2 + 2));
    expect(onOrt.get('i_rank1')!.toNumbers()).toEqual(feeds.q.toNumbers().slice(8, 12));
  });
});

/**
 * FLOOR_MOD on floats (found by the GATHER_ND rule: gridsample reflection's .tflite now raised whole, and ORT refused
 * its Mod: 'fmod attribute must be true for floating point types'): float FLOOR_MOD raises to fmod + a sign fix-up,
 * int32 FLOOR_MOD to Mod; both equal to the TFLite runtime, signs of x and y mixed, exact multiples included.
 */
describe('raise-tflite: FLOOR_MOD', () => {
  it('float32 and int32 FLOOR_MOD give ORT the TFLite runtime outputs', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [4, 6]));
    const y = graph.addInput('y', tensorType('float32', [1, 6]));
    const a = graph.addInput('a', tensorType('int32', [8]));
    const b = graph.addInput('b', tensorType('int32', [8]));
    const outputs = [
      ...add(graph, 'FLOOR_MOD', [x, y], [['fmod_float', tensorType('float32', [4, 6])]]),
      ...add(graph, 'FLOOR_MOD', [a, b], [['fmod_int', tensorType('int32', [8])]]),
    ];
    graph.setOutputs(outputs);
    const tflite = new Model(graph);
    tflite.opsetImports.set('tflite', 3);
    const xs = [5.5, -5.5, 6, -6, 0.25, -0.25, 7, -7, 1e-3, -1e-3, 2.9, -2.9];
    const feeds = {
      x: Tensor.fromValues('float32', [4, 6], [...xs, ...xs.map((v) => v * 3.7)].map(Math.fround)),
      y: Tensor.fromValues('float32', [1, 6], [3, -3, 2, -2, 0.75, -1.5]),
      a: Tensor.fromValues('int32', [8], [7, -7, 7, -7, 6, -6, 0, 5]),
      b: Tensor.fromValues('int32', [8], [3, 3, -3, -3, 3, -3, 4, -1]),
    };
    const onTflite = await new TfliteEngine().run(tflite, feeds);
    raiseFromTflite(tflite, registry, { opset: 13 });
    const onOrt = await runOrt(tflite, feeds);
    for (const [name, expected] of onTflite) expect(onOrt.get(name)!.toNumbers(), name).toEqual(expected.toNumbers());
    // Independent of both runtimes: the remainder takes the divisor's sign.
    expect(onOrt.get('fmod_int')!.toNumbers()).toEqual([1, 2, -2, -1, 0, 0, 0, 0]);
    expect(onOrt.get('fmod_float')!.toNumbers().slice(0, 6)).toEqual([2.5, -2.5, 0, -0, 0.25, -0.25]);
  });
});
