import { attrs, Builder, type Dim, type Node, type Value } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import { dimsOf, tensorTypeOf, typeWithShape } from '../lowering-tools.js';
import { sameQuant, quantOf } from '../quantized/quant-values.js';
import { attentionHeadsWithoutTranspose, attentionPermKey, batchTarget, int64s, knownAfter, soleUser } from './attention-heads.js';

/**
 * timm/DeiT's ViT attention (issue 12): one packed projection `qkv = x @ W[E, 3E] (+ b)` →
 * Reshape `[B, N, 3, H, hd]` → Transpose `[2,0,3,1,4]` → q, k, v taken along axis 0 (`qkv[0]`, `qkv[1]`, `qkv[2]`:
 * Gathers of a scalar index; or `qkv.unbind(0)`: one Split into ones, each Squeezed). It is rewritten into the spelling
 * the head split of attention-heads.ts already matches (one matcher for both): for each part c,
 * `Slice(qkv, [c·E, (c+1)·E), last axis)` → Reshape `[B, N, H, hd]` → Transpose `[0,2,1,3]` — the same values, since
 * the packed Reshape splits the last axis as (3, H, hd) — and the head split then runs on each new Transpose, taking
 * the heads head-major from the packed weight's columns (float, or int8 on a quantized model). The keys' own
 * `transpose(-2, -1)` stays a swap of the last two axes, which BATCH_MATMUL reads as adj_y.
 *
 * Only where the packed value is a projection by a constant rank-2 weight (so the head split can take the Transposes;
 * otherwise three Transposes would replace one), the dims after the batch static (the batch may be symbolic), and the
 * Transpose's readers all q/k/v parts. Returns whether it rewrote; the packed Reshape, Transpose and the parts'
 * Gathers/Split/Squeezes are erased here.
 */
/**
 * The packed layouts: `[B, N, 3, H, hd]` by `[2,0,3,1,4]` (a batch dim, possibly symbolic; parts `[B, H, N, hd]`), or
 * `[N, 3, H, hd]` by `[1,2,0,3]` (a model exported with the batch folded away, `qkv.reshape(N, 3, H, hd).permute(1, 2,
 * 0, 3)`; parts `[H, N, hd]`, all dims static). Each part becomes the head split of that layout: `[B, N, H, hd]` by
 * `[0,2,1,3]`, or `[N, H, hd]` by `[1,0,2]`.
 */
const PACKED_LAYOUTS: Record<string, { readonly prefix: 0 | 1; readonly headPerm: readonly number[] }> = {
  '2,0,3,1,4': { prefix: 1, headPerm: [0, 2, 1, 3] },
  '1,2,0,3': { prefix: 0, headPerm: [1, 0, 2] },
};

export function packedQkvAsHeadSplits(transpose: Node, opset: number): boolean {
  const layout = PACKED_LAYOUTS[attentionPermKey(transpose) ?? ''];
  if (!layout || opset < 10) return false;
  const { prefix, headPerm } = layout;
  const packedType = tensorTypeOf(transpose.output(0));
  if (!packedType || (packedType.dtype !== 'float32' && !(packedType.dtype === 'int8' && packedType.quant))) return false;
  const reshape = transpose.inputs[0]?.producer;
  if (reshape?.op !== 'onnx.Reshape' || soleUser(reshape.output(0)) !== transpose) return false;
  const split = knownAfter(reshape.output(0), prefix);
  const packed = reshape.input(0);
  const source = knownAfter(packed, prefix);
  if (!split || split.known.length !== 4 || !source || source.known.length !== 2) return false;
  const [length, three, heads, headSize] = split.known as [number, number, number, number];
  const width = heads * headSize;
  if (three !== 3 || heads < 2 || source.known[0] !== length || source.known[1] !== 3 * width) return false;
  if (packedType.quant && (!sameQuant(packedType.quant, quantOf(packed)) || !sameQuant(packedType.quant, quantOf(reshape.output(0))))) return false;
  if (!constantProjection(packed)) return false;
  const parts = qkvParts(transpose, opset, prefix + 3);
  if (!parts) return false;

  const batch: Dim[] = source.all.slice(0, prefix) as Dim[];
  const at = Builder.before(transpose);
  const loc = transpose.loc;
  const axis = at.constant(int64s([-1]), `${transpose.name}_qkv_axis`);
  const target = at.constant(int64s([...batch.map(batchTarget), length, heads, headSize]), `${transpose.name}_qkv_heads`);
  const headTransposes: Node[] = [];
  for (const { index, value } of parts) {
    const base = `${transpose.name}_${'qkv'[index]}`;
    const start = at.constant(int64s([index * width]), `${base}_start`);
    const end = at.constant(int64s([(index + 1) * width]), `${base}_end`);
    const slice = at.op1('onnx.Slice', [packed, start, end, axis], {}, { types: [typeWithShape(packed.type, [...batch, length, width])], name: `${base}_columns`, loc });
    const rows = at.op1('onnx.Reshape', [slice, target], {}, { types: [typeWithShape(value.type, [...batch, length, heads, headSize])], name: `${base}_split`, loc });
    const headMajor = at.create('onnx.Transpose', [rows], { perm: attrs.ints([...headPerm]) }, { types: [value.type], name: `${base}_heads`, loc });
    value.replaceAllUsesWith(headMajor.output(0));
    headTransposes.push(headMajor);
  }
  // The parts' readers (Gathers, or Squeezes and their Split), then the packed Transpose and Reshape.
  for (const user of transpose.output(0).users) {
    if (user.op === 'onnx.Split') for (const output of user.outputs) for (const squeeze of output?.users ?? []) squeeze.erase();
    user.erase();
  }
  transpose.erase();
  reshape.erase();
  for (const headMajor of headTransposes) attentionHeadsWithoutTranspose(headMajor, opset);
  return true;
}

