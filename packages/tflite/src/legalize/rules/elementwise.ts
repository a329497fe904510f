import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { whyDropoutIsNotIdentity } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, staticDims, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { broadcastsAboveMaxRank, collapsedBroadcastOf, fullOperandIndex, reshapedOperand } from './broadcast-collapse.js';
import { withInt64Division } from './int64-division.js';
import { runTimeShape, shapeOperandFor } from './run-time-dims.js';

type Options = Record<string, string | number>;

/** The dtypes TFLite 2.9's float/integer kernels take (its uint8/int8 arithmetic is quantized-only and aborts otherwise). */
const FLOAT = ['float32'];
const NUMERIC = ['float32', 'int32', 'int64'];
const LOGICAL = ['bool'];
/** What TFLite 2.9's CAST kernel converts between. */
export const CAST_DTYPES = ['float32', 'int32', 'int64', 'int16', 'int8', 'uint8', 'bool'];

/** A check that every tensor input has one of `dtypes`. */
function dtypesIn(dtypes: readonly string[], firstInput = 0): (node: Node) => string | undefined {
  return (node) => {
    const inputs = node.inputs;
    for (let i = firstInput; i < inputs.length; i++) {
      const input = inputs[i];
      // quant<> operands: the int8 lowering (legalize/quantized) checked the op has an int8 kernel.
      if (tensorTypeOf(input)?.quant) continue;
      const dtype = tensorTypeOf(input)?.dtype;
      if (dtype && !dtypes.includes(dtype)) return `${node.op} on ${dtype} tensors has no TFLite kernel (takes ${dtypes.join(', ')})`;
    }
    return undefined;
  };
}

const LOGICAL_OPS = new Set(['Not', 'And', 'Or']);
const NUMERIC_OPS = new Set(['Abs', 'Neg', 'Add', 'Sub', 'Mul', 'Div', 'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Max', 'Min', 'Sum', 'Mod']);

function dtypeCheckFor(op: string): (node: Node) => string | undefined {
  if (op === 'Cast') return () => undefined;
  if (op === 'Where') return dtypesIn([...NUMERIC, 'bool'], 1);
  return dtypesIn(LOGICAL_OPS.has(op) ? LOGICAL : NUMERIC_OPS.has(op) ? NUMERIC : FLOAT);
}

/**
 * TFLite 2.9's broadcasting kernels (comparisons, SELECT_V2, integer ADD/SUB…) handle at most 4-D
 * operands and abort the process beyond: operands of rank > 4 must have equal shapes, or a broadcast
 * whose axes merge into 4 or fewer (`collapseBroadcast`: swin's `attn + mask` over
 * [B, windows, heads, N, N]), which the rule writes between RESHAPEs.
 */
function highRankBroadcast(node: Node): string | undefined {
  if (!broadcastsAboveMaxRank(node.inputs)) return undefined;
  if (!node.inputs.some((input) => tensorTypeOf(input)?.quant) && collapsedBroadcastOf(operandsOf(node), node.output(0))) return undefined;
  return `${node.op} broadcasting operands of rank > 4 has no TFLite 2.9 kernel (it broadcasts at most 4-D), and these shapes do not merge into 4 dims`;
}

function operandsOf(node: Node): Value[] {
  return node.inputs.filter((input): input is Value => input !== null);
}

/** One canonical op → one builtin on the same operands, with options computed from the node. */
function oneToOne(op: string, builtin: string, options: (node: Node) => Options = () => ({}), check: (node: Node) => string | undefined = () => undefined): LoweringRule {
  const dtypes = dtypeCheckFor(op);
  return {
    ops: [`onnx.${op}`],
    stage: 'lower',
    targets: [builtin],
    check: (node) => dtypes(node) ?? check(node) ?? (node.inputs.length > 1 ? highRankBroadcast(node) : undefined),
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      if (node.inputs.length > 1 && broadcastsAboveMaxRank(node.inputs)) {
        replaceNode(node, [collapsedOp(emit, node, builtin, options(node), false)]);
        return;
      }
      const y = emit.op1(builtin, node.inputs, options(node), node.output(0).type);
      replaceNode(node, [y]);
    },
  };
}

/**
 * `builtin` on operands reshaped to their merged broadcast (`collapseBroadcast`), RESHAPEd back to
 * the output's shape: one op on all operands (`chain` false: binary ops, SELECT_V2's three), or
 * folded left to right (`chain` true: Max/Min/Sum over any number of inputs).
 */
