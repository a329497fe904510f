/**
 * raise-tflite rules for NOT_EQUAL, FLOOR_DIV, FILL and RANGE (issue 12 audit, s14: four of tf2onnx's TFLite op names
 * that raise-tflite refused with 'has no ONNX lowering yet' — legalize-tflite itself writes NOT_EQUAL (IsNaN, IsInf,
 * Mod, …), FILL (run-time ConstantOfShape, Expand) and RANGE, so 46 of ONNX's node cases it converts could not come
 * back). A tflite-dialect model run by the TFLite 2.9 runtime, then raised and run by ONNX Runtime, gives the same
 * outputs: float32 and int32, signs of x and y mixed, exact multiples and equal elements included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, tensorType, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';
import { expectRaisedAgrees } from './tflite-raised-case.js';

afterAll(() => disposeSharedOrtRunner());

function model(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [4, 6]));
  const y = graph.addInput('y', tensorType('float32', [4, 6]));
  const a = graph.addInput('a', tensorType('int32', [12]));
  const b = graph.addInput('b', tensorType('int32', [12]));
  const v = graph.addInput('v', tensorType('float32', []));
  const k = graph.addInput('k', tensorType('int32', []));
  const bool = (shape: number[]) => tensorType('bool', shape);
  const outputs: Value[] = [];
  outputs.push(...add(graph, 'NOT_EQUAL', [x, y], [['ne_f', bool([4, 6])]]));
  outputs.push(...add(graph, 'NOT_EQUAL', [a, b], [['ne_i', bool([12])]]));
  outputs.push(...add(graph, 'FLOOR_DIV', [x, y], [['fd_f', tensorType('float32', [4, 6])]]));
  outputs.push(...add(graph, 'FLOOR_DIV', [a, b], [['fd_i', tensorType('int32', [12])]]));
  const dims32 = graph.addConstant('dims32', Tensor.fromValues('int32', [2], [3, 5]));
  outputs.push(...add(graph, 'FILL', [dims32, v], [['fill_f', tensorType('float32', [3, 5])]]));
  const dims64 = graph.addConstant('dims64', Tensor.fromValues('int64', [3], [2n, 1n, 4n]));
  outputs.push(...add(graph, 'FILL', [dims64, k], [['fill_i', tensorType('int32', [2, 1, 4])]]));
  const f = (name: string, value: number) => graph.addConstant(name, Tensor.scalar('float32', value));
  const i = (name: string, value: number) => graph.addConstant(name, Tensor.scalar('int32', value));
  // ceil((2.5 − (−1)) / 0.75) = 5 values; ceil((−7 − 10) / −3) = 6 values.
  outputs.push(...add(graph, 'RANGE', [f('f_start', -1), f('f_limit', 2.5), f('f_delta', 0.75)], [['range_f', tensorType('float32', [5])]]));
  outputs.push(...add(graph, 'RANGE', [i('i_start', 10), i('i_limit', -7), i('i_delta', -3)], [['range_i', tensorType('int32', [6])]]));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: NOT_EQUAL, FLOOR_DIV, FILL, RANGE', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const tflite = model();
    const xs = ramp([4, 6], 7, 0.3);
    const ys = ramp([4, 6], 3, 1.1).toNumbers().map((value, index) => (index % 5 === 0 ? xs.toNumbers()[index]! : Math.abs(value) < 0.25 ? 0.5 : value));
    const feeds = {
      x: xs,
      y: Tensor.fromValues('float32', [4, 6], ys),
      a: Tensor.fromValues('int32', [12], [7, -7, 7, -7, 6, -6, 0, 13, -13, 5, 9, -1]),
      b: Tensor.fromValues('int32', [12], [2, 2, -2, -2, 3, 3, 4, -5, 5, 5, 9, 4]),
      v: Tensor.scalar('float32', -2.25),
      k: Tensor.scalar('int32', 41),
    };
    const onOrt = await expectRaisedAgrees(tflite, feeds);
    // Spot checks independent of both runtimes: floor division of mixed signs, and the ranges.
    expect(onOrt.get('fd_i')!.toNumbers()).toEqual([3, -4, -4, 3, 2, -2, 0, -3, -3, 1, 1, -1]);
    expect(onOrt.get('range_f')!.toNumbers()).toEqual([-1, -0.25, 0.5, 1.25, 2]);
    expect(onOrt.get('range_i')!.toNumbers()).toEqual([10, 7, 4, 1, -2, -5]);
    expect(onOrt.get('fill_i')!.toNumbers()).toEqual(new Array(8).fill(41));
    expect(onOrt.get('ne_i')!.toNumbers()).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
    expect(onOrt.get('ne_f')!.toNumbers().filter((value, index) => index % 5 === 0 && value !== 0)).toEqual([]);
  });
});
