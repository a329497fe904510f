import { attrs, Graph, GraphBuilder, ModelpassError, parseModel, Tensor, tensorType, type Attribute, type ModelFunction } from '@modelpass/ir';
import { createOpRegistry, inferShapes, runReference } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

describe('runReference', () => {
  it('refuses quant<> types (it would compute on the stored integers) and names the value', () => {
    const model = parseModel(`model opsets{onnx=17} {
graph @main(%x: float32[3]) {
  const %w = tensor<int8[3] quant<bits=8, scale=[0.5], zero_point=[0]>> [2, 4, 6]
  %y: float32[3] = onnx.Add(%x, %w) name="add"
  return %y
}
}`);
    let error: unknown;
    try {
      runReference(model, { x: f32([3], [0, 0, 0]) });
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).message).toMatch(/value 'w' has a quantized type/);
    expect((error as ModelpassError).message).toMatch(/materialize-qdq/);
  });

  it('runs nodes in order with constants, graph inputs with defaults and intermediate outputs', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const shape = b.constant(i64([3, 2]), 'shape');
    const reshaped = b.op1('onnx.Reshape', [x, shape], {}, { outputs: ['reshaped'] });
    const y = b.op1('onnx.Transpose', [reshaped], {}, { outputs: ['y'] });
    b.output(y);
    const model = b.model();
    const result = runReference(model, { x: f32([2, 3], [1, 2, 3, 4, 5, 6]) }, { outputs: ['reshaped', 'y'] });
    expect((result.get('reshaped') as Tensor).shape).toEqual([3, 2]);
    expect((result.get('y') as Tensor).toNumbers()).toEqual([1, 3, 5, 2, 4, 6]);
    const withDefault = new GraphBuilder();
    const input = withDefault.input('d', tensorType('int64', [2]));
    withDefault.graph.markConstant(input, i64([4, 5]));
    withDefault.output(withDefault.op1('onnx.Identity', [input]));
    expect((runReference(withDefault.model(), {}).values().next().value as Tensor).toNumbers()).toEqual([4, 5]);
  });

  it('runs If branches that read outer-scope values', () => {
    const b = new GraphBuilder();
    const cond = b.input('cond', tensorType('bool', []));
    const x = b.input('x', tensorType('float32', [2]));
    const thenGraph = new Graph('then');
    const thenB = new GraphBuilder(thenGraph);
    thenB.output(thenB.op1('onnx.Unsqueeze', [x, thenB.constant(i64([0]), 'then_axes')], {}, { outputs: ['then_out'] }));
    const elseGraph = new Graph('else');
    const elseB = new GraphBuilder(elseGraph);
    elseB.output(elseB.op1('onnx.Concat', [x, x], { axis: attrs.int(0) }, { outputs: ['else_out'] }));
    const out = b.op1('onnx.If', [cond], { then_branch: attrs.graph(thenGraph), else_branch: attrs.graph(elseGraph) }, { outputs: ['out'] });
    b.output(out);
    const model = b.model();
    const feeds = (c: boolean) => ({ cond: Tensor.scalar('bool', c), x: f32([2], [1, 2]) });
    expect((runReference(model, feeds(true)).get('out') as Tensor).shape).toEqual([1, 2]);
    expect((runReference(model, feeds(false)).get('out') as Tensor).toNumbers()).toEqual([1, 2, 1, 2]);
  });

  it('runs Loop with a trip count, a condition, carried values and scan outputs', () => {
    // for i in range(M) while sum < limit: sum += x; scan out i
    const b = new GraphBuilder();
    const tripCount = b.input('M', tensorType('int64', []));
    const limit = b.input('limit', tensorType('float32', []));
    const x = b.input('x', tensorType('float32', []));
    const body = new Graph('body');
    const bb = new GraphBuilder(body);
    const iteration = bb.input('i', tensorType('int64', []));
    bb.input('cond_in', tensorType('bool', []));
    const sum = bb.input('sum', tensorType('float32', []));
    const next = bb.op1('onnx.Identity', [sum], {}, { outputs: ['unused'] });
    void next;
    const newSum = bb.op1('onnx.Sum', [sum, x], {}, { outputs: ['new_sum'] });
    const keepGoing = bb.op1('onnx.Less', [newSum, limit], {}, { outputs: ['keep_going'] });
    const scanned = bb.op1('onnx.Identity', [iteration], {}, { outputs: ['scanned'] });
    bb.output(keepGoing, newSum, scanned);
    const initialCond = b.constant(Tensor.scalar('bool', true), 'cond0');
    const initialSum = b.constant(Tensor.scalar('float32', 0), 'sum0');
    const [finalSum, iterations] = b.op('onnx.Loop', [tripCount, initialCond, initialSum], { body: attrs.graph(body) }, { outputs: ['final_sum', 'iterations'] });
    b.output(finalSum!, iterations!);
    const model = b.model();
    const run = (m: number, lim: number) => runReference(model, { M: Tensor.scalar('int64', BigInt(m)), limit: Tensor.scalar('float32', lim), x: Tensor.scalar('float32', 2) });
    const stoppedByCondition = run(10, 7);
    expect((stoppedByCondition.get('final_sum') as Tensor).toNumbers()).toEqual([8]);
    expect((stoppedByCondition.get('iterations') as Tensor).toNumbers()).toEqual([0, 1, 2, 3]);
    const stoppedByCount = run(2, 100);
    expect((stoppedByCount.get('final_sum') as Tensor).toNumbers()).toEqual([4]);
    const none = run(0, 100);
    expect((none.get('iterations') as Tensor).shape).toEqual([0]);
  });

  it('expands model-local functions, resolving attribute references and defaults', () => {
    const body = new Graph('ScaledMatMul');
    const fb = new GraphBuilder(body);
    const a = fb.input('A');
    const bIn = fb.input('B');
    const ref: Attribute = { kind: 'ref', refKind: 'float', refName: 'scale' };
    fb.output(fb.op1('onnx.Gemm', [a, bIn], { alpha: ref }, { outputs: ['Y'] }));
    const fn: ModelFunction = {
      dialect: 'local',
      name: 'ScaledMatMul',
      attributeNames: ['scale'],
      attributeDefaults: new Map([['scale', attrs.float(10)]]),
      opsetImports: new Map([['onnx', 17]]),
      body,
      metadata: new Map(),
    };
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 1]));
    const explicit = b.op1('local.ScaledMatMul', [x, x], { scale: attrs.float(3) }, { outputs: ['explicit'] });
    const defaulted = b.op1('local.ScaledMatMul', [x, x], {}, { outputs: ['defaulted'] });
    b.output(explicit, defaulted);
    const model = b.model({ onnx: 17, local: 1 });
    model.functions.push(fn);
    const result = runReference(model, new Map([['x', f32([1, 1], [2])]]));
    expect((result.get('explicit') as Tensor).toNumbers()).toEqual([12]);
    expect((result.get('defaulted') as Tensor).toNumbers()).toEqual([40]);
  });

  it('reports a missing kernel, a failing kernel and bad feeds as ModelpassErrors naming the culprit', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [4]));
    b.output(b.op1('acme.Frobnicate', [x], {}, { name: 'frob' }));
    const error = (() => {
      try {
        runReference(b.model(), { x: f32([4], [1, 2, 3, 4]) });
      } catch (e) {
        return e;
      }
    })();
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).location?.node).toBe('frob');
    expect((error as ModelpassError).message).toMatch(/no reference kernel/);

    const bad = new GraphBuilder();
    const y = bad.input('y', tensorType('float32', [4]));
    bad.output(bad.op1('onnx.Reshape', [y, bad.constant(i64([3, -1]))], {}, { name: 'reshape_bad' }));
    expect(() => runReference(bad.model(), { y: f32([4], [1, 2, 3, 4]) })).toThrow(/reshape_bad.*cannot reshape/);
    expect(() => runReference(bad.model(), {})).toThrow(/graph input 'y' is not fed/);
    expect(() => runReference(bad.model(), { y: f32([5], [1, 2, 3, 4, 5]) })).toThrow(/does not match its type/);
    expect(() => runReference(bad.model(), { y: f32([4], [1, 2, 3, 4]), z: f32([1], [0]) })).toThrow(/not graph inputs: 'z'/);
  });
});

