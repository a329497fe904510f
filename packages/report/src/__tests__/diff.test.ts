import { parseModel, printModel } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { diffModels, formatModelDiff, tensorError } from '@modelpass/report';
import { Tensor } from '@modelpass/ir';

const before = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4], %old: float32[1,4]) {
  const %w = tensor<float32[4,4]> [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
  const %b = tensor<float32[4]> [1, 2, 3, 4]
  const %k = tensor<float32[1]> [2]
  %m: float32[1,4] = onnx.MatMul(%x, %w) name="mm"
  %a: float32[1,4] = onnx.Add(%m, %b) name="bias"
  %i: float32[1,4] = onnx.Identity(%a) name="id"
  %s: float32[1,4] = onnx.Softmax(%i) {axis=1} name="sm"
  %t: float32[1,4] = onnx.Mul(%s, %k) name="scale_1"
  %u: float32[1,4] = onnx.Add(%t, %old) name="join"
  return %u
}
}`);

// 'id' removed (Softmax reads the Add), 'bias' data changed, Softmax axis changed, 'scale_1'
// renamed (paired by structure), a Relu added, graph input 'old' renamed to 'other'.
const after = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4], %other: float32[1,4]) {
  const %w = tensor<float32[4,4]> [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
  const %b = tensor<float32[4]> [1, 2, 3, 4.5]
  const %k2 = tensor<float32[1]> [2]
  %m: float32[1,4] = onnx.MatMul(%x, %w) name="mm"
  %a: float32[1,4] = onnx.Add(%m, %b) name="bias"
  %s: float32[1,4] = onnx.Softmax(%a) {axis=-1} name="sm"
  %t2: float32[1,4] = onnx.Mul(%s, %k2) name="scale_renamed"
  %r: float32[1,4] = onnx.Relu(%t2) name="relu"
  %u: float32[1,4] = onnx.Add(%r, %other) name="join"
  return %u
}
}`);

describe('diffModels', () => {
  const diff = diffModels(before, after);

  it('pairs nodes by name, then by op and paired inputs, and lists what was added and removed', () => {
    expect(diff.nodes.removed.map((n) => n.name)).toEqual(['id']);
    expect(diff.nodes.added.map((n) => `${n.name}:${n.op}`)).toEqual(['relu:Relu']);
    const changed = new Map(diff.nodes.changed.map((c) => [c.name, c]));
    expect([...changed.keys()].sort()).toEqual(['bias', 'join', 'sm']);
    // A constant input is compared by content: the bias data changed under the same name.
    expect(changed.get('bias')!.inputs).toEqual([{ index: 1, before: 'b', after: 'b' }]);
    expect(changed.get('sm')).toMatchObject({ matchedBy: 'name', attributes: [{ name: 'axis', before: '1', after: '-1' }], inputs: [{ index: 0, before: 'i', after: 'a' }] });
    expect(changed.get('join')!.inputs).toEqual([
      { index: 0, before: 't', after: 'r' },
      { index: 1, before: 'old', after: 'other' },
    ]);
    // The Mul reads the same softmax and a constant with the same data under a new name: paired, unchanged.
    expect(diff.nodes.changed.find((c) => c.name === 'scale_1')).toBeUndefined();
    expect(diff.nodes.unchanged).toBe(2);
  });

  it('compares initializers by name with error statistics, and graph IO by name and type', () => {
    expect(diff.initializers.changed).toEqual([{ name: 'b', dtype: 'float32', shape: [4], maxAbsError: 0.5, maxRelError: 0.125, cosine: expect.closeTo(32 / Math.sqrt(30 * 34.25), 10) }]);
    expect(diff.initializers.removed.map((t) => t.name)).toEqual(['k']);
    expect(diff.initializers.added.map((t) => t.name)).toEqual(['k2']);
    expect(diff.initializers.unchanged).toBe(1);
    expect(diff.graphInputs).toEqual({ added: [{ name: 'other', type: 'float32[1,4]' }], removed: [{ name: 'old', type: 'float32[1,4]' }], changed: [] });
    expect(diff.graphOutputs.added.length + diff.graphOutputs.removed.length).toBe(0);
  });

  it('prints one line per change', () => {
    const text = formatModelDiff(diff, { names: ['a.mpir', 'b.mpir'] });
    expect(text).toContain('nodes: 5 paired (2 unchanged, 3 changed), 1 removed, 1 added');
    expect(text).toContain('  - id (Identity)');
    expect(text).toContain('  + relu (Relu)');
    expect(text).toContain('  ~ sm (Softmax): input 0 i → a; axis 1 → -1');
    expect(text).toContain('  ~ b float32[4]: max abs 0.5000, max rel 0.1250, cosine');
    expect(text).toContain('  - old: float32[1,4]');
  });

  it('finds nothing between a model and itself', () => {
    const same = diffModels(before, before);
    expect(same.nodes).toEqual({ added: [], removed: [], changed: [], unchanged: 6 });
    expect(same.initializers).toEqual({ added: [], removed: [], changed: [], unchanged: 3 });
  });

  it('compares a weight stored as a sparse initializer by the dense tensor it stands for', () => {
    const sparse = parseModel(printModel(before));
    const w = sparse.graph.constants.find((value) => value.name === 'w')!;
    w.sparseConstant = { values: Tensor.fromValues('float32', [4], [1, 1, 1, 1]), indices: Tensor.fromValues('int64', [4], [0n, 5n, 10n, 15n]), dims: [4, 4] };
    w.constant = undefined;
    const same = diffModels(before, sparse);
    expect(same.nodes).toEqual({ added: [], removed: [], changed: [], unchanged: 6 });
    expect(same.initializers).toEqual({ added: [], removed: [], changed: [], unchanged: 3 });
    w.sparseConstant = { ...w.sparseConstant, values: Tensor.fromValues('float32', [4], [1, 1, 1, 0.5]) };
    const changed = diffModels(before, sparse);
    expect(changed.initializers.changed.map((change) => change.name)).toEqual(['w']);
  });
});

describe('diffModels: float attributes', () => {
  const model = (alpha: string) =>
    parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,4]) {
  %y: float32[1,4] = onnx.LeakyRelu(%x) {alpha=${alpha}} name="act"
  return %y
}
}`);

  it("a .pt's double and the same value stored as float32 (BatchNorm epsilon 0.001 → 0.0010000000474974513) are not a change", () => {
    expect(diffModels(model('0.001'), model('0.0010000000474974513')).nodes.changed).toEqual([]);
    expect(diffModels(model('0.001'), model('0.0011')).nodes.changed).toMatchObject([{ attributes: [{ name: 'alpha', before: '0.001', after: '0.0011' }] }]);
  });
});

describe('tensorError', () => {
  it('treats NaN against NaN as equal, NaN against a number and shape mismatches as infinite', () => {
    const a = Tensor.fromValues('float32', [3], [1, Number.NaN, 3]);
    expect(tensorError(a, Tensor.fromValues('float32', [3], [1, Number.NaN, 3]))).toEqual({ maxAbsError: 0, maxRelError: 0, cosine: 1 });
    expect(tensorError(a, Tensor.fromValues('float32', [3], [1, 2, 3])).maxAbsError).toBe(Infinity);
    expect(tensorError(a, Tensor.fromValues('float32', [1, 3], [1, 2, 3])).maxAbsError).toBe(Infinity);
  });
});
