/**
 * raise-tflite rules for SEGMENT_SUM, UNSORTED_SEGMENT_SUM/MAX/MIN/PROD, SPARSE_TO_DENSE, SPACE_TO_BATCH_ND and
 * BATCH_TO_SPACE_ND (issue 12 item 2: tf2onnx op names raise-tflite refused, 'has no ONNX lowering yet'). ONNX has
 * none of them as one op; the raised compositions run in ORT against the TFLite 2.9 runtime where it has a kernel,
 * and against a hand computation where it has none (TFLite 2.9 knows no UNSORTED_SEGMENT_* kernel).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

const registry = () => registerTfliteDialect(createOpRegistry());

function finish(graph: Graph, outputs: Value[]): Model {
  graph.setOutputs(outputs);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

function raised(model: Model): Model {
  raiseFromTflite(model, registry(), { opset: 13 });
  expect(model.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
  return model;
}

async function expectTfliteEqualsOrt(build: () => Model, feeds: Record<string, Tensor>): Promise<Map<string, Tensor>> {
  const onTflite = await new TfliteEngine().run(build(), feeds);
  const onOrt = await runOrt(raised(build()), feeds);
  for (const [name, expected] of onTflite) {
    expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
    expect(onOrt.get(name)!.toNumbers(), name).toEqual(expected.toNumbers());
  }
  return onOrt;
}

describe('raise-tflite: SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND', () => {
  it('the raised model gives ORT the TFLite runtime outputs (paddings, crops, 1 and 2 spatial dims)', async () => {
    const build = () => {
      const graph = new Graph('main');
      const x = graph.addInput('x', tensorType('float32', [2, 5, 4, 3]));
      const y = graph.addInput('y', tensorType('float32', [8, 2, 3, 2]));
      const z = graph.addInput('z', tensorType('float32', [1, 6, 2]));
      const i32 = (name: string, shape: number[], values: number[]) => graph.addConstant(name, Tensor.fromValues('int32', shape, values));
      return finish(graph, [
        ...add(graph, 'SPACE_TO_BATCH_ND', [x, i32('block', [2], [2, 3]), i32('pads', [2, 2], [1, 0, 1, 1])], [['s2b', tensorType('float32', [12, 3, 2, 3])]]),
        ...add(graph, 'BATCH_TO_SPACE_ND', [y, i32('block2', [2], [2, 2]), i32('crops', [2, 2], [0, 1, 1, 0])], [['b2s', tensorType('float32', [2, 3, 5, 2])]]),
        ...add(graph, 'SPACE_TO_BATCH_ND', [z, i32('block3', [1], [3]), i32('pads3', [1, 2], [0, 0])], [['s2b_1d', tensorType('float32', [3, 2, 2])]]),
        ...add(graph, 'BATCH_TO_SPACE_ND', [z, i32('block4', [1], [1]), i32('crops4', [1, 2], [0, 0])], [['b2s_1d', tensorType('float32', [1, 6, 2])]]),
      ]);
    };
    const out = await expectTfliteEqualsOrt(build, { x: ramp([2, 5, 4, 3], 1), y: ramp([8, 2, 3, 2], 1, 0.4), z: ramp([1, 6, 2], 1, 0.8) });
    // A zero from the padding lands in batch 0 (block offset 0,0 reads padded row 0, which is padding).
    expect(out.get('s2b')!.toNumbers().slice(0, 3)).toEqual([0, 0, 0]);
  });
});

describe('raise-tflite: SEGMENT_SUM, UNSORTED_SEGMENT_*', () => {
  it('SEGMENT_SUM and SPARSE_TO_DENSE: the raised model gives ORT the TFLite runtime outputs', async () => {
    const build = () => {
      const graph = new Graph('main');
      const data = graph.addInput('data', tensorType('float32', [5, 2, 3]));
      const ids = graph.addConstant('ids', Tensor.fromValues('int32', [5], [0, 0, 1, 1, 2])); // TFLite 2.9 wants sorted ids stepping by 0 or 1
      const runIds = graph.addInput('run_ids', tensorType('int32', [5]));
      const values = graph.addInput('values', tensorType('float32', [3]));
      const indices = graph.addConstant('indices', Tensor.fromValues('int32', [3, 2], [0, 1, 2, 3, 1, 0]));
      const shape = graph.addConstant('shape', Tensor.fromValues('int32', [2], [3, 4]));
      const fallback = graph.addConstant('fallback', Tensor.scalar('float32', -7));
      const idx1 = graph.addConstant('idx1', Tensor.fromValues('int32', [2], [4, 1]));
      const shape1 = graph.addConstant('shape1', Tensor.fromValues('int32', [1], [6]));
      const one = graph.addConstant('one', Tensor.fromValues('int32', [2], [9, 8]));
      const zero = graph.addConstant('zero', Tensor.scalar('int32', 0));
      return finish(graph, [
        ...add(graph, 'SEGMENT_SUM', [data, ids], [['segsum', tensorType('float32', [3, 2, 3])]]),
        ...add(graph, 'SEGMENT_SUM', [data, runIds], [['segsum_run', tensorType('float32', [5, 2, 3])]]),
        ...add(graph, 'SPARSE_TO_DENSE', [indices, shape, values, fallback], [['dense', tensorType('float32', [3, 4])]], { validate_indices: attrs.int(0) }),
        ...add(graph, 'SPARSE_TO_DENSE', [idx1, shape1, one, zero], [['dense_1d', tensorType('int32', [6])]], { validate_indices: attrs.int(0) }),
      ]);
    };
    const feeds = { data: ramp([5, 2, 3], 2), run_ids: Tensor.fromValues('int32', [5], [0, 1, 1, 1, 2]), values: Tensor.fromValues('float32', [3], [1.5, 2.5, 3.5]) };
    const out = await expectTfliteEqualsOrt(build, feeds);
    expect(out.get('segsum_run')!.shape).toEqual([3, 2, 3]);
    expect(out.get('dense')!.toNumbers()).toEqual([-7, 1.5, -7, -7, -7, -7, -7, -7, -7, -7, -7, 2.5].map((v, i) => (i === 4 ? 3.5 : v)));
    expect(out.get('dense_1d')!.toNumbers()).toEqual([0, 8, 0, 0, 9, 0]);
  });

  it('UNSORTED_SEGMENT_SUM/MAX/MIN/PROD in ORT equal a hand computation (empty segments, a negative id, 2-D ids, int32)', async () => {
    const ids = [2, 0, 2, -1, 0, 3];
    const segmentsOf = (op: string, values: number[], width: number, count: number) => {
      const start: Record<string, number> = { SUM: 0, MAX: -3.4028234663852886e38, MIN: 3.4028234663852886e38, PROD: 1 };
      const out = Array.from({ length: count * width }, () => start[op]!);
      ids.forEach((id, row) => {
        if (id < 0 || id >= count) return;
        for (let j = 0; j < width; j++) {
          const [a, b] = [out[id * width + j]!, values[row * width + j]!];
          out[id * width + j] = op === 'SUM' ? Math.fround(a + b) : op === 'MAX' ? Math.max(a, b) : op === 'MIN' ? Math.min(a, b) : Math.fround(a * b);
        }
      });
      return out;
    };
    const graph = new Graph('main');
    const data = graph.addInput('data', tensorType('float32', [6, 2]));
    const flat = graph.addInput('flat', tensorType('int32', [2, 3, 2]));
    const idsValue = graph.addConstant('ids', Tensor.fromValues('int32', [6], ids));
    const ids2d = graph.addConstant('ids2d', Tensor.fromValues('int32', [2, 3], ids));
    const count = graph.addInput('count', tensorType('int32', []));
    const five = graph.addConstant('five', Tensor.scalar('int32', 5));
    const outputs: Value[] = [];
    for (const op of ['SUM', 'MAX', 'MIN', 'PROD']) {
      outputs.push(...add(graph, `UNSORTED_SEGMENT_${op}`, [data, idsValue, five], [[op.toLowerCase(), tensorType('float32', [5, 2])]]));
    }
    outputs.push(...add(graph, 'UNSORTED_SEGMENT_MAX', [flat, ids2d, count], [['int_max', tensorType('int32', [null, 2])]]));
    const model = raised(finish(graph, outputs));
    const values = ramp([6, 2], 3).toNumbers();
    const ints = Array.from({ length: 12 }, (_, i) => ((i * 7) % 11) - 5);
    const out = await runOrt(model, { data: ramp([6, 2], 3), flat: Tensor.fromValues('int32', [2, 3, 2], ints), count: Tensor.scalar('int32', 4) });
    for (const op of ['SUM', 'MAX', 'MIN', 'PROD']) {
      const got = out.get(op.toLowerCase())!.toNumbers();
      const want = segmentsOf(op, values, 2, 5);
      expect(out.get(op.toLowerCase())!.shape).toEqual([5, 2]);
      want.forEach((w, i) => expect(got[i], `${op}[${i}]`).toBeCloseTo(w, 5));
    }
    expect(out.get('int_max')!.shape).toEqual([4, 2]);
    expect(out.get('int_max')!.toNumbers()).toEqual(segmentsOf('MAX', ints, 2, 4).map((v) => (v < -3e38 ? -2147483648 : v)));
  });
});

describe('raise-tflite: what these rules cannot express is refused by node', () => {
  it('a run-time block_shape, and segment ids that are no leading part of the data', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [1, 4, 4, 1]));
    const block = graph.addInput('block', tensorType('int32', [2]));
    const pads = graph.addConstant('pads', Tensor.fromValues('int32', [2, 2], [0, 0, 0, 0]));
    const data = graph.addInput('data', tensorType('float32', [4, 3]));
    const ids = graph.addConstant('ids', Tensor.fromValues('int32', [3], [0, 1, 1]));
    const count = graph.addConstant('count', Tensor.scalar('int32', 2));
    const model = finish(graph, [
      ...add(graph, 'SPACE_TO_BATCH_ND', [x, block, pads], [['runtime_block', tensorType('float32', [4, 2, 2, 1])]]),
      ...add(graph, 'UNSORTED_SEGMENT_SUM', [data, ids, count], [['short_ids', tensorType('float32', [2, 3])]]),
    ]);
    let error: unknown;
    try {
      raiseFromTflite(model, registry(), { opset: 13 });
    } catch (e) {
      error = e;
    }
    expect(ModelpassError.is(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/node 'runtime_block' \(tflite\.SPACE_TO_BATCH_ND\).*the block_shape and paddings must be constants/);
    expect(message).toMatch(/node 'short_ids' \(tflite\.UNSORTED_SEGMENT_SUM\).*segment_ids of shape \[3\] must be a leading part of the data's \[4,3\]/);
  });
});
