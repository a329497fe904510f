/**
 * Attention (opset 23): softmax(Q·Kᵀ·scale (+ mask) (causal)) · V per head, with grouped K/V heads
 * (each K/V head serves q_num_heads/kv_num_heads query heads). Q/K/V are [batch, heads, seq, size]
 * or [batch, seq, heads·size] (`q_num_heads`/`kv_num_heads` say how many). A bool mask keeps the
 * true positions; a float mask is added. `softcap` > 0 bounds the scores by softcap·tanh(s/softcap).
 * The reference kernel computes Y only (no past_key/past_value, no present or QK outputs).
 */
import { tensorType, type InferenceContext, type Node, type Tensor, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type KernelContext } from '../op-definition.js';
import { readNumbers, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';

/** [batch, heads, seq, size] of a 4-D operand, or of a 3-D one split into `heads`. */
export function attentionDims(shape: readonly number[], heads: number): [number, number, number, number] | undefined {
  if (shape.length === 4) return shape as [number, number, number, number];
  if (shape.length === 3 && heads > 0 && shape[2]! % heads === 0) return [shape[0]!, heads, shape[1]!, shape[2]! / heads];
  return undefined;
}

function inferAttention(context: InferenceContext): (Type | undefined)[] {
  const q = inputTensorType(context, 0);
  const v = inputTensorType(context, 2);
  if (!q) return [undefined];
  const qShape = q.shape;
  const vShape = v?.shape;
  if (!qShape || !vShape) return [tensorType(q.dtype, null)];
  const vSize = vShape.length === 4 ? vShape[3] : typeof vShape[2] === 'number' ? vShape[2] / context.node.attr('kv_num_heads', 'int', 1) : null;
  if (qShape.length === 4) return [tensorType(q.dtype, [qShape[0]!, qShape[1]!, qShape[2]!, vSize ?? null])];
  const heads = context.node.attr('q_num_heads', 'int', 0);
  return [tensorType(q.dtype, [qShape[0]!, qShape[1]!, typeof vSize === 'number' && heads ? heads * vSize : null])];
}

/** The mask value at (b, h, i, j), broadcasting its dims from the right. */
function maskReader(mask: Tensor | undefined, dims: readonly number[]): ((b: number, h: number, i: number, j: number) => number) | undefined {
  if (!mask) return undefined;
  const values = readNumbers(mask);
  const shape = [...new Array<number>(4 - mask.rank).fill(1), ...mask.shape];
  return (...index: number[]) => {
    let offset = 0;
    for (let d = 0; d < 4; d++) offset = offset * shape[d]! + (shape[d] === 1 ? 0 : index[d]!);
    return values[offset]!;
  };
}

function attentionKernelProblem(node: Node): string | undefined {
  if (node.inputs[4] || node.inputs[5]) return 'past_key/past_value are not supported by the reference kernel';
  if (node.outputs.slice(1).some((v) => v)) return 'only the Y output is computed by the reference kernel';
  return undefined;
}

export const attentionOp = defineCanonicalOp({
  op: 'onnx.Attention',
  summary: 'Scaled dot-product attention with grouped K/V heads, masks, causal masking and softcap',
  inputs: [{ name: 'Q' }, { name: 'K' }, { name: 'V' }, { name: 'attn_mask', optional: true }, { name: 'past_key', optional: true }, { name: 'past_value', optional: true }],
  outputs: [{ name: 'Y' }, { name: 'present_key', optional: true }, { name: 'present_value', optional: true }, { name: 'qk_matmul_output', optional: true }],
  attributes: {
    is_causal: { kind: 'int', default: 0, oneOf: [0, 1] },
    kv_num_heads: { kind: 'int' },
    q_num_heads: { kind: 'int' },
    qk_matmul_output_mode: { kind: 'int', default: 0 },
    scale: { kind: 'float' },
    softcap: { kind: 'float', default: 0 },
    softmax_precision: { kind: 'int' },
  },
  inferTypes: inferAttention,
  kernel(inputs, context: KernelContext) {
    const node = context.node;
    const problem = attentionKernelProblem(node);
    if (problem) throw opError(node, problem);
    const [q, k, v] = [0, 1, 2].map((i) => inputTensor(inputs, i, context));
    const qd = attentionDims(q!.shape, node.attr('q_num_heads', 'int', 0));
    const kd = attentionDims(k!.shape, node.attr('kv_num_heads', 'int', 0));
    const vd = attentionDims(v!.shape, node.attr('kv_num_heads', 'int', 0));
    if (!qd || !kd || !vd || qd[1] % kd[1] !== 0) throw opError(node, 'Q/K/V must be 4-D or 3-D with q_num_heads/kv_num_heads, query heads a multiple of K/V heads');
    const [batch, qHeads, qSeq, size] = qd;
    const [, kvHeads, kvSeq] = kd;
    const vSize = vd[3];
    const fourD = q!.rank === 4;
    const at = (dims: readonly number[], is4: boolean, b: number, h: number, s: number, e: number) => (is4 ? ((b * dims[1]! + h) * dims[2]! + s) * dims[3]! + e : ((b * dims[2]! + s) * dims[1]! + h) * dims[3]! + e);
    const [qv, kv, vv] = [q!, k!, v!].map((t) => readNumbers(t));
    const mask = optionalInputTensor(inputs, 3, context);
    const readMask = maskReader(mask, [batch, qHeads, qSeq, kvSeq]);
    const scale = node.optionalAttr('scale', 'float') ?? 1 / Math.sqrt(size);
    const softcap = node.attr('softcap', 'float', 0);
    const causal = node.attr('is_causal', 'int', 0) === 1;
    const out = new Float64Array(batch * qHeads * qSeq * vSize);
    const scores = new Float64Array(kvSeq);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < qHeads; h++) {
        const g = Math.floor(h / (qHeads / kvHeads));
        for (let i = 0; i < qSeq; i++) {
          let max = -Infinity;
          for (let j = 0; j < kvSeq; j++) {
            let s = 0;
            for (let e = 0; e < size; e++) s += qv[at(qd, fourD, b, h, i, e)]! * kv[at(kd, k!.rank === 4, b, g, j, e)]!;
            s *= scale;
            if (softcap > 0) s = softcap * Math.tanh(s / softcap);
            if (readMask) s = mask!.dtype === 'bool' ? (readMask(b, h, i, j) ? s : -Infinity) : s + readMask(b, h, i, j);
            if (causal && j > i) s = -Infinity; // top-left aligned, as ONNX's reference (no past)
            scores[j] = s;
            max = Math.max(max, s);
          }
          let total = 0;
          for (let j = 0; j < kvSeq; j++) total += scores[j] = Math.exp(scores[j]! - max);
          for (let e = 0; e < vSize; e++) {
            let y = 0;
            for (let j = 0; j < kvSeq; j++) y += (scores[j]! / total) * vv[at(vd, v!.rank === 4, b, g, j, e)]!;
            out[at([batch, qHeads, qSeq, vSize], fourD, b, h, i, e)] = y;
          }
        }
      }
    }
    const shape = fourD ? [batch, qHeads, qSeq, vSize] : [batch, qSeq, qHeads * vSize];
    return [tensorFromElements(q!.dtype, shape, out)];
  },
});
