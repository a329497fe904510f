/**
 * raise-tflite rules that no test ran before the issue 12 audit (s14): EXPAND_DIMS, MIRROR_PAD (REFLECT), RESIZE_NEAREST_NEIGHBOR
 * (plain, half_pixel_centers, align_corners), SELECT, SQUARE, SQUARED_DIFFERENCE and SQUEEZE are all tf2onnx TFLite op names
 * that legalize-tflite never writes, so the ONNX node-case round trip never reached them. A tflite-dialect model run by the
 * TFLite 2.9 runtime, then raised and run by ONNX Runtime, gives the same outputs. SIGN (builtin 158) is newer than
 * TFLite 2.9, which cannot load it: its raised form is checked against Math.sign of the input instead. MIRROR_PAD
 * SYMMETRIC has no ONNX Pad mode and is refused by node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';
import { expectRaisedAgrees } from './tflite-raised-case.js';

afterAll(() => disposeSharedOrtRunner());

const f = (shape: number[]) => tensorType('float32', shape);
const int32 = (shape: number[], values: number[]) => Tensor.fromValues('int32', shape, values);

function model(withSign: boolean): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', f([1, 4, 6, 3]));
  const y = graph.addInput('y', f([1, 4, 6, 3]));
  const c = graph.addInput('c', tensorType('bool', [1, 4, 6, 3]));
  const outputs: Value[] = [];
  outputs.push(...add(graph, 'EXPAND_DIMS', [x, graph.addConstant('axis', Tensor.scalar('int32', 1))], [['expand', f([1, 1, 4, 6, 3])]]));
  const pads = graph.addConstant('pads', int32([4, 2], [0, 0, 1, 2, 2, 1, 0, 0]));
  outputs.push(...add(graph, 'MIRROR_PAD', [x, pads], [['reflect', f([1, 7, 9, 3])]], { mode: attrs.string('REFLECT') }));
  const size = graph.addConstant('size', int32([2], [7, 10]));
  outputs.push(...add(graph, 'RESIZE_NEAREST_NEIGHBOR', [x, size], [['nearest', f([1, 7, 10, 3])]]));
  outputs.push(...add(graph, 'RESIZE_NEAREST_NEIGHBOR', [x, size], [['nearest_half_pixel', f([1, 7, 10, 3])]], { half_pixel_centers: attrs.int(1) }));
  outputs.push(...add(graph, 'RESIZE_NEAREST_NEIGHBOR', [x, size], [['nearest_align_corners', f([1, 7, 10, 3])]], { align_corners: attrs.int(1) }));
  outputs.push(...add(graph, 'SELECT', [c, x, y], [['select', f([1, 4, 6, 3])]]));
  outputs.push(...add(graph, 'SQUARE', [x], [['square', f([1, 4, 6, 3])]]));
  outputs.push(...add(graph, 'SQUARED_DIFFERENCE', [x, y], [['squared_difference', f([1, 4, 6, 3])]]));
  outputs.push(...add(graph, 'SQUEEZE', [x], [['squeeze', f([4, 6, 3])]], { squeeze_dims: attrs.ints([0]) }));
  if (withSign) outputs.push(...add(graph, 'SIGN', [x], [['sign', f([1, 4, 6, 3])]]));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

const x = ramp([1, 4, 6, 3], 3);
const feeds = {
  // zeros included, for SIGN
  x: Tensor.fromValues('float32', [1, 4, 6, 3], x.toNumbers().map((v, i) => (i % 11 === 0 ? 0 : v))),
  y: ramp([1, 4, 6, 3], 2, 1),
  c: Tensor.fromValues('bool', [1, 4, 6, 3], Array.from({ length: 72 }, (_, i) => (i * 7) % 3 === 0)),
};

describe('raise-tflite: builtins the ONNX node-case round trip never reaches', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const tflite = model(false);
    const onOrt = await expectRaisedAgrees(tflite, feeds);
    // The three nearest-neighbour modes pick different pixels, so each mode's mapping is checked, not one shared result.
    const nearest = ['nearest', 'nearest_half_pixel', 'nearest_align_corners'].map((name) => onOrt.get(name)!.toNumbers().join());
    expect(new Set(nearest).size).toBe(3);
  });

  it('SIGN (newer than TFLite 2.9) raises to Sign: ORT gives Math.sign of the input', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = model(true);
    raiseFromTflite(tflite, registry, { opset: 13 });
    const onOrt = await runOrt(tflite, feeds);
    expect(onOrt.get('sign')!.toNumbers()).toEqual(feeds.x.toNumbers().map((v) => Math.sign(v) + 0));
  });

  it('MIRROR_PAD SYMMETRIC is refused by node (ONNX Pad has no symmetric mode)', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', f([1, 4, 6, 3]));
    const pads = graph.addConstant('pads', int32([4, 2], [0, 0, 1, 1, 1, 1, 0, 0]));
    graph.setOutputs(add(graph, 'MIRROR_PAD', [x, pads], [['symmetric', f([1, 6, 8, 3])]], { mode: attrs.string('SYMMETRIC') }));
    const tflite = new Model(graph);
    tflite.opsetImports.set('tflite', 3);
    let error: unknown;
    try {
      raiseFromTflite(tflite, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    } catch (e) {
      error = e;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/node 'symmetric' \(tflite\.MIRROR_PAD\).*MIRROR_PAD SYMMETRIC has no ONNX Pad mode/);
    expect(tflite.graph.nodeList().map((n) => n.op)).toEqual(['tflite.MIRROR_PAD']);
  });
});
