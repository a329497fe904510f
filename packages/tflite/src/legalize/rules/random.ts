import { dtypeFromOnnxCode, Tensor, tensorType, type DType, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Random ops on TFLite's RANDOM_UNIFORM / RANDOM_STANDARD_NORMAL / MULTINOMIAL kernels (TFLite 2.9
 * has all three). Values differ from ONNX Runtime's (ONNX leaves the generator open), the
 * distributions do not. ONNX's float `seed` becomes TFLite's `seed` (truncated) with `seed2` = 1; no
 * seed gives seed = seed2 = 0, which TFLite reads as "seed at random", as ONNX does.
 */

const NONE = { fused_activation_function: 'NONE' };

function seeds(node: Node): { seed: number; seed2: number } {
  const seed = node.optionalAttr('seed', 'float');
  return seed === undefined ? { seed: 0, seed2: 0 } : { seed: Math.trunc(seed), seed2: 1 };
}

function outputDType(node: Node, fallback: DType | undefined): DType | undefined {
  const code = node.optionalAttr('dtype', 'int');
  return code === undefined ? fallback : dtypeFromOnnxCode(code);
}

/** The shape operand: the `shape` attribute, the static shape of the input (…Like), or SHAPE of it. */
function shapeOperand(node: Node, emit: TfliteEmitter): Value {
  const given = node.optionalAttr('shape', 'ints');
  if (given) return emit.int32(given, [given.length], 'shape');
  const dims = dimsOf(node.inputs[0])!;
  if (dims.every((d) => typeof d === 'number')) return emit.int32(dims as number[], [dims.length], 'shape');
  return emit.op1('SHAPE', [node.input(0)], { out_type: 'INT32' }, tensorType('int32', [dims.length]));
}

/** `builtin` (a standard draw) scaled by `scale` and moved by `shift`. */
function randomRule(ops: string[], builtin: string, parameters: (node: Node) => { scale: number; shift: number }): LoweringRule {
  return {
    ops,
    stage: 'lower',
    targets: [builtin, 'SHAPE', 'MUL', 'ADD'],
    check(node) {
      const like = node.inputs.length > 0;
      if (like && !dimsOf(node.inputs[0])) return `${node.op} needs the input rank`;
      const dtype = outputDType(node, like ? tensorTypeOf(node.inputs[0])?.dtype : 'float32');
      if (dtype !== 'float32') return `${node.op} of dtype ${dtype ?? 'unknown'} is lowered for float32 only (TFLite's random kernels draw float32)`;
      const rank = (node.optionalAttr('shape', 'ints') ?? dimsOf(node.inputs[0]) ?? []).length;
      const { scale, shift } = parameters(node);
      return rank > 4 && (scale !== 1 || shift !== 0) ? `${node.op} of rank ${rank} with a scale or shift has no TFLite 2.9 lowering (MUL/ADD by a scalar broadcast at most 4-D)` : undefined;
    },
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      const type = node.output(0).type;
      let y = emit.op1(builtin, [shapeOperand(node, emit)], seeds(node), type);
      const { scale, shift } = parameters(node);
      if (scale !== 1) y = emit.op1('MUL', [y, emit.constant(Tensor.scalar('float32', scale), 'scale')], NONE, type);
      if (shift !== 0) y = emit.op1('ADD', [y, emit.constant(Tensor.scalar('float32', shift), 'shift')], NONE, type);
      replaceNode(node, [y]);
    },
  };
}

const uniform = randomRule(['onnx.RandomUniform', 'onnx.RandomUniformLike'], 'RANDOM_UNIFORM', (node) => {
  const low = node.optionalAttr('low', 'float') ?? 0;
  const high = node.optionalAttr('high', 'float') ?? 1;
  return { scale: high - low, shift: low };
});

const normal = randomRule(['onnx.RandomNormal', 'onnx.RandomNormalLike'], 'RANDOM_STANDARD_NORMAL', (node) => ({
  scale: node.optionalAttr('scale', 'float') ?? 1,
  shift: node.optionalAttr('mean', 'float') ?? 0,
}));

/** Bernoulli(p): RANDOM_UNIFORM over p's shape, LESS than p, CAST to the output dtype. */
const bernoulli: LoweringRule = {
  ops: ['onnx.Bernoulli'],
  stage: 'lower',
  targets: ['RANDOM_UNIFORM', 'SHAPE', 'LESS', 'CAST'],
  check(node) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Bernoulli is lowered for float32 probabilities only';
    const dims = dimsOf(node.inputs[0]);
    if (!dims) return 'Bernoulli needs the input rank';
    if (dims.length > 4) return 'Bernoulli of rank > 4 has no TFLite 2.9 lowering (LESS compares at most 4-D)';
    const dtype = outputDType(node, 'float32');
    return dtype && (dtype === 'bool' || tensorTypeName(dtype)) && ['float32', 'int32', 'int64', 'bool', 'int8', 'uint8', 'int16'].includes(dtype) ? undefined : `Bernoulli of dtype ${dtype ?? 'unknown'} has no TFLite CAST target`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const p = node.input(0);
    const dims = dimsOf(p)!;
    const draw = emit.op1('RANDOM_UNIFORM', [shapeOperand(node, emit)], seeds(node), tensorType('float32', dims));
    const hit = emit.op1('LESS', [draw, p], {}, tensorType('bool', dims));
    const dtype = outputDType(node, 'float32')!;
    replaceNode(node, [dtype === 'bool' ? hit : emit.op1('CAST', [hit], { in_data_type: 'BOOL', out_data_type: tensorTypeName(dtype)! }, node.output(0).type)]);
  },
};

/** Multinomial([batch, classes] log-probabilities) → MULTINOMIAL (logits, num_samples): [batch, sample_size] class indices. */
const multinomial: LoweringRule = {
  ops: ['onnx.Multinomial'],
  stage: 'lower',
  targets: ['MULTINOMIAL'],
  check(node) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Multinomial is lowered for float32 inputs only';
    if (dimsOf(node.inputs[0])?.length !== 2) return 'Multinomial takes a [batch, classes] input';
    const dtype = outputDType(node, 'int32');
    return dtype === 'int32' || dtype === 'int64' ? undefined : `Multinomial of dtype ${dtype ?? 'unknown'}: ONNX allows int32 or int64`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const samples = node.optionalAttr('sample_size', 'int') ?? 1;
    replaceNode(node, [emit.op1('MULTINOMIAL', [node.input(0), emit.int32([samples], [], 'samples')], seeds(node), node.output(0).type)]);
  },
};

export const randomRules: readonly LoweringRule[] = [uniform, normal, bernoulli, multinomial];
