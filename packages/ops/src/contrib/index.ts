/**
 * ONNX Runtime contrib ops (dialect `com.microsoft`) that modelpass's passes write: schemas with typed
 * attributes, type constraints, shape/type inference and verify hooks; no reference kernels.
 */
import type { OpSchema } from '@modelpass/ir';
import type { CanonicalOp } from '../op-definition.js';
import { gatherBlockQuantizedOp } from './gather-block-quantized.js';
import { inverseOp } from './inverse.js';
import { matMulNBitsOp } from './matmul-nbits.js';
import { qlinearOps } from './qlinear-ops.js';
import { quantizedMatMulOps } from './quantized-matmul-ops.js';

export { MICROSOFT_DIALECT } from './contrib-op.js';
export { matMulNBitsLayout, type MatMulNBitsLayout } from './matmul-nbits.js';
export { packedWeightsOf, parameterCount, type PackedWeights } from './packed-weights.js';

/** Every contrib op modelpass knows. */
export const contribOps: readonly CanonicalOp[] = [matMulNBitsOp, gatherBlockQuantizedOp, ...quantizedMatMulOps, ...qlinearOps, inverseOp];

export function contribSchemas(): OpSchema[] {
  return contribOps.map((op) => op.schema);
}
