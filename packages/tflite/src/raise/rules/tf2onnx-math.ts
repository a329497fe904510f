/**
 * Raise rules for math and bitwise builtins among tf2onnx's TFLite op names (issue 12 item 2, s14): ADD_N, ATAN2,
 * BITWISE_XOR, RIGHT_SHIFT, L2_NORMALIZATION, and COMPLEX_ABS (refused by node: no ONNX operator computes on complex
 * tensors).
 */
import { attrs, onnxCodeOf, Tensor, type DType, type Type, type Value } from '@modelpass/ir';
import { dimsOf, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';
import { withDtype } from './retyped.js';

const FLOATS = new Set<DType>(['float32', 'float64', 'float16']);


/** ADD_N(x1, …, xn) → Sum: the same elementwise sum (TFLite needs the operands of one shape). */
const addN: RaiseRule = {
  ops: ['tflite.ADD_N'],
  targets: ['Sum'],
  check: (node) => (node.inputs.length > 0 && node.inputs.every((v) => v) ? undefined : 'ADD_N needs at least one operand'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('Sum', node.inputs, {}, node.output(0).type)]);
  },
};

/**
 * ATAN2(y, x): ONNX has no Atan2. a = Atan(y / x') with x' = x where x ≠ 0 (else 1); the result is a for x > 0,
 * a ± π for x < 0 (+ when y ≥ 0), and for x = 0: π/2, −π/2, or y itself (0, or NaN passed through). NaN in x gives a = NaN.
 */
const atan2: RaiseRule = {
  ops: ['tflite.ATAN2'],
  targets: ['Atan', 'Div', 'Add', 'Equal', 'Less', 'Greater', 'Where'],
  check: (node) => {
    const dtype = tensorTypeOf(node.outputs[0])?.dtype;
    return dtype && FLOATS.has(dtype) ? undefined : `ATAN2 of ${dtype ?? 'unknown'} values (float16/32/64 expected)`;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const type = node.output(0).type;
    const dtype = tensorTypeOf(node.outputs[0])!.dtype;
    const [y, x] = [node.input(0), node.input(1)];
    const c = (value: number, name: string) => emit.constant(Tensor.scalar(dtype, value), name);
    const xIsZero = emit.op1('Equal', [x, c(0, 'zero')], {}, withDtype(x.type, 'bool'));
    const safeX = emit.op1('Where', [xIsZero, c(1, 'one'), x], {}, x.type);
    const a = emit.op1('Atan', [emit.op1('Div', [y, safeX], {}, type)], {}, type);
    const yNegative = emit.op1('Less', [y, c(0, 'zero_y')], {}, withDtype(y.type, 'bool'));
    const shift = emit.op1('Where', [yNegative, c(-Math.PI, 'minus_pi'), c(Math.PI, 'pi')], {}, withDtype(y.type, dtype));
    const leftHalf = emit.op1('Add', [a, shift], {}, type);
    const onAxis = emit.op1('Where', [emit.op1('Greater', [y, c(0, 'zero_g')], {}, withDtype(y.type, 'bool')), c(Math.PI / 2, 'half_pi'), emit.op1('Where', [yNegative, c(-Math.PI / 2, 'minus_half_pi'), y], {}, y.type)], {}, y.type);
    const xNegative = emit.op1('Less', [x, c(0, 'zero_x')], {}, withDtype(x.type, 'bool'));
    const rightOrAxis = emit.op1('Where', [xIsZero, onAxis, a], {}, type);
    replaceRaised(node, [emit.op1('Where', [xNegative, leftHalf, rightOrAxis], {}, type)]);
  },
};

/** BITWISE_XOR → BitwiseXor, an opset 18 operator: earlier opsets have no integer xor, so the node is refused there. */
const bitwiseXor: RaiseRule = {
  ops: ['tflite.BITWISE_XOR'],
  targets: ['BitwiseXor'],
  check: (node, context) => (context.opset >= 18 ? undefined : `BITWISE_XOR needs ONNX BitwiseXor (opset 18); this raise writes opset ${context.opset}: raise with -p 'raise-tflite{opset=18}'`),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    replaceRaised(node, [emit.op1('BitwiseXor', [node.input(0), node.input(1)], {}, node.output(0).type)]);
  },
};

/** The unsigned type whose ONNX BitShift (ORT: uint8, uint32, uint64) shifts a value of `dtype` without loss. */
const SHIFT_TYPE: Readonly<Partial<Record<DType, DType>>> = { uint8: 'uint8', uint16: 'uint32', uint32: 'uint32', uint64: 'uint64', int8: 'uint32', int16: 'uint32', int32: 'uint32', int64: 'uint64' };

/**
 * RIGHT_SHIFT(x, y): C++ `x >> y`, arithmetic for signed x. ONNX BitShift is unsigned only, so a negative x shifts its
 * complement: x >> y = −1 − ((−1 − x) >> y), and −1 − x ≥ 0 fits the unsigned type. Unsigned x shifts as is (uint16
 * widened to uint32, which ORT's BitShift has).
 */
