import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { analyzeLayout, countTransposes, lowerToTflite, registerTfliteDialect } from '@modelpass/tflite';

const weights = (shape: number[]) => Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => ((i % 7) - 3) / 10));

/** x → Conv → Relu ┐
 *  x → Conv ───────┴ Concat → Softmax(axis 1) → MatMul (reads the last dim: stops the layout) → output;
 *  Concat → ReduceMean(keepdims 0) → output */
function model() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
  const left = b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, b.constant(weights([4, 3, 3, 3]))], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv_a' })], {}, { name: 'relu' });
  const right = b.op1('onnx.Conv', [x, b.constant(weights([2, 3, 1, 1]))], {}, { name: 'conv_b' });
  const joined = b.op1('onnx.Concat', [left, right], { axis: attrs.int(1) }, { name: 'concat' });
  const soft = b.op1('onnx.Softmax', [joined], { axis: attrs.int(1) }, { name: 'softmax' });
  const product = b.op1('onnx.MatMul', [soft, b.constant(weights([8, 5]))], {}, { name: 'matmul' });
  const mean = b.op1('onnx.ReduceMean', [joined], { axes: attrs.ints([2, 3]), keepdims: attrs.int(0) }, { name: 'mean' });
  b.output(product, mean);
  const built = b.model({ onnx: 13 });
  inferShapes(built, { mode: 'refresh' });
  return built;
}

describe('analyzeLayout', () => {
  it('finds where NCHW comes from, what carries it, what fixes an axis and what stops it', () => {
    const layout = analyzeLayout(model());
    expect(layout.sources.map((n) => n.name).sort()).toEqual(['conv_a', 'conv_b']);
    expect(Object.fromEntries([...layout.carriers].map(([n, role]) => [n.name, role]))).toEqual({ relu: 'elementwise', concat: 'axis', softmax: 'axis', mean: 'reduce' });
    expect(layout.axisFixers.map((n) => n.name).sort()).toEqual(['concat', 'mean', 'softmax']);
    expect(layout.stops.map((s) => `${s.value.name}→${s.node.name}`)).toEqual([`${layout.stops[0]!.value.name}→matmul`]);
    expect(layout.boundaryInputs.map((v) => v.name)).toEqual(['x']);
    expect(layout.estimate).toEqual({ inner: 1, boundary: 1 });
  });

  it('predicts what legalize-tflite leaves: one transpose before the MatMul, none at an NHWC input', () => {
    const converted = model();
    const registry = registerTfliteDialect(createOpRegistry());
    const result = lowerToTflite(converted, registry, { ioLayout: 'nhwc' });
    expect(result.estimate.inner).toBe(1);
    expect(countTransposes(converted.graph)).toEqual({ inner: 1, boundary: 0 });
    expect(converted.graph.inputs[0]!.type).toEqual(tensorType('float32', [1, 8, 8, 3]));
    // Concat and Softmax now work on the last (channel) axis; the mean over H, W on axes 1, 2.
    const byOp = (op: string) => converted.graph.nodeList().find((n) => n.op === op)!;
    expect(byOp('tflite.CONCATENATION').attr('axis', 'int')).toBe(3);
    expect(byOp('tflite.MEAN').input(1).constant!.toNumbers()).toEqual([1, 2]);
  });
});
