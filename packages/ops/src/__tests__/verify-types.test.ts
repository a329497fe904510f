import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Attribute, type Diagnostic, type Type, type Value } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const t = (dtype: Parameters<typeof tensorType>[0], ...shape: number[]): Type => tensorType(dtype, shape);

interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly (Type | Tensor)[];
  readonly attributes?: Record<string, Attribute>;
  readonly outputTypes?: readonly Type[];
  readonly opset?: number;
}

/** One node 'n' over graph inputs (types) and constants (tensors); returns the verifier's errors. */
function errorsOf(spec: NodeSpec): Diagnostic[] {
  const b = new GraphBuilder();
  const inputs: Value[] = spec.inputs.map((input, i) => (input instanceof Tensor ? b.constant(input, `c${i}`) : b.input(`in${i}`, input)));
  const outputs = b.op(spec.op, inputs, spec.attributes ?? {}, { name: 'n', outputs: spec.outputTypes?.length ?? 1, ...(spec.outputTypes ? { types: spec.outputTypes } : {}) });
  b.output(...outputs);
  return verifyModel(b.model({ onnx: spec.opset ?? 17 }), { registry }).filter((d) => d.severity === 'error');
}
const codes = (list: readonly Diagnostic[]) => list.map((d) => d.code);
const f32 = (shape: number[], fill = 0.5) => Tensor.fromValues('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(fill));
const i8 = (shape: number[], fill = 0) => Tensor.fromValues('int8', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(fill));

describe('type constraints of the ONNX specification', () => {
  it('reject int8 into Gemm and Conv, naming the input, the type variable and the allowed types', () => {
    const [gemm] = errorsOf({ op: 'onnx.Gemm', inputs: [t('float32', 2, 4), t('int8', 4, 3)] });
    expect(gemm).toMatchObject({ code: 'ops/type-constraint', location: { node: 'n', op: 'onnx.Gemm' }, actual: 'int8' });
    expect(gemm!.reason).toMatch(/input #1 'in1' \(B\) is int8, which Gemm-13's type T does not allow/);
    expect(gemm!.expected).toMatch(/float32/);
    expect(codes(errorsOf({ op: 'onnx.Conv', inputs: [t('float32', 1, 3, 8, 8), t('int8', 4, 3, 3, 3)] }))).toContain('ops/type-constraint');
  });

  it('bind a type variable once: Add(float32, float64) is wrong; a float32 output of an int64 Add contradicts inference', () => {
    const [mixed] = errorsOf({ op: 'onnx.Add', inputs: [t('float32', 2), t('float64', 2)] });
    expect(mixed!.reason).toMatch(/input #1 'in1' \(B\) is float64 but type T is already float32 from input #0 'in0' \(A\)/);
    expect(codes(errorsOf({ op: 'onnx.Add', inputs: [t('int64', 2), t('int64', 2)], outputTypes: [t('float32', 2)] }))).toEqual(['verify/declared-type']);
  });

  it('accept what the spec allows, including types only newer versions add (QuantizeLinear to int16 at opset 21)', () => {
    expect(errorsOf({ op: 'onnx.Gemm', inputs: [t('float32', 2, 4), t('float32', 4, 3)] })).toEqual([]);
    expect(errorsOf({ op: 'onnx.Gemm', inputs: [t('int32', 2, 4), t('int32', 4, 3)], opset: 11 })).toEqual([]);
    expect(errorsOf({ op: 'onnx.QuantizeLinear', inputs: [t('float32', 4), Tensor.fromValues('float32', [], [0.1]), Tensor.fromValues('int16', [], [0])], opset: 21 })).toEqual([]);
    // opset 13 QuantizeLinear knows only int8/uint8 outputs.
    expect(codes(errorsOf({ op: 'onnx.QuantizeLinear', inputs: [t('float32', 4), Tensor.fromValues('float32', [], [0.1]), Tensor.fromValues('int16', [], [0])], opset: 13 }))).toContain('ops/type-constraint');
  });
});

describe('input counts of the version the opset selects', () => {
  it('a 2-input Clip at opset 9 (Clip-6 takes 1) is an error naming the version; Clip-11 takes it', () => {
    const [extra] = errorsOf({ op: 'onnx.Clip', inputs: [t('float32', 4), Tensor.fromValues('float32', [], [0])], opset: 9 });
    expect(extra).toMatchObject({ code: 'ops/input-count', location: { node: 'n', op: 'onnx.Clip' }, expected: 'at most 1 inputs', actual: '2 inputs' });
    expect(extra!.reason).toMatch(/Clip-6 takes at most 1 input \(input\); this node has 2/);
    expect(errorsOf({ op: 'onnx.Clip', inputs: [t('float32', 4), Tensor.fromValues('float32', [], [0])], opset: 11 })).toEqual([]);
    expect(codes(errorsOf({ op: 'onnx.Relu', inputs: [t('float32', 4), t('float32', 4)] }))).toContain('ops/input-count');
  });

  it('an attribute the selected version no longer takes is an error (ReduceMean axes at 18, Squeeze axes at 13); older versions take it', () => {
    const axes = { axes: attrs.ints([1]) };
    const [reduce] = errorsOf({ op: 'onnx.ReduceMean', inputs: [t('float32', 2, 3)], attributes: axes, opset: 18 });
    expect(reduce).toMatchObject({ code: 'ops/attribute-version', location: { node: 'n', op: 'onnx.ReduceMean' }, actual: "attribute 'axes'" });
    expect(reduce!.reason).toMatch(/ReduceMean-18 has no attribute 'axes' \(ReduceMean takes it in versions 1, 11, 13\)/);
    expect(reduce!.hint).toMatch(/takes 'axes' as an input/);
    expect(errorsOf({ op: 'onnx.ReduceMean', inputs: [t('float32', 2, 3)], attributes: axes, opset: 17 })).toEqual([]);
    expect(codes(errorsOf({ op: 'onnx.Squeeze', inputs: [t('float32', 1, 3)], attributes: { axes: attrs.ints([0]) }, opset: 13 }))).toEqual(['ops/attribute-version']);
    expect(errorsOf({ op: 'onnx.Squeeze', inputs: [t('float32', 1, 3)], attributes: { axes: attrs.ints([0]) }, opset: 11 })).toEqual([]);
    // An attribute only a newer version takes: raise the opset (LpPool's dilations came in 18; the table records 22, the newest spec).
    const [lp] = errorsOf({ op: 'onnx.LpPool', inputs: [t('float32', 1, 2, 6, 6)], attributes: { kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }, opset: 17 });
    expect(lp!.reason).toMatch(/LpPool-11 has no attribute 'dilations' \(LpPool takes it in version 22 \(or a version between 18 and 22 that the table does not record\)\)/);
    expect(lp!.hint).toMatch(/drop the attribute or raise the opset to 22 or the version that added it/);
    expect(errorsOf({ op: 'onnx.LpPool', inputs: [t('float32', 1, 2, 6, 6)], attributes: { kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }, opset: 18 })).toEqual([]);
    // Relu-1's consumed_inputs at opset 13: another version took it, so the version is named.
    expect(codes(errorsOf({ op: 'onnx.Relu', inputs: [t('float32', 4)], attributes: { consumed_inputs: attrs.ints([0]) }, opset: 13 }))).toEqual(['ops/attribute-version']);
  });

  it("a required input of the selected version left empty ('') or not given is an error (Slice-10's starts; ONNX Runtime refuses it)", () => {
    const data = t('float32', 4, 6);
    const ends = Tensor.fromValues('int64', [1], [2]);
    const b = new GraphBuilder();
    const x = b.input('x', data);
    const slice = b.op('onnx.Slice', [x, null, b.constant(ends, 'ends')], {}, { name: 'n' });
    b.output(...slice);
    const [empty] = verifyModel(b.model({ onnx: 13 }), { registry }).filter((d) => d.severity === 'error');
    expect(empty).toMatchObject({ code: 'ops/missing-input', location: { node: 'n', op: 'onnx.Slice' }, actual: 'an empty input name' });
    expect(empty!.reason).toMatch(/required input #1 'starts' of Slice-13 is left empty \(''\)/);
    // Too few inputs: Slice-13 needs data, starts and ends; a Pad-11 without its pads.
    const [short] = errorsOf({ op: 'onnx.Slice', inputs: [data, Tensor.fromValues('int64', [1], [0])], opset: 13 });
    expect(short).toMatchObject({ code: 'ops/missing-input', actual: 'no input' });
    expect(short!.reason).toMatch(/required input #2 'ends' of Slice-13 is not given \(the node has 2 inputs\)/);
    expect(codes(errorsOf({ op: 'onnx.Pad', inputs: [data], opset: 11 }))).toEqual(['ops/missing-input']);
    // Given, or optional in the version (Slice's axes and steps; Slice-1 reads starts from attributes): no error.
    expect(errorsOf({ op: 'onnx.Slice', inputs: [data, Tensor.fromValues('int64', [1], [0]), ends], opset: 13 })).toEqual([]);
    expect(errorsOf({ op: 'onnx.Pad', inputs: [data], attributes: { pads: attrs.ints([0, 0, 0, 0]) }, opset: 2 })).toEqual([]);
  });

  it('an input both the schema and the version require is reported once, by the IR verifier', () => {
    const b = new GraphBuilder();
    const a = b.input('a', t('float32', 4));
    b.output(...b.op('onnx.Add', [a, null], {}, { name: 'n' }));
    expect(codes(verifyModel(b.model({ onnx: 17 }), { registry }).filter((d) => d.severity === 'error'))).toEqual(['verify/missing-input']);
  });

  it('variadic ops take any number of inputs', () => {
    expect(errorsOf({ op: 'onnx.Sum', inputs: [t('float32', 4), t('float32', 4), t('float32', 4), t('float32', 4)] })).toEqual([]);
    expect(errorsOf({ op: 'onnx.Concat', inputs: [t('float32', 4), t('float32', 4), t('float32', 4)], attributes: { axis: attrs.int(0) } })).toEqual([]);
  });
});

describe('declared types against inference', () => {
  it('a declared [10,64] over an inferred [5,64] is an error; unknown and symbolic dims are compatible', () => {
    const [stale] = errorsOf({ op: 'onnx.Relu', inputs: [t('float32', 5, 64)], outputTypes: [t('float32', 10, 64)] });
    expect(stale).toMatchObject({ code: 'verify/declared-shape', expected: 'float32[5,64]', actual: 'float32[10,64]', location: { node: 'n', op: 'onnx.Relu' } });
    expect(codes(errorsOf({ op: 'onnx.Relu', inputs: [t('float32', 5, 64)], outputTypes: [t('float32', 5)] }))).toEqual(['verify/declared-shape']);
    expect(errorsOf({ op: 'onnx.Relu', inputs: [t('float32', 5, 64)], outputTypes: [tensorType('float32', ['N', null])] })).toEqual([]);
    expect(errorsOf({ op: 'onnx.Relu', inputs: [tensorType('float32', ['N', 64])], outputTypes: [t('float32', 7, 64)] })).toEqual([]);
  });

  it('a constant whose data was replaced without its type is an error naming both types', () => {
    const b = new GraphBuilder();
    const x = b.input('x', t('float32', 2, 64));
    const w = b.constant(f32([10, 64]), 'w');
    b.output(b.op1('onnx.Gemm', [x, w], { transB: attrs.int(1) }, { name: 'fc', types: [t('float32', 2, 10)] }));
    const model = b.model();
    expect(verifyModel(model, { registry }).filter((d) => d.severity === 'error')).toEqual([]);
    w.constant = f32([5, 64]);
    const errors = verifyModel(model, { registry }).filter((d) => d.severity === 'error');
    expect(codes(errors)).toEqual(['verify/constant-type']);
    expect(errors[0]).toMatchObject({ expected: 'float32[5,64]', actual: 'float32[10,64]', location: { node: 'w' } });
    w.type = t('float32', 5, 64);
    const [output] = verifyModel(model, { registry }).filter((d) => d.severity === 'error');
    expect(output).toMatchObject({ code: 'verify/declared-shape', expected: 'float32[2,5]', actual: 'float32[2,10]', location: { node: 'fc' } });
  });
});

describe('declared types behind values declared without a type (an imported model\'s intermediates)', () => {
  function chain(outputType: Type): Diagnostic[] {
    const b = new GraphBuilder();
    const x = b.input('x', t('float32', 2, 8));
    const hidden = b.op1('onnx.Relu', [x], {}, { name: 'relu' }); // no declared type, as ONNX files leave intermediates
    const w = b.constant(f32([8, 3]), 'w');
    b.output(b.op1('onnx.MatMul', [hidden, w], {}, { name: 'fc', types: [outputType] }));
    return verifyModel(b.model({ onnx: 17 }), { registry }).filter((d) => d.severity === 'error');
  }

  it('a graph output declared int64 behind an untyped value is still checked against what its producer gives', () => {
    expect(chain(t('float32', 2, 3))).toEqual([]);
    const [wrong] = chain(t('int64', 2, 3));
    expect(wrong).toMatchObject({ code: 'verify/declared-type', expected: 'float32[2,3]', actual: 'int64[2,3]', location: { node: 'fc', op: 'onnx.MatMul' } });
    expect(codes(chain(t('float32', 2, 4)))).toEqual(['verify/declared-shape']);
  });

  it('propagation never writes a type into the model', () => {
    const b = new GraphBuilder();
    const x = b.input('x', t('float32', 2, 8));
    const hidden = b.op1('onnx.Relu', [x], {}, { name: 'relu' });
    b.output(b.op1('onnx.Relu', [hidden], {}, { name: 'relu2', types: [t('float32', 2, 8)] }));
    const model = b.model({ onnx: 17 });
    expect(verifyModel(model, { registry }).filter((d) => d.severity === 'error')).toEqual([]);
    expect(hidden.type.kind).toBe('unknown');
  });
});

describe('QuantizeLinear and DequantizeLinear', () => {
  const x = t('int8', 10, 64);
  it('accept per-tensor and per-axis parameters that fit', () => {
    expect(errorsOf({ op: 'onnx.DequantizeLinear', inputs: [x, f32([10]), i8([10])], attributes: { axis: attrs.int(0) }, opset: 13 })).toEqual([]);
    expect(errorsOf({ op: 'onnx.DequantizeLinear', inputs: [x, f32([]), i8([])], opset: 13 })).toEqual([]);
  });
  it('reject 3 scales for 10 channels, axis 5 on a rank-2 input, a float zero point, mismatched scale/zero-point shapes', () => {
    const [length] = errorsOf({ op: 'onnx.DequantizeLinear', inputs: [x, f32([3]), i8([3])], attributes: { axis: attrs.int(0) }, opset: 13 });
    expect(length).toMatchObject({ code: 'ops/quant-scale-length', location: { node: 'n', op: 'onnx.DequantizeLinear' } });
    expect(length!.reason).toMatch(/3 scales.*axis 0.*10/);
    expect(codes(errorsOf({ op: 'onnx.DequantizeLinear', inputs: [x, f32([10]), i8([10])], attributes: { axis: attrs.int(5) }, opset: 13 }))).toEqual(['ops/axis-range']);
    expect(codes(errorsOf({ op: 'onnx.DequantizeLinear', inputs: [x, f32([10]), f32([10], 0)], attributes: { axis: attrs.int(0) }, opset: 13 }))).toContain('ops/type-constraint');
    expect(codes(errorsOf({ op: 'onnx.QuantizeLinear', inputs: [t('float32', 10, 64), f32([10]), i8([5])], attributes: { axis: attrs.int(0) }, opset: 13 }))).toContain('ops/quant-parameter-shape');
    expect(codes(errorsOf({ op: 'onnx.DequantizeLinear', inputs: [t('uint8', 10, 64), f32([]), i8([])], opset: 13 }))).toContain('ops/type-constraint');
  });
});

describe('quantized tensor types', () => {
  const quantized = (quant: NonNullable<Extract<Type, { kind: 'tensor' }>['quant']>, dtype: 'int8' | 'uint8' | 'float32' = 'int8') =>
    errorsOf({ op: 'onnx.Identity', inputs: [tensorType(dtype, [10, 4], quant)], outputTypes: [tensorType(dtype, [10, 4], quant)] });
  it('accept consistent parameters', () => {
    expect(quantized({ bits: 8, axis: 0, scale: new Array(10).fill(0.1), zeroPoint: new Array(10).fill(0) })).toEqual([]);
    expect(quantized({ bits: 8, scale: [0.1], zeroPoint: [128] }, 'uint8')).toEqual([]);
  });
  it('reject scale count against the axis, axis out of range, zero point out of range, bits against the dtype', () => {
    const check = (quant: Parameters<typeof quantized>[0], dtype?: 'int8' | 'uint8' | 'float32') => quantized(quant, dtype).map((d) => d.reason);
    expect(check({ bits: 8, axis: 0, scale: [0.1, 0.1, 0.1], zeroPoint: [0, 0, 0] })).toContainEqual(expect.stringMatching(/3 scales for axis 0 of size 10/));
    expect(check({ bits: 8, axis: 5, scale: [0.1], zeroPoint: [0] })).toContainEqual(expect.stringMatching(/axis 5 is out of range for rank 2/));
    expect(check({ bits: 8, scale: [0.1], zeroPoint: [200] })).toContainEqual(expect.stringMatching(/zero point 200 is outside int8's range/));
    expect(check({ bits: 4, scale: [0.1], zeroPoint: [0] })).toContainEqual(expect.stringMatching(/bits=4 does not match the storage dtype int8/));
    expect(check({ bits: 8, scale: [0.1], zeroPoint: [0] }, 'float32')).toContainEqual(expect.stringMatching(/storage dtype float32 cannot hold quantized values/));
  });
});

describe("inferShapes { mode: 'refresh' }", () => {
  it('overwrites stale intermediate types, keeps graph outputs and reports their conflict', () => {
    const b = new GraphBuilder();
    const x = b.input('x', t('float32', 2, 64));
    const w = b.constant(f32([5, 64]), 'w');
    const hidden = b.op1('onnx.Gemm', [x, w], { transB: attrs.int(1) }, { name: 'fc', types: [t('float32', 2, 10)] });
    const y = b.op1('onnx.Relu', [hidden], {}, { name: 'relu', types: [t('float32', 2, 10)] });
    b.output(y);
    const model = b.model();
    const merged = inferShapes(model);
    expect(hidden.type).toEqual(t('float32', 2, 10));
    expect(merged.diagnostics.map((d) => d.code)).toContain('infer/conflict');
    const refreshed = inferShapes(model, { mode: 'refresh' });
    expect(hidden.type).toEqual(t('float32', 2, 5));
    expect(y.type).toEqual(t('float32', 2, 10));
    expect(refreshed.diagnostics).toHaveLength(1);
    expect(refreshed.diagnostics[0]).toMatchObject({ code: 'infer/conflict', location: { node: 'relu' }, expected: 'float32[2,10]', actual: 'float32[2,5]' });
  });
});