function collapsedOp(emit: TfliteEmitter, node: Node, builtin: string, attributes: Options, chain: boolean): Value {
  const operands = operandsOf(node);
  const output = node.output(0);
  const collapsed = collapsedBroadcastOf(operands, output)!;
  const merged = operands.map((value, k) => reshapedOperand(emit, value, collapsed.operandGroups[k]!, `merged_${k}`));
  const dtype = tensorTypeOf(output)!.dtype;
  let result: Value;
  if (!chain) {
    result = emit.op1(builtin, merged, attributes, tensorType(dtype, [...collapsed.outputDims]));
  } else {
    result = merged[0]!;
    let dims = collapsed.operandDims[0]!;
    for (let k = 1; k < merged.length; k++) {
      const next = collapsed.operandDims[k]!;
      dims = dims.map((d, axis) => (d === 1 ? next[axis]! : d));
      result = emit.op1(builtin, [result, merged[k]!], attributes, tensorType(dtype, [...dims]));
    }
  }
  const outputDims = dimsOf(output)!;
  const shape = shapeOperandFor(emit, outputDims, 'shape', () => runTimeShape(emit, operands[fullOperandIndex(collapsed, outputDims.length, operands)]!, outputDims.map((_, axis) => axis), 'output_axes'));
  return emit.op1('RESHAPE', [result, shape], {}, output.type);
}

const FUSIBLE = { fused_activation_function: 'NONE' };

/** Unary ops with a builtin of their own. */
const UNARY: readonly [string, string][] = [
  ['Relu', 'RELU'], ['Sigmoid', 'LOGISTIC'], ['Tanh', 'TANH'], ['Exp', 'EXP'], ['Log', 'LOG'], ['Abs', 'ABS'], ['Neg', 'NEG'],
  ['Sqrt', 'SQRT'], ['Sin', 'SIN'], ['Cos', 'COS'], ['Floor', 'FLOOR'], ['Ceil', 'CEIL'], ['Round', 'ROUND'],
  ['Not', 'LOGICAL_NOT'], ['HardSwish', 'HARD_SWISH'],
];

/** Binary ops with numpy broadcasting and a builtin of their own. */
const BINARY: readonly [string, string, Options][] = [
  ['Add', 'ADD', FUSIBLE], ['Sub', 'SUB', FUSIBLE], ['Mul', 'MUL', FUSIBLE], ['Div', 'DIV', FUSIBLE], // Pow: mixed-dtypes.ts (integer exponents)
  ['Equal', 'EQUAL', {}], ['Greater', 'GREATER', {}], ['GreaterOrEqual', 'GREATER_EQUAL', {}], ['Less', 'LESS', {}],
  ['LessOrEqual', 'LESS_EQUAL', {}], ['And', 'LOGICAL_AND', {}], ['Or', 'LOGICAL_OR', {}], ['PRelu', 'PRELU', {}],
];

/** Max/Min/Sum over any number of inputs: a chain of binary builtins. */
function variadic(op: string, builtin: string, options: Options): LoweringRule {
  return {
    ops: [`onnx.${op}`],
    stage: 'lower',
    targets: [builtin],
    check: (node) => (node.inputs.length === 0 ? 'no inputs' : (dtypeCheckFor(op)(node) ?? highRankBroadcast(node))),
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      if (broadcastsAboveMaxRank(node.inputs)) {
        replaceNode(node, [collapsedOp(emit, node, builtin, options, true)]);
        return;
      }
      const inputs = node.inputs.filter((v): v is Value => v !== null);
      let acc = inputs[0]!;
      for (const next of inputs.slice(1)) acc = emit.op1(builtin, [acc, next], options, node.output(0).type);
      replaceNode(node, [acc]);
    },
  };
}

/** Identity, and Dropout at inference or with ratio 0: the input itself (a RESHAPE copy when a graph output would otherwise be a graph input or constant). */
const forward: LoweringRule = {
  ops: ['onnx.Identity', 'onnx.Dropout'],
  stage: 'lower',
  targets: ['RESHAPE'],
  check(node, context) {
    if (node.op !== 'onnx.Dropout') return undefined;
    if (node.outputs[1]?.hasUses) return "Dropout's mask output is not supported";
    const random = whyDropoutIsNotIdentity(node, context.model);
    if (random) return `Dropout drops at random (${random}); TFLite has no such op`;
    return undefined;
  },
  lower(node, context) {
    const input = node.input(0);
    const output = node.output(0);
    const target = dimsOf(output);
    if (output.isGraphOutput && (input.isGraphInput || input.isGraphOutput || input.producer === null) && target && target.filter((d) => typeof d !== 'number').length <= 1) {
      const emit = new TfliteEmitter(node, context);
      const shape = target.map((d) => (typeof d === 'number' ? d : -1));
      replaceNode(node, [emit.op1('RESHAPE', [input, emit.int32(shape, [shape.length], 'shape')], {}, output.type), null]);
      return;
    }
    replaceNode(node, [input, null]);
  },
};

