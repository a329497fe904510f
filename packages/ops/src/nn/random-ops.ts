/**
 * Random ops: Bernoulli, RandomUniform, RandomNormal, RandomUniformLike, RandomNormalLike,
 * Multinomial. Schemas and type inference only: their outputs are not reproducible (ONNX leaves the
 * generator unspecified, so even a `seed` does not pin the values across runtimes), so the reference
 * interpreter has no kernel for them and says so when it meets one (see `isRandomOp`).
 */
import { dtypeFromOnnxCode, tensorType, type DType, type InferenceContext, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp } from '../op-definition.js';
import { inputTensorType } from '../util/inference.js';

function dtypeAttr(context: InferenceContext, fallback: DType | undefined): DType | undefined {
  const code = context.node.optionalAttr('dtype', 'int');
  return code === undefined ? fallback : dtypeFromOnnxCode(code);
}

/** Output: the `dtype` attribute (else the input's dtype) with the input's shape. */
function likeInput(context: InferenceContext): (Type | undefined)[] {
  const x = inputTensorType(context, 0);
  const dtype = dtypeAttr(context, x?.dtype);
  return [dtype ? tensorType(dtype, x?.shape ?? null) : undefined];
}

const seed = { seed: { kind: 'float', doc: 'generator seed; does not make results reproducible across runtimes' } } as const;

const bernoulli = defineCanonicalOp({
  op: 'onnx.Bernoulli',
  summary: 'Draws 0/1 per element with the input as the probability of 1 (random; no reference kernel)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int' }, ...seed },
  inferTypes: likeInput,
});

const randomUniformLike = defineCanonicalOp({
  op: 'onnx.RandomUniformLike',
  summary: 'Uniform samples in [low, high) with the input shape (random; no reference kernel)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int' }, low: { kind: 'float', default: 0 }, high: { kind: 'float', default: 1 }, ...seed },
  inferTypes: likeInput,
});

const randomNormalLike = defineCanonicalOp({
  op: 'onnx.RandomNormalLike',
  summary: 'Normal samples (mean, scale) with the input shape (random; no reference kernel)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int' }, mean: { kind: 'float', default: 0 }, scale: { kind: 'float', default: 1 }, ...seed },
  inferTypes: likeInput,
});

/** Output: `dtype` (float32 by default) with the `shape` attribute. */
function fromShapeAttribute(context: InferenceContext): (Type | undefined)[] {
  const dtype = dtypeAttr(context, 'float32');
  const shape = context.node.optionalAttr('shape', 'ints');
  return [dtype ? tensorType(dtype, shape ? [...shape] : null) : undefined];
}

const randomUniform = defineCanonicalOp({
  op: 'onnx.RandomUniform',
  summary: 'Uniform samples in [low, high) of a given shape (random; no reference kernel)',
  inputs: [],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int', default: 1 }, low: { kind: 'float', default: 0 }, high: { kind: 'float', default: 1 }, shape: { kind: 'ints', required: true }, ...seed },
  inferTypes: fromShapeAttribute,
});

const randomNormal = defineCanonicalOp({
  op: 'onnx.RandomNormal',
  summary: 'Normal samples (mean, scale) of a given shape (random; no reference kernel)',
  inputs: [],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int', default: 1 }, mean: { kind: 'float', default: 0 }, scale: { kind: 'float', default: 1 }, shape: { kind: 'ints', required: true }, ...seed },
  inferTypes: fromShapeAttribute,
});

const multinomial = defineCanonicalOp({
  op: 'onnx.Multinomial',
  summary: 'Draws sample_size class indices per batch row from unnormalized log-probabilities (random; no reference kernel)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int', default: 6, oneOf: [6, 7] }, sample_size: { kind: 'int', default: 1 }, ...seed },
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    return [tensorType(dtypeAttr(context, 'int32') ?? 'int32', [x?.shape?.[0] ?? null, context.node.attr('sample_size', 'int', 1)])];
  },
});

export const randomOps: readonly CanonicalOp[] = [bernoulli, randomUniform, randomNormal, randomUniformLike, randomNormalLike, multinomial];

const randomOpNames = new Set(randomOps.map((op) => op.schema.op));

/** Whether `op` draws random numbers (the reference interpreter does not run these). */
export function isRandomOp(op: string): boolean {
  return randomOpNames.has(op);
}