describe('inferShapes', () => {
  it('flows symbolic dims through convolution, reshape, matmul and concat', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 3, 32, 32]));
    const w = b.constant(Tensor.fromValues('float32', [8, 3, 3, 3], new Array(8 * 27).fill(0)), 'w');
    const conv = b.op1('onnx.Conv', [x, w], { pads: attrs.ints([1, 1, 1, 1]), strides: attrs.ints([2, 2]) });
    const pooled = b.op1('onnx.MaxPool', [conv], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) });
    const flat = b.op1('onnx.Reshape', [pooled, b.constant(i64([0, -1]), 'shape')]);
    const fc = b.op1('onnx.MatMul', [flat, b.constant(Tensor.fromValues('float32', [512, 10], new Array(5120).fill(0)), 'fc')]);
    const both = b.op1('onnx.Concat', [fc, fc], { axis: attrs.int(1) });
    const shape = b.op1('onnx.Shape', [both]);
    b.output(both, shape);
    const model = b.model();
    const result = inferShapes(model, createOpRegistry());
    expect(result.diagnostics).toEqual([]);
    expect(conv.type).toEqual(tensorType('float32', ['N', 8, 16, 16]));
    expect(pooled.type).toEqual(tensorType('float32', ['N', 8, 8, 8]));
    expect(flat.type).toEqual(tensorType('float32', ['N', 512]));
    expect(fc.type).toEqual(tensorType('float32', ['N', 10]));
    expect(both.type).toEqual(tensorType('float32', ['N', 20]));
    expect(shape.type).toEqual(tensorType('int64', [2]));
    expect(result.updated).toBe(6);
  });

  it('keeps more specific declared types and warns on conflicts', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 4]));
    const t = b.op1('onnx.Transpose', [x], {}, { types: [tensorType('float32', [4, 7])] });
    const u = b.op1('onnx.Transpose', [x], {}, { types: [tensorType('float32', [4, 'M'])] });
    b.output(t, u);
    const result = inferShapes(b.model());
    expect(t.type).toEqual(tensorType('float32', [4, 7]));
    expect(u.type).toEqual(tensorType('float32', [4, 'M']));
    expect(result.diagnostics).toHaveLength(0);
    const conflicting = new GraphBuilder();
    const y = conflicting.input('y', tensorType('float32', [2, 4]));
    const wrong = conflicting.op1('onnx.Transpose', [y], {}, { types: [tensorType('float32', [2, 4])] });
    conflicting.output(wrong);
    const warned = inferShapes(conflicting.model());
    expect(warned.diagnostics).toHaveLength(1);
    expect(warned.diagnostics[0]!.severity).toBe('warning');
    expect(wrong.type).toEqual(tensorType('float32', [2, 4]));
  });

  it('infers through If branches and Loop bodies', () => {
    const b = new GraphBuilder();
    const cond = b.input('cond', tensorType('bool', []));
    const x = b.input('x', tensorType('float32', ['B', 3]));
    const branch = (name: string, axis: number) => {
      const g = new Graph(name);
      const gb = new GraphBuilder(g);
      gb.output(gb.op1('onnx.ReduceSum', [x, gb.constant(i64([axis]), `${name}_axes`)], { keepdims: attrs.int(1) }, { outputs: [`${name}_out`] }));
      return g;
    };
    const out = b.op1('onnx.If', [cond], { then_branch: attrs.graph(branch('then', 1)), else_branch: attrs.graph(branch('else', 1)) });
    b.output(out);
    inferShapes(b.model({ onnx: 13 }));
    expect(out.type).toEqual(tensorType('float32', ['B', 1]));
  });
});