/** Sign: (x > 0) - (x < 0), as the input's dtype (TFLite 2.9 has no SIGN kernel). */
const sign: LoweringRule = {
  ops: ['onnx.Sign'],
  stage: 'lower',
  targets: ['GREATER', 'LESS', 'CAST', 'SUB'],
  check: (node) => (tensorTypeOf(node.inputs[0])?.dtype === 'float32' ? undefined : 'Sign is lowered for float32 only'),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const type = node.output(0).type;
    const boolType = { kind: 'tensor' as const, dtype: 'bool' as const, shape: dimsOf(node.inputs[0]) ?? null };
    const zero = scalar(emit, 0, node);
    const positive = emit.op1('CAST', [emit.op1('GREATER', [node.input(0), zero], {}, boolType)], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, type);
    const negative = emit.op1('CAST', [emit.op1('LESS', [node.input(0), zero], {}, boolType)], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, type);
    replaceNode(node, [emit.op1('SUB', [positive, negative], FUSIBLE, type)]);
  },
};

function scalar(emit: TfliteEmitter, value: number, node: Node): Value {
  const dtype = tensorTypeOf(node.inputs[0])?.dtype ?? 'float32';
  return emit.constant(Tensor.fromValues(dtype === 'float16' ? 'float16' : 'float32', [], [value]), 'scalar');
}

/**
 * Clip → RELU / RELU6 / RELU_N1_TO_1 when the bounds say so, else MAXIMUM/MINIMUM — of the bound tensors themselves
 * when they are computed at run time (min(max(x, low), high), as ONNX Runtime computes it: high wins when low > high).
 */
const clip: LoweringRule = {
  ops: ['onnx.Clip'],
  stage: 'lower',
  targets: ['RELU', 'RELU6', 'RELU_N1_TO_1', 'MAXIMUM', 'MINIMUM'],
  check(node) {
    for (const index of [1, 2]) {
      const bound = node.inputs[index];
      if (bound && !constantOf(bound) && (tensorTypeOf(bound)?.dtype !== tensorTypeOf(node.inputs[0])?.dtype || (staticDims(bound)?.length ?? 1) !== 0)) {
        return 'a Clip bound computed at run time must be a scalar of the input dtype';
      }
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const runTime = (index: number): Value | undefined => (node.inputs[index] && !constantOf(node.inputs[index]) ? node.input(index) : undefined);
    const [lowTensor, highTensor] = [runTime(1), runTime(2)];
    const low = lowTensor ? undefined : (numbersOf(node.inputs[1])?.[0] ?? node.optionalAttr('min', 'float'));
    const high = highTensor ? undefined : (numbersOf(node.inputs[2])?.[0] ?? node.optionalAttr('max', 'float'));
    const type = node.output(0).type;
    const x = node.input(0);
    let y: Value;
    if (lowTensor || highTensor) {
      y = x;
      if (lowTensor || low !== undefined) y = emit.op1('MAXIMUM', [y, lowTensor ?? scalar(emit, low!, node)], {}, type);
      if (highTensor || high !== undefined) y = emit.op1('MINIMUM', [y, highTensor ?? scalar(emit, high!, node)], {}, type);
    } else if (low === 0 && high === 6) y = emit.op1('RELU6', [x], {}, type);
    else if (low === -1 && high === 1) y = emit.op1('RELU_N1_TO_1', [x], {}, type);
    else if (low === 0 && high === undefined) y = emit.op1('RELU', [x], {}, type);
    else {
      y = x;
      if (low !== undefined) y = emit.op1('MAXIMUM', [y, scalar(emit, low, node)], {}, type);
      if (high !== undefined) y = emit.op1('MINIMUM', [y, scalar(emit, high, node)], {}, type);
    }
    replaceNode(node, [y]);
  },
};

/** Elu with alpha ≠ 1 (TFLite's ELU has alpha 1): x where x > 0, else alpha·(exp(x) − 1), by SELECT_V2. */
const eluAlpha: LoweringRule = {
  ops: ['onnx.Elu'],
  stage: 'lower',
  targets: ['ELU', 'GREATER', 'EXP', 'SUB', 'MUL', 'SELECT_V2'],
  check(node) {
    if ((node.optionalAttr('alpha', 'float') ?? 1) !== 1 && tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Elu with alpha ≠ 1 is lowered for float32 only';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const type = node.output(0).type;
    const x = node.input(0);
    const alpha = node.optionalAttr('alpha', 'float') ?? 1;
    if (alpha === 1) {
      replaceNode(node, [emit.op1('ELU', [x], {}, type)]);
      return;
    }
    const positive = emit.op1('GREATER', [x, scalar(emit, 0, node)], {}, tensorType('bool', dimsOf(x) ?? null));
    const expm1 = emit.op1('SUB', [emit.op1('EXP', [x], {}, type), scalar(emit, 1, node)], FUSIBLE, type);
    const negative = emit.op1('MUL', [expm1, scalar(emit, alpha, node)], FUSIBLE, type);
    replaceNode(node, [emit.op1('SELECT_V2', [positive, x, negative], {}, type)]);
  },
};

/** HardSigmoid: max(0, min(1, alpha·x + beta)). */
const hardSigmoid: LoweringRule = {
  ops: ['onnx.HardSigmoid'],
  stage: 'lower',
  targets: ['MUL', 'ADD', 'MINIMUM', 'MAXIMUM'],
  check: () => undefined,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const type = node.output(0).type;
    const alpha = node.optionalAttr('alpha', 'float') ?? 0.2;
    const beta = node.optionalAttr('beta', 'float') ?? 0.5;
    const scaled = emit.op1('MUL', [node.input(0), scalar(emit, alpha, node)], FUSIBLE, type);
    const shifted = emit.op1('ADD', [scaled, scalar(emit, beta, node)], FUSIBLE, type);
    const upper = emit.op1('MINIMUM', [shifted, scalar(emit, 1, node)], {}, type);
    replaceNode(node, [emit.op1('MAXIMUM', [upper, scalar(emit, 0, node)], {}, type)]);
  },
};

/** Reciprocal: 1 / x. */
const reciprocal: LoweringRule = {
  ops: ['onnx.Reciprocal'],
  stage: 'lower',
  targets: ['DIV'],
  check: () => undefined,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('DIV', [scalar(emit, 1, node), node.input(0)], FUSIBLE, node.output(0).type)]);
  },
};

