/**
 * `aten::_native_multi_head_attention`: the fused inference path `nn.MultiheadAttention` takes
 * when traced in eval mode (torchvision's vit_b_16 prints it). Composed of canonical ops:
 * in-projections, heads split as [B, heads, L, head_dim], scaled dot products, softmax over the
 * keys, heads merged, out-projection. The query is scaled by 1/√head_dim before the product, as
 * torch's kernel does. Masks are refused by name (none of the fused-path models seen carry one).
 */
import { Tensor } from '@modelpass/ir';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { linearProjection, optionalTensor } from './projection.js';

/** [B, L, E] → [B, heads, L, head_dim] (or [B, heads, head_dim, L] for the keys). */
function splitHeads(ctx: LoweringContext, x: TensorValue, heads: number, headDim: number, keys: boolean): TensorValue {
  const shaped = ctx.emit('Reshape', [x.value, ctx.int64Vector([0, 0, heads, headDim])], {}, { rank: 4, dtype: x.dtype });
  return ctx.emit('Transpose', [shaped.value], { perm: keys ? [0, 2, 3, 1] : [0, 2, 1, 3] }, { rank: 4, dtype: x.dtype });
}

const nativeMultiHeadAttention: AtenLowering = (ctx) => {
  const query = ctx.tensor(ctx.arg(0, 'query'), 'query');
  const key = ctx.tensor(ctx.arg(1, 'key'), 'key');
  const value = ctx.tensor(ctx.arg(2, 'value'), 'value');
  const embedDim = ctx.int(ctx.arg(3, 'embed_dim'), 'embed_dim');
  const heads = ctx.int(ctx.arg(4, 'num_head'), 'num_head');
  const qkvWeight = ctx.tensor(ctx.arg(5, 'qkv_weight'), 'qkv_weight');
  const qkvBias = optionalTensor(ctx, ctx.arg(6, 'qkv_bias'), 'qkv_bias');
  const projWeight = ctx.tensor(ctx.arg(7, 'proj_weight'), 'proj_weight');
  const projBias = optionalTensor(ctx, ctx.arg(8, 'proj_bias'), 'proj_bias');
  if (ctx.arg(9, 'mask').kind !== 'none') return ctx.fail('a mask is not supported (only mask=None)');
  const needWeights = ctx.bool(ctx.arg(10, 'need_weights', { kind: 'bool', value: true }), 'need_weights');
  const averageWeights = ctx.bool(ctx.arg(11, 'average_attn_weights', { kind: 'bool', value: true }), 'average_attn_weights');
  for (const [x, what] of [[query, 'query'], [key, 'key'], [value, 'value']] as const) {
    const rank = x.rank ?? knownShape(x)?.length;
    if (rank !== 3) return ctx.fail(`${what} must be [batch, length, embed_dim] (rank 3), got rank ${rank ?? 'unknown'}`);
  }
  if (heads < 1 || embedDim % heads !== 0) return ctx.fail(`embed_dim ${embedDim} is not divisible by num_head ${heads}`);
  const headDim = embedDim / heads;

  const sizes = ctx.int64Vector([embedDim, embedDim, embedDim]);
  const weights = ctx.emitMany('Split', [qkvWeight.value, sizes], { axis: 0 }, 3, { rank: 2, dtype: qkvWeight.dtype });
  const biases = qkvBias ? ctx.emitMany('Split', [qkvBias.value, sizes], { axis: 0 }, 3, { rank: 1, dtype: qkvBias.dtype }) : [null, null, null];
  const q = linearProjection(ctx, query, weights[0]!, biases[0]!);
  const k = linearProjection(ctx, key, weights[1]!, biases[1]!);
  const v = linearProjection(ctx, value, weights[2]!, biases[2]!);

  const scale = ctx.scalarConstant(query.dtype ?? 'float32', 1 / Math.sqrt(headDim));
  const qHeads = ctx.emit('Mul', [splitHeads(ctx, q, heads, headDim, false).value, scale.value], {}, { rank: 4, dtype: query.dtype });
  const scores = ctx.emit('MatMul', [qHeads.value, splitHeads(ctx, k, heads, headDim, true).value], {}, { rank: 4, dtype: query.dtype });
  const attention = ctx.emit('Softmax', [scores.value], { axis: -1 }, { rank: 4, dtype: query.dtype });
  const context = ctx.emit('MatMul', [attention.value, splitHeads(ctx, v, heads, headDim, false).value], {}, { rank: 4, dtype: query.dtype });
  const merged = ctx.emit('Transpose', [context.value], { perm: [0, 2, 1, 3] }, { rank: 4, dtype: query.dtype });
  const flat = ctx.emit('Reshape', [merged.value, ctx.int64Vector([0, 0, embedDim])], {}, { rank: 3, dtype: query.dtype });
  const output = linearProjection(ctx, flat, projWeight, projBias);

  let weightsOut: TensorValue;
  if (!needWeights) {
    // torch returns an empty tensor when the weights are not asked for.
    weightsOut = { kind: 'tensor', value: ctx.builder.constant(Tensor.fromValues(query.dtype ?? 'float32', [0], []), 'const'), rank: 1, dtype: query.dtype ?? 'float32' };
  } else if (averageWeights) {
    weightsOut = ctx.emit('ReduceMean', [attention.value], { axes: [1], keepdims: 0 }, { rank: 3, dtype: query.dtype });
  } else {
    weightsOut = attention;
  }
  return { kind: 'tuple', items: [output, weightsOut] };
};

export const attentionLowerings: ReadonlyArray<[string, AtenLowering]> = [['_native_multi_head_attention', nativeMultiHeadAttention]];
