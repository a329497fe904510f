import { attrs, expressedType, Tensor, tensorType, type Attribute, type Node, type Value } from '@modelpass/ir';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseContext, RaiseRule } from '../raise-rule.js';

const ACTIVATIONS = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'TANH'];

function checkActivation(node: Node): string | undefined {
  const fused = node.optionalAttr('fused_activation_function', 'string') ?? 'NONE';
  return ACTIVATIONS.includes(fused) ? undefined : `fused activation ${fused} has no ONNX equivalent`;
}

/** A builtin that is one canonical op on the same operands (plus its fused activation). */
function direct(builtin: string, op: string, attributes: (node: Node) => Record<string, Attribute> = () => ({})): RaiseRule {
  return {
    ops: [`tflite.${builtin}`],
    targets: [op],
    check: checkActivation,
    raise(node) {
      const emit = new CanonicalEmitter(node);
      const fused = node.optionalAttr('fused_activation_function', 'string');
      const type = node.output(0).type;
      const y = emit.op1(op, node.inputs, attributes(node), emit.preActivationType(type, fused));
      replaceRaised(node, [emit.activation(y, fused, type) as Value]);
    },
  };
}

/** A builtin written with a few canonical ops. */
function composite(builtin: string, targets: string[], build: (emit: CanonicalEmitter, node: Node, x: Value, context: RaiseContext) => Value): RaiseRule {
  return {
    ops: [`tflite.${builtin}`],
    targets,
    check: () => undefined,
    raise(node, context) {
      const emit = new CanonicalEmitter(node);
      replaceRaised(node, [build(emit, node, node.input(0), context)]);
    },
  };
}

const scalar = (emit: CanonicalEmitter, value: number, name: string): Value => emit.constant(Tensor.scalar('float32', value), name);

const DIRECT: readonly [string, string][] = [
  ['ADD', 'Add'], ['SUB', 'Sub'], ['MUL', 'Mul'], ['DIV', 'Div'], ['RELU', 'Relu'], ['LOGISTIC', 'Sigmoid'], ['TANH', 'Tanh'],
  ['EXP', 'Exp'], ['LOG', 'Log'], ['ABS', 'Abs'], ['NEG', 'Neg'], ['SQRT', 'Sqrt'], ['MAXIMUM', 'Max'],
  ['MINIMUM', 'Min'], ['POW', 'Pow'], ['PRELU', 'PRelu'], ['ELU', 'Elu'], ['FLOOR', 'Floor'], ['CEIL', 'Ceil'], ['ROUND', 'Round'],
  ['SIN', 'Sin'], ['COS', 'Cos'], ['LESS', 'Less'], ['LESS_EQUAL', 'LessOrEqual'], ['GREATER', 'Greater'], ['GREATER_EQUAL', 'GreaterOrEqual'],
  ['EQUAL', 'Equal'], ['LOGICAL_AND', 'And'], ['LOGICAL_OR', 'Or'], ['LOGICAL_NOT', 'Not'], ['SELECT', 'Where'], ['SELECT_V2', 'Where'],
  ['SIGN', 'Sign'],
];

/**
 * FLOOR_MOD(x, y): the remainder with the divisor's sign. Integers → Mod (fmod 0, the same floor remainder). ONNX Mod
 * says floats need fmod 1 (ORT refuses fmod 0 on floats: gridsample reflection's raise), so floats take TFLite's own
 * way, exactly: r = fmod(x, y), plus y where r ≠ 0 and r, y differ in sign.
 */
const floorMod: RaiseRule = {
  ops: ['tflite.FLOOR_MOD'],
  targets: ['Mod', 'Less', 'Xor', 'Equal', 'Not', 'And', 'Add', 'Where'],
  check: () => undefined,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const type = node.output(0).type;
    const [x, y] = [node.input(0), node.input(1)];
    const dtype = type.kind === 'tensor' ? type.dtype : undefined;
    if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'float64') {
      replaceRaised(node, [emit.op1('Mod', [x, y], {}, type)]);
      return;
    }
    const bool = { kind: 'tensor' as const, dtype: 'bool' as const, shape: type.kind === 'tensor' ? type.shape : null };
    const zero = emit.constant(Tensor.scalar(dtype, 0), 'zero');
    const r = emit.op1('Mod', [x, y], { fmod: attrs.int(1) }, type);
    const signsDiffer = emit.op1('Xor', [emit.op1('Less', [r, zero], {}, bool), emit.op1('Less', [y, zero], {}, { ...bool, shape: y.type.kind === 'tensor' ? y.type.shape : null })], {}, bool);
    const adjust = emit.op1('And', [emit.op1('Not', [emit.op1('Equal', [r, zero], {}, bool)], {}, bool), signsDiffer], {}, bool);
    replaceRaised(node, [emit.op1('Where', [adjust, emit.op1('Add', [r, y], {}, type), r], {}, type)]);
  },
};

const FLOATS = new Set(['float32', 'float16', 'float64', 'bfloat16']);
const dtypeOf = (value: Value): string | undefined => (value.type.kind === 'tensor' ? value.type.dtype : undefined);

/** NOT_EQUAL(x, y) → Not(Equal(x, y)): ONNX has no NotEqual (legalize-tflite writes NOT_EQUAL for IsNaN, IsInf, Mod…). */
const notEqual = composite('NOT_EQUAL', ['Equal', 'Not'], (emit, node, x) => {
  const type = node.output(0).type;
  return emit.op1('Not', [emit.op1('Equal', [x, node.input(1)], {}, type)], {}, type);
});

/**
 * FLOOR_DIV(x, y): the quotient rounded toward −∞. Floats → Floor(Div). Integers: ONNX Div truncates toward 0, so the
 * floor remainder r = Mod(x, y) (fmod 0: the divisor's sign, as FLOOR_MOD) is taken off first and (x − r) / y is exact.
 */