/** Softplus: log(exp(x) + 1). */
const softplus: LoweringRule = {
  ops: ['onnx.Softplus'],
  stage: 'lower',
  targets: ['EXP', 'ADD', 'LOG'],
  check: () => undefined,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const type = node.output(0).type;
    const e = emit.op1('EXP', [node.input(0)], {}, type);
    const plusOne = emit.op1('ADD', [e, scalar(emit, 1, node)], FUSIBLE, type);
    replaceNode(node, [emit.op1('LOG', [plusOne], {}, type)]);
  },
};

const cast = oneToOne(
  'Cast',
  'CAST',
  (node) => ({ in_data_type: tensorTypeName(tensorTypeOf(node.inputs[0])!.dtype)!, out_data_type: tensorTypeName(tensorTypeOf(node.outputs[0])!.dtype)! }),
  (node) => {
    const from = tensorTypeOf(node.inputs[0])?.dtype;
    const to = tensorTypeOf(node.outputs[0])?.dtype;
    if (!from || !to) return 'Cast needs its input and output dtypes (run shape inference first)';
    if (!CAST_DTYPES.includes(from) || !CAST_DTYPES.includes(to)) return `TFLite 2.9's CAST takes ${CAST_DTYPES.join(', ')}; this one is ${from} → ${to}`;
    return undefined;
  },
);

export const elementwiseRules: readonly LoweringRule[] = [
  ...UNARY.map(([op, builtin]) => oneToOne(op, builtin)),
  ...BINARY.map(([op, builtin, options]) => (op === 'Div' ? withInt64Division(oneToOne(op, builtin, () => options)) : oneToOne(op, builtin, () => options))),
  oneToOne('LeakyRelu', 'LEAKY_RELU', (node) => ({ alpha: node.optionalAttr('alpha', 'float') ?? 0.01 })),
  eluAlpha,
  oneToOne('Gelu', 'GELU', (node) => ({ approximate: (node.optionalAttr('approximate', 'string') ?? 'none') === 'tanh' ? 1 : 0 })),
  oneToOne('Where', 'SELECT_V2'),
  oneToOne('Mod', 'FLOOR_MOD', () => ({}), (node) => ((node.optionalAttr('fmod', 'int') ?? 0) === 0 ? undefined : 'fmod=1 (C fmod) has no TFLite builtin; FLOOR_MOD is fmod=0')),
  variadic('Max', 'MAXIMUM', {}),
  variadic('Min', 'MINIMUM', {}),
  variadic('Sum', 'ADD', FUSIBLE),
  forward,
  sign,
  clip,
  hardSigmoid,
  reciprocal,
  softplus,
  cast,
];
