/**
 * RotaryEmbedding (opset 23): rotates pairs of features of each head by position-dependent angles.
 * X is [batch, heads, seq, head_size] or [batch, seq, heads·head_size] (`num_heads` says how many);
 * the first `rotary_embedding_dim` features (all when 0) are rotated, the rest pass through. Pairs are
 * (i, i + d/2) or, with `interleaved`, (2i, 2i + 1): x1·cos − x2·sin, x2·cos + x1·sin. cos/sin come
 * from `cos_cache`/`sin_cache` rows picked by `position_ids` ([batch, seq]) or, without them, are
 * given per [batch, seq] directly.
 */
import { tensorType, type InferenceContext, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type KernelContext } from '../op-definition.js';
import { readInts, readNumbers, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';

function inferRotary(context: InferenceContext): (Type | undefined)[] {
  const x = inputTensorType(context, 0);
  return [x ? tensorType(x.dtype, x.shape) : undefined];
}

export const rotaryEmbeddingOp = defineCanonicalOp({
  op: 'onnx.RotaryEmbedding',
  summary: 'Rotary positional embedding of the first rotary_embedding_dim features of each head',
  inputs: [{ name: 'X' }, { name: 'cos_cache' }, { name: 'sin_cache' }, { name: 'position_ids', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: {
    interleaved: { kind: 'int', default: 0, oneOf: [0, 1] },
    num_heads: { kind: 'int', default: 0, doc: 'heads of a 3-D input' },
    rotary_embedding_dim: { kind: 'int', default: 0, doc: 'features rotated per head (0: all)' },
  },
  inferTypes: inferRotary,
  kernel(inputs, context: KernelContext) {
    const node = context.node;
    const x = inputTensor(inputs, 0, context);
    const cosCache = readNumbers(inputTensor(inputs, 1, context));
    const sinCache = readNumbers(inputTensor(inputs, 2, context));
    const cacheShape = inputTensor(inputs, 1, context).shape;
    const positions = optionalInputTensor(inputs, 3, context);
    let batch: number, heads: number, seq: number, size: number;
    const fourD = x.rank === 4;
    if (fourD) [batch, heads, seq, size] = x.shape as [number, number, number, number];
    else if (x.rank === 3) {
      heads = node.attr('num_heads', 'int', 0);
      if (heads < 1 || x.shape[2]! % heads !== 0) throw opError(node, 'a 3-D input needs num_heads dividing its hidden size');
      [batch, seq] = x.shape as [number, number];
      size = x.shape[2]! / heads;
    } else throw opError(node, 'X must be 3-D or 4-D', { actual: `rank ${x.rank}` });
    const rotary = node.attr('rotary_embedding_dim', 'int', 0) || size;
    const half = rotary / 2;
    if (rotary % 2 !== 0 || rotary > size) throw opError(node, `rotary_embedding_dim ${rotary} must be even and at most the head size ${size}`);
    const interleaved = node.attr('interleaved', 'int', 0) === 1;
    const ids = positions ? readInts(positions) : undefined;
    const cacheWidth = cacheShape[cacheShape.length - 1]!;
    if (cacheWidth !== half) throw opError(node, `cos_cache rows have ${cacheWidth} values; expected rotary_embedding_dim/2 = ${half}`);
    const values = readNumbers(x);
    const out = Float64Array.from(values);
    const offset = (b: number, h: number, s: number) => (fourD ? ((b * heads + h) * seq + s) * size : ((b * seq + s) * heads + h) * size);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        const row = ids ? ids[b * seq + s]! : b * seq + s;
        for (let h = 0; h < heads; h++) {
          const base = offset(b, h, s);
          for (let i = 0; i < half; i++) {
            const [first, second] = interleaved ? [base + 2 * i, base + 2 * i + 1] : [base + i, base + i + half];
            const c = cosCache[row * half + i]!;
            const sn = sinCache[row * half + i]!;
            const x1 = values[first]!;
            const x2 = values[second]!;
            out[first] = x1 * c - x2 * sn;
            out[second] = x2 * c + x1 * sn;
          }
        }
      }
    }
    return [tensorFromElements(x.dtype, x.shape, out)];
  },
});