const floorDiv: RaiseRule = {
  ops: ['tflite.FLOOR_DIV'],
  targets: ['Div', 'Floor', 'Mod', 'Sub'],
  check: () => undefined,
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const type = node.output(0).type;
    const [x, y] = [node.input(0), node.input(1)];
    if (FLOATS.has(dtypeOf(node.output(0)) ?? '')) {
      replaceRaised(node, [emit.op1('Floor', [emit.op1('Div', [x, y], {}, type)], {}, type)]);
      return;
    }
    const r = emit.op1('Mod', [x, y], {}, type);
    replaceRaised(node, [emit.op1('Div', [emit.op1('Sub', [x, r], {}, type), y], {}, type)]);
  },
};

/** FILL(dims, value) → Expand(value, dims as int64): the scalar broadcast to the run-time shape. */
const fill: RaiseRule = {
  ops: ['tflite.FILL'],
  targets: ['Expand', 'Cast'],
  check: (node) => {
    const value = node.inputs[1]?.type;
    return value?.kind === 'tensor' && value.shape !== null && value.shape.length > 0 && value.shape.some((d) => d !== 1)
      ? `FILL's value must be a scalar, got shape [${value.shape.join(',')}]`
      : undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = node.input(0);
    const rank = dims.type.kind === 'tensor' && dims.type.shape ? dims.type.shape : [null];
    const shape = dtypeOf(dims) === 'int64' ? dims : emit.op1('Cast', [dims], { to: attrs.int(7) }, tensorType('int64', rank.map((d) => d ?? 'rank')));
    replaceRaised(node, [emit.op1('Expand', [node.input(1), shape], {}, node.output(0).type)]);
  },
};

/** RANGE(start, limit, delta) → Range: the same count, ceil((limit − start) / delta), and the same values. */
const range = composite('RANGE', ['Range'], (emit, node, x) => emit.op1('Range', [x, node.input(1), node.input(2)], {}, node.output(0).type));

export const elementwiseRaiseRules: readonly RaiseRule[] = [
  floorDiv,
  notEqual,
  fill,
  range,
  floorMod,
  ...DIRECT.map(([builtin, op]) => direct(builtin, op)),
  direct('LEAKY_RELU', 'LeakyRelu', (node) => ({ alpha: attrs.float(node.optionalAttr('alpha', 'float') ?? 0.2) })),
  composite('RELU6', ['Clip'], (emit, node, x) => emit.op1('Clip', [x, scalar(emit, 0, 'zero'), scalar(emit, 6, 'six')], {}, node.output(0).type)),
  composite('RELU_N1_TO_1', ['Clip'], (emit, node, x) => emit.op1('Clip', [x, scalar(emit, -1, 'minus_one'), scalar(emit, 1, 'one')], {}, node.output(0).type)),
  composite('HARD_SWISH', ['HardSwish', 'HardSigmoid', 'Mul'], (emit, node, x, context) => {
    const type = node.output(0).type;
    if (context.opset >= 14) return emit.op1('HardSwish', [x], {}, type);
    const gate = emit.op1('HardSigmoid', [x], { alpha: attrs.float(1 / 6), beta: attrs.float(0.5) }, expressedType(type));
    return emit.op1('Mul', [x, gate], {}, type);
  }),
  composite('RSQRT', ['Sqrt', 'Reciprocal'], (emit, node, x) => emit.op1('Reciprocal', [emit.op1('Sqrt', [x], {}, expressedType(node.output(0).type))], {}, node.output(0).type)),
  composite('SQUARE', ['Mul'], (emit, node, x) => emit.op1('Mul', [x, x], {}, node.output(0).type)),
  composite('SQUARED_DIFFERENCE', ['Sub', 'Mul'], (emit, node, x) => {
    const d = emit.op1('Sub', [x, node.input(1)], {}, expressedType(node.output(0).type));
    return emit.op1('Mul', [d, d], {}, node.output(0).type);
  }),
  composite('GELU', ['Gelu', 'Erf', 'Tanh', 'Div', 'Add', 'Mul'], (emit, node, x, context) => {
    const type = node.output(0).type;
    const tanhForm = (node.optionalAttr('approximate', 'int') ?? 0) === 1;
    if (context.opset >= 20) return emit.op1('Gelu', [x], tanhForm ? { approximate: attrs.string('tanh') } : {}, type);
    const real = expressedType(type);
    if (tanhForm) {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the form TFLite's approximate GELU computes.
      const cube = emit.op1('Mul', [emit.op1('Mul', [x, x], {}, real), x], {}, real);
      const inner = emit.op1('Add', [x, emit.op1('Mul', [cube, scalar(emit, 0.044715, 'gelu_cubic')], {}, real)], {}, real);
      const tanh = emit.op1('Tanh', [emit.op1('Mul', [inner, scalar(emit, Math.sqrt(2 / Math.PI), 'sqrt_2_over_pi')], {}, real)], {}, real);
      const gate = emit.op1('Mul', [emit.op1('Add', [tanh, scalar(emit, 1, 'one')], {}, real), scalar(emit, 0.5, 'half')], {}, real);
      return emit.op1('Mul', [x, gate], {}, type);
    }
    const erf = emit.op1('Erf', [emit.op1('Div', [x, scalar(emit, Math.SQRT2, 'sqrt2')], {}, real)], {}, real);
    const gate = emit.op1('Mul', [emit.op1('Add', [erf, scalar(emit, 1, 'one')], {}, real), scalar(emit, 0.5, 'half')], {}, real);
    return emit.op1('Mul', [x, gate], {}, type);
  }),
];