/** `value` = `x @ W (+ b)` with W a constant of rank 2 (float32, or int8 behind its quant<> type; a Gemm's, transposed or not): a projection the head split can take. */
function constantProjection(value: Value): boolean {
  let producer = value.producer;
  if (producer?.op === 'onnx.Add') {
    const [a, b] = producer.inputs;
    const other = constantOf(a) ? b : constantOf(b) ? a : undefined;
    producer = other?.producer ?? null;
  }
  if (producer?.op === 'onnx.Gemm') return (producer.optionalAttr('transA', 'int') ?? 0) === 0 && constantOf(producer.inputs[1])?.rank === 2;
  return producer?.op === 'onnx.MatMul' && constantOf(producer.inputs[1])?.rank === 2;
}

interface QkvPart {
  /** 0: q, 1: k, 2: v. */
  readonly index: number;
  /** The part's value, `[B, H, N, hd]`: replaced by the head split of its columns. */
  readonly value: Value;
}

/**
 * The q/k/v parts read from the packed `[3, B, H, N, hd]`: each reader a Gather along axis 0 of a constant scalar index
 * (`qkv[c]`), or the one reader a Split along axis 0 into ones whose outputs are each read by Squeezes of axis 0
 * (`unbind(0)`). Undefined where any reader is something else.
 */
function qkvParts(transpose: Node, opset: number, partRank: number): QkvPart[] | undefined {
  const packed = transpose.output(0);
  if (packed.isGraphOutput) return undefined;
  const parts: QkvPart[] = [];
  for (const user of packed.users) {
    if (user.inputs[0] !== packed) return undefined;
    if (user.op === 'onnx.Gather') {
      const index = constantOf(user.inputs[1]);
      const value = numbersOf(user.inputs[1])?.[0];
      if ((user.optionalAttr('axis', 'int') ?? 0) !== 0 || !index || index.rank !== 0 || value === undefined || value < -3 || value > 2) return undefined;
      parts.push({ index: (value + 3) % 3, value: user.output(0) });
    } else if (user.op === 'onnx.Split' && packed.useCount === 1) {
      const split = splitIntoOnes(user, opset, partRank);
      if (!split) return undefined;
      parts.push(...split);
    } else {
      return undefined;
    }
  }
  return parts.length > 0 ? parts : undefined;
}

/** A Split of axis 0 of `[3, …]` into three ones, each output read only by Squeezes of axis 0: their values. */
function splitIntoOnes(split: Node, opset: number, partRank: number): QkvPart[] | undefined {
  if ((split.optionalAttr('axis', 'int') ?? 0) !== 0 || split.outputs.length !== 3) return undefined;
  const sizes = split.inputs[1] ? numbersOf(split.inputs[1]) : split.optionalAttr('split', 'ints')?.map(Number);
  if (sizes && sizes.some((size) => size !== 1)) return undefined;
  const parts: QkvPart[] = [];
  for (const [index, output] of split.outputs.entries()) {
    if (!output || output.isGraphOutput) return undefined;
    for (const squeeze of output.users) {
      if (squeeze.op !== 'onnx.Squeeze' || squeeze.inputs[0] !== output) return undefined;
      const axes = opset >= 13 ? (squeeze.inputs[1] ? numbersOf(squeeze.inputs[1]) : undefined) : squeeze.optionalAttr('axes', 'ints')?.map(Number);
      if (!axes || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -(partRank + 1))) return undefined;
      if (dimsOf(squeeze.output(0))?.length !== partRank) return undefined;
      parts.push({ index, value: squeeze.output(0) });
    }
  }
  return parts;
}
