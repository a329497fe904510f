import type { CanonicalOp } from '../op-definition.js';
import { activationOps } from './activations.js';
import { arithmeticOps } from './arithmetic.js';
import { castOps } from './cast.js';
import { clip } from './clip.js';
import { einsum } from './einsum.js';
import { logicOps } from './logic.js';
import { quantizationOps } from './quantize.js';
import { argReductionOps, reductionOps } from './reduce.js';
import { rowOps } from './softmax.js';
import { trigonometricOps } from './trigonometry.js';
import { variadicOps } from './variadic.js';
import { shrink } from './shrink.js';
import { det } from './det.js';
import { bitwiseOps } from './bitwise.js';
import { cumProd } from './cumulative.js';
import { windowOps } from './windows.js';

/** Elementwise math, activations, reductions, comparisons, logic, casts, quantization. */
export const mathOps: readonly CanonicalOp[] = [
  ...arithmeticOps,
  ...trigonometricOps,
  ...activationOps,
  clip,
  ...variadicOps,
  ...logicOps,
  ...castOps,
  ...reductionOps,
  ...argReductionOps,
  ...rowOps,
  ...quantizationOps,
  einsum,
  shrink,
  det,
  ...bitwiseOps,
  cumProd,
  ...windowOps,
];

/** Names of the math family's ops (`onnx.Add`, ...). */
export function mathOpNames(): string[] {
  return mathOps.map((op) => op.schema.op);
}
