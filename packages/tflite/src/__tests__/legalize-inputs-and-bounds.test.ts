/**
 * Steps of legalize-tflite beside the lowering rules: defaulted graph inputs frozen into constants,
 * float64 values retyped float32, and the largest shapes of tensors after a data-dependent op
 * (written in the file). The numbers are checked in the TFLite runtime by
 * packages/conformance/src/__tests__/tflite-legalize-ops-dynamic.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, printModel, Tensor, tensorType, type Model, type TensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { boundDataDependentShapes, defaultedInputs, float64AsFloat32, freezeDefaultedInputs, lowerToTflite, META_SHAPE_BOUND, readTflite, writeTflite } from '@modelpass/tflite';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-bounds-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const registry = createOpRegistry();

describe('freezeDefaultedInputs', () => {
  it('turns inputs with a default into constants of the same name, read by the same nodes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const w = b.input('w', tensorType('float32', [3, 4]));
    b.graph.markConstant(w, Tensor.fromValues('float32', [3, 4], Array.from({ length: 12 }, (_, i) => i)));
    b.output(b.op1('onnx.MatMul', [x, w]));
    const model = b.model({ onnx: 13 });
    expect(defaultedInputs(model.graph).map((v) => v.name)).toEqual(['w']);
    expect(freezeDefaultedInputs(model.graph)).toEqual(['w']);
    expect(model.graph.inputs.map((v) => v.name)).toEqual(['x']);
    const weight = model.graph.nodeList()[0]!.inputs[1]!;
    expect(weight.name).toBe('w');
    expect(weight.isGraphInput).toBe(false);
    expect(weight.constant?.toNumbers()).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(freezeDefaultedInputs(model.graph)).toEqual([]);
  });
});

describe('float64AsFloat32', () => {
  it('retypes float64 values, converts constants and Casts to double', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [3]));
    const double = b.op1('onnx.Cast', [x], { to: attrs.int(11) });
    b.output(b.op1('onnx.Add', [double, b.constant(Tensor.fromValues('float64', [3], [0.5, 1.5, 2.5]))]));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    const result = float64AsFloat32(model.graph);
    expect(result.values).toBe(3);
    expect(result.boundary).toEqual([model.graph.outputs[0]!.name]);
    const [cast, add] = model.graph.nodeList();
    expect(cast!.attr('to', 'int')).toBe(1);
    expect((add!.inputs[1]!.constant)?.dtype).toBe('float32');
    expect((model.graph.outputs[0]!.type as TensorType).dtype).toBe('float32');
  });

  it('leaves a model alone where a dtype-choosing op touches float64', () => {
    const b = new GraphBuilder();
    const shape = b.input('shape', tensorType('int64', [1]));
    b.output(b.op1('onnx.ConstantOfShape', [shape], { value: attrs.tensor(Tensor.fromValues('float64', [1], [2])) }));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    expect(float64AsFloat32(model.graph).values).toBe(0);
    expect((model.graph.outputs[0]!.type as TensorType).dtype).toBe('float64');
  });
});

function nonZeroModel(after: (b: GraphBuilder, positions: ReturnType<GraphBuilder['op1']>) => ReturnType<GraphBuilder['op1']>): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  b.output(after(b, b.op1('onnx.NonZero', [x])));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  return model;
}

describe('largest shapes after a data-dependent op', () => {
  it('bounds WHERE and what reads it, and writes the bound as the file shape (shape_signature -1)', () => {
    const model = nonZeroModel((b, positions) => b.op1('onnx.Cast', [positions], { to: attrs.int(1) }));
    lowerToTflite(model, registry);
    const output = model.graph.outputs[0]!;
    expect(output.producer!.op).toBe('tflite.CAST');
    expect(output.metadata.get(META_SHAPE_BOUND)).toBe('2,6');
    const where = model.graph.nodeList().find((node) => node.op === 'tflite.WHERE')!;
    expect(where.output(0).metadata.get(META_SHAPE_BOUND)).toBe('6,2');
    // Read back: the run-time dim is unknown again (shape_signature -1), the rank and static dims kept.
    const path = join(temp, 'bounded.tflite');
    writeTflite(model, path);
    const read = readTflite(path);
    expect((read.graph.outputs[0]!.type as TensorType).shape).toEqual([2, null]);
  });

  it('a graph output whose bound does not follow from its op is an error naming the op, and the model is left as it was', () => {
    const model = nonZeroModel((b, positions) => b.op1('onnx.Pad', [b.op1('onnx.Cast', [positions], { to: attrs.int(1) }), b.constant(Tensor.fromValues('int64', [4], [0n, 1n, 0n, 1n]))]));
    const before = printModel(model);
    let error: unknown;
    try {
      lowerToTflite(model, registry);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toMatch(/has a data-dependent length whose largest value does not follow from its op \(onnx\.Pad\); nothing was changed/);
    expect(printModel(model)).toBe(before);
  });

  it('does nothing to a model without data-dependent ops', () => {
    const b = new GraphBuilder();
    b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', ['n', 3]))]));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    lowerToTflite(model, registry);
    expect(boundDataDependentShapes(model.graph)).toBe(0);
    expect(model.graph.outputs[0]!.metadata.has(META_SHAPE_BOUND)).toBe(false);
  });
});
