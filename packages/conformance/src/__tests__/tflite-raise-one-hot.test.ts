/**
 * raise-tflite rule for ONE_HOT (issue 12 audit s14: legalize-tflite writes ONE_HOT for ONNX OneHot, and raise-tflite
 * refused it, 'tflite.ONE_HOT has no ONNX lowering yet', which kept 78 of ONNX's node cases from coming back). TFLite
 * gives an all-off row for an index outside [0, depth) — negative ones too, unlike ONNX OneHot — so the raise is
 * Where(Equal(indices, classes), on, off). The TFLite 2.9 runtime and ORT on the raised model give the same outputs:
 * int32 and int64 indices (negative and too large included), axes -1, 0 and 1, float32 and int32 values, a run-time
 * depth.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, Tensor, tensorType, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { addTfliteNode as add } from './tflite-graph-building.js';
import { expectRaisedAgrees } from './tflite-raised-case.js';

afterAll(() => disposeSharedOrtRunner());

function model(): Model {
  const graph = new Graph('main');
  const i32 = graph.addInput('i32', tensorType('int32', [2, 3]));
  const i64 = graph.addInput('i64', tensorType('int64', [5]));
  const depthAtRunTime = graph.addInput('d', tensorType('int32', []));
  const depth = graph.addConstant('depth', Tensor.scalar('int32', 4));
  const on = graph.addConstant('on', Tensor.scalar('float32', 2.5));
  const off = graph.addConstant('off', Tensor.scalar('float32', -1));
  const onInt = graph.addConstant('on_int', Tensor.scalar('int32', 7));
  const offInt = graph.addConstant('off_int', Tensor.scalar('int32', 0));
  const outputs: Value[] = [];
  outputs.push(...add(graph, 'ONE_HOT', [i32, depth, on, off], [['last', tensorType('float32', [2, 3, 4])]], { axis: attrs.int(-1) }));
  outputs.push(...add(graph, 'ONE_HOT', [i32, depth, on, off], [['first', tensorType('float32', [4, 2, 3])]], { axis: attrs.int(0) }));
  outputs.push(...add(graph, 'ONE_HOT', [i32, depth, onInt, offInt], [['middle_int', tensorType('int32', [2, 4, 3])]], { axis: attrs.int(1) }));
  outputs.push(...add(graph, 'ONE_HOT', [i64, depth, on, off], [['int64_indices', tensorType('float32', [5, 4])]], { axis: attrs.int(-1) }));
  outputs.push(...add(graph, 'ONE_HOT', [i64, depthAtRunTime, on, off], [['run_time_depth', tensorType('float32', [5, 3])]], { axis: attrs.int(-1) }));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: ONE_HOT', () => {
  it('the raised model gives ORT the TFLite runtime outputs, out-of-range and negative indices all off', async () => {
    const tflite = model();
    const feeds = {
      i32: Tensor.fromValues('int32', [2, 3], [0, 3, -1, 2, 4, 1]),
      i64: Tensor.fromValues('int64', [5], [1n, -2n, 0n, 9n, 2n]),
      d: Tensor.scalar('int32', 3),
    };
    const onOrt = await expectRaisedAgrees(tflite, feeds);
    // Independent of both runtimes: index -1 (third of the first row) and 4 (second of the second) are all off.
    const last = onOrt.get('last')!.toNumbers();
    expect(last.slice(8, 12)).toEqual([-1, -1, -1, -1]);
    expect(last.slice(16, 20)).toEqual([-1, -1, -1, -1]);
    expect(last.slice(4, 8)).toEqual([-1, -1, -1, 2.5]);
    expect(onOrt.get('run_time_depth')!.toNumbers()).toEqual([-1, 2.5, -1, -1, -1, -1, 2.5, -1, -1, -1, -1, -1, -1, -1, 2.5]);
  });
});
