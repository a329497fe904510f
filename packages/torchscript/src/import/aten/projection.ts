/** `x · Wᵀ (+ b)` for any rank of x, and optional tensor arguments: shared by the fused attention and recurrent-cell lowerings. */
import type { ScriptValue } from '../script-value.js';
import type { LoweringContext, TensorValue } from '../lowering.js';

/** x · weightᵀ, plus bias when given (Transpose, MatMul, Add). */
export function linearProjection(ctx: LoweringContext, x: TensorValue, weight: TensorValue, bias: TensorValue | null): TensorValue {
  const transposed = ctx.emit('Transpose', [weight.value], { perm: [1, 0] }, { rank: 2, dtype: weight.dtype });
  const product = ctx.emit('MatMul', [x.value, transposed.value], {}, { rank: x.rank, dtype: x.dtype });
  return bias ? ctx.emit('Add', [product.value, bias.value], {}, { rank: x.rank, dtype: x.dtype }) : product;
}

/** A tensor argument that may be None. */
export function optionalTensor(ctx: LoweringContext, value: ScriptValue, what: string): TensorValue | null {
  return value.kind === 'none' ? null : ctx.tensor(value, what);
}