const rightShift: RaiseRule = {
  ops: ['tflite.RIGHT_SHIFT'],
  targets: ['BitShift', 'Cast', 'Less', 'Sub', 'Where'],
  check: (node) => {
    const dtype = tensorTypeOf(node.outputs[0])?.dtype;
    return dtype && SHIFT_TYPE[dtype] ? undefined : `RIGHT_SHIFT of ${dtype ?? 'unknown'} values (8-, 16-, 32- or 64-bit integers expected)`;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const type = node.output(0).type;
    const dtype = tensorTypeOf(node.outputs[0])!.dtype;
    const unsigned = SHIFT_TYPE[dtype]!;
    const [x, y] = [node.input(0), node.input(1)];
    const cast = (value: Value, to: DType, name: string) => (tensorTypeOf(value)?.dtype === to ? value : emit.at.op1('onnx.Cast', [value], { to: attrs.int(onnxCodeOf(to)) }, { types: [withDtype(value.type, to)], name: `${node.name}_${name}` }));
    const amount = cast(y, unsigned, 'amount');
    const shift = (value: Value) => emit.op1('BitShift', [cast(value, unsigned, 'as_unsigned'), amount], { direction: attrs.string('RIGHT') }, withDtype(type, unsigned));
    if (dtype.startsWith('uint')) {
      replaceRaised(node, [cast(shift(x), dtype, 'back')]);
      return;
    }
    // ORT's Sub and Less have no int8/int16 kernels: those compute in int32 (exact) and are cast back at the end.
    const wide: DType = dtype === 'int64' ? 'int64' : 'int32';
    const wideType = withDtype(type, wide);
    const xWide = cast(x, wide, 'widened');
    const minusOne = emit.constant(Tensor.scalar(wide, -1), 'minus_one');
    const negative = emit.op1('Less', [xWide, emit.constant(Tensor.scalar(wide, 0), 'zero')], {}, withDtype(x.type, 'bool'));
    const magnitude = emit.op1('Where', [negative, emit.op1('Sub', [minusOne, xWide], {}, withDtype(x.type, wide)), xWide], {}, withDtype(x.type, wide));
    const shifted = cast(shift(magnitude), wide, 'back');
    const result = emit.op1('Where', [negative, emit.op1('Sub', [minusOne, shifted], {}, wideType), shifted], {}, wideType);
    replaceRaised(node, [cast(result, dtype, 'narrowed')]);
  },
};

/** TFLite's float L2_NORMALIZATION divides by max(‖row‖₂, 1e-6) (kernels/l2norm.cc); ONNX LpNormalization has no floor. */
const L2_EPSILON = 1e-6;

/** L2_NORMALIZATION over the last axis → x / Max(ReduceL2(x, last axis, keepdims), 1e-6) (fused activation NONE, all TFLite runs). */
const l2Normalization: RaiseRule = {
  ops: ['tflite.L2_NORMALIZATION'],
  targets: ['ReduceL2', 'Max', 'Div'],
  check(node) {
    const type = tensorTypeOf(node.outputs[0]);
    if (!type || !FLOATS.has(type.dtype) || type.quant) return `L2_NORMALIZATION of ${type?.quant ? 'quantized ' : ''}${type?.dtype ?? 'unknown'} values: only float is raised`;
    const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
    return fused === 'NONE' ? undefined : `L2_NORMALIZATION with fused activation ${fused}: TFLite's kernel accepts NONE only (l2norm.cc refuses the model), so there is no result to reproduce`;
  },
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const type = node.output(0).type;
    const dtype = tensorTypeOf(node.outputs[0])!.dtype;
    const x = node.input(0);
    const dims = dimsOf(x);
    const normType: Type = type.kind === 'tensor' && dims ? { ...type, shape: dims.map((d, i) => (i === dims.length - 1 ? 1 : d)) } : type;
    const norm = context.opset >= 18
      ? emit.op1('ReduceL2', [x, emit.int64([-1], 'axes')], { keepdims: attrs.int(1) }, normType)
      : emit.op1('ReduceL2', [x], { axes: attrs.ints([-1]), keepdims: attrs.int(1) }, normType);
    const floored = emit.op1('Max', [norm, emit.constant(Tensor.scalar(dtype, L2_EPSILON), 'epsilon')], {}, normType);
    const y = emit.op1('Div', [x, floored], {}, type);
    replaceRaised(node, [y]);
  },
};

/**
 * COMPLEX_ABS(complex64/complex128) → float: refused by node. ONNX has complex tensor types but no operator that
 * computes on them (no Abs, no Real/Imag, no bit cast to float pairs), so no ONNX graph can read the two parts.
 */
const complexAbs: RaiseRule = {
  ops: ['tflite.COMPLEX_ABS'],
  targets: [],
  check: (node) => `COMPLEX_ABS reads a ${tensorTypeOf(node.inputs[0])?.dtype ?? 'complex'} tensor: ONNX has no operator that computes on complex values (no Abs, Real/Imag or bit cast for them), so it cannot be expressed`,
  raise() {
    throw new Error('COMPLEX_ABS is refused by check()');
  },
};

export const tf2onnxMathRaiseRules: readonly RaiseRule[] = [addN, atan2, bitwiseXor, rightShift, l2Normalization, complexAbs];
