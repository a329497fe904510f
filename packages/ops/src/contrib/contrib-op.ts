/**
 * Defining an ONNX Runtime contrib op (`com.microsoft.*`): its schema's `verify` first checks operand
 * types against the op's type constraints from `contrib-type-constraints.ts`, then runs the op's own
 * checks. Contrib ops have no reference kernel (the interpreter stops at one with a located error).
 */
import { defineOp, type OpSchemaInit, type VerifyContext } from '@modelpass/ir';
import type { CanonicalOp } from '../op-definition.js';
import { checkTypeConstraints } from '../verify/type-constraint-check.js';
import { reportAt } from '../verify/verify-context.js';
import { shapeOfType, staticDim } from '../util/inference.js';
import { contribTypeSignatures } from './contrib-type-constraints.js';

/** ONNX Runtime's contrib domain, a dialect here. */
export const MICROSOFT_DIALECT = 'com.microsoft';

export function defineContribOp(init: OpSchemaInit): CanonicalOp {
  const own = init.verify;
  const verify = (context: VerifyContext): void => {
    checkTypeConstraints(context, contribTypeSignatures, MICROSOFT_DIALECT, init.inputs);
    own?.(context);
  };
  return Object.freeze({ schema: defineOp({ sinceVersion: 1, ...init, verify }), kernel: undefined });
}

/** The element count of input `index` when its shape is static. */
export function staticElementCount(context: VerifyContext, index: number): number | undefined {
  const shape = shapeOfType(context.node.inputs[index]?.type);
  if (!shape) return undefined;
  let count = 1;
  for (const dim of shape) {
    const size = staticDim(dim);
    if (size === undefined) return undefined;
    count *= size;
  }
  return count;
}

/**
 * Quantization parameters ONNX Runtime reads as one value (per-tensor scale or zero point): each
 * input at `indices` that is present must hold exactly one element.
 */
export function verifyScalarParameters(indices: readonly number[]) {
  return (context: VerifyContext): void => {
    for (const index of indices) {
      const value = context.node.inputs[index];
      if (!value) continue;
      const count = staticElementCount(context, index);
      if (count !== undefined && count !== 1) {
        reportAt(context, 'quant-scalar-parameter', `input #${index} '${value.name}' of ${context.node.op} is a per-tensor quantization parameter but holds ${count} elements`, {
          expected: 'one element (a scalar or shape [1])',
          actual: `${count} elements`,
        });
      }
    }
  };
}
