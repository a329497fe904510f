import { attrs, tensorType, type Node } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { staticDims, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/**
 * RANDOM_UNIFORM → RandomUniform [0, 1), RANDOM_STANDARD_NORMAL → RandomNormal (mean 0, scale 1), MULTINOMIAL →
 * Multinomial: the same distributions, not the same draws (ONNX leaves the generator open). A constant shape
 * becomes the `shape` attribute; a run-time one RandomUniformLike/RandomNormalLike of ConstantOfShape(shape).
 * TFLite's seed = seed2 = 0 ("seed at random") gives no ONNX seed; any other pair gives ONNX's float seed = seed,
 * as legalize-tflite's lowering reads it back (ONNX seed s → TFLite seed s, seed2 1).
 */

function seedAttributes(node: Node): { seed?: ReturnType<typeof attrs.float> } {
  const seed = node.optionalAttr('seed', 'int') ?? 0;
  const seed2 = node.optionalAttr('seed2', 'int') ?? 0;
  return seed === 0 && seed2 === 0 ? {} : { seed: attrs.float(seed) };
}

const DRAWS: Readonly<Record<string, { op: string; parameters: Record<string, number> }>> = {
  'tflite.RANDOM_UNIFORM': { op: 'RandomUniform', parameters: { low: 0, high: 1 } },
  'tflite.RANDOM_STANDARD_NORMAL': { op: 'RandomNormal', parameters: { mean: 0, scale: 1 } },
};

const draw: RaiseRule = {
  ops: Object.keys(DRAWS),
  targets: ['RandomUniform', 'RandomNormal', 'RandomUniformLike', 'RandomNormalLike', 'ConstantOfShape', 'Cast'],
  check(node) {
    if (tensorTypeOf(node.outputs[0])?.dtype !== 'float32') return `an output of dtype ${tensorTypeOf(node.outputs[0])?.dtype ?? 'unknown'}: float32 expected`;
    const shape = staticDims(node.inputs[0]);
    return shape?.length === 1 ? undefined : 'needs a 1-D shape operand of static length';
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const { op, parameters } = DRAWS[node.op]!;
    const attributes = { dtype: attrs.int(1), ...Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, attrs.float(v)])), ...seedAttributes(node) };
    const shape = numbersOf(node.inputs[0]);
    if (shape) {
      replaceRaised(node, [emit.op1(op, [], { ...attributes, shape: attrs.ints(shape) }, node.output(0).type)]);
      return;
    }
    const rank = staticDims(node.inputs[0])![0]!;
    const dims = tensorTypeOf(node.inputs[0])?.dtype === 'int64' ? node.input(0) : emit.op1('Cast', [node.input(0)], { to: attrs.int(7) }, tensorType('int64', [rank]));
    const zeros = emit.op1('ConstantOfShape', [dims], {}, node.output(0).type);
    replaceRaised(node, [emit.op1(`${op}Like`, [zeros], attributes, node.output(0).type)]);
  },
};

/** MULTINOMIAL(logits [batch, classes], num_samples) → Multinomial (sample_size = the constant num_samples; dtype the output's). */
const multinomial: RaiseRule = {
  ops: ['tflite.MULTINOMIAL'],
  targets: ['Multinomial'],
  check(node) {
    const samples = numbersOf(node.inputs[1]);
    if (!samples || samples.length !== 1) return 'num_samples must be a constant (ONNX Multinomial takes sample_size as an attribute)';
    const dtype = tensorTypeOf(node.outputs[0])?.dtype;
    if (dtype !== 'int32' && dtype !== 'int64') return `an output of dtype ${dtype ?? 'unknown'}: int32 or int64 expected`;
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32' || staticDims(node.inputs[0])?.length !== 2) return 'needs float32 logits of shape [batch, classes]';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dtype = tensorTypeOf(node.outputs[0])!.dtype === 'int32' ? 6 : 7;
    const attributes = { sample_size: attrs.int(numbersOf(node.inputs[1])![0]!), dtype: attrs.int(dtype), ...seedAttributes(node) };
    replaceRaised(node, [emit.op1('Multinomial', [node.input(0)], attributes, node.output(0).type)]);
  },
};

export const randomRaiseRules: readonly RaiseRule[] = [draw, multinomial];
