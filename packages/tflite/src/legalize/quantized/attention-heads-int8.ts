/**
 * The attention head split and merge of rules/attention-heads.ts on int8 values (a quantize-static QDQ transformer
 * after fold-qdq): no TRANSPOSE left inside, as in the float conversion (issue 12: the int8 fashion-transformer kept
 * 8 where the float one has 0).
 *
 * - **split**: `x @ W (+ b)` (int8 weights, the bias an int8 constant with its own range) → optional Slice of the last
 *   axis → Reshape `[N, L, H, hd]` → Transpose `[0,2,1,3]` (keys `[0,2,3,1]`), or `[L, H, hd]` by `[1,0,2]` / `[1,2,0]`:
 *   the heads come out head-major from the projection, `x[N, 1, L, Ein] @ W'[H, Ein, hd]` (BATCH_MATMUL, its output
 *   the projection MatMul's parameters) `+ b'[H, 1, hd]` (ADD, the Add's parameters, the bias's integers rearranged).
 *   BATCH_MATMUL takes one weight scale: per-tensor weights (quantize-static{full-integer}'s head splits, its
 *   per-channel-min-gain, or a model quantized so) give ORT's integers; weights quantized per column (a QDQ model from
 *   elsewhere) become one CONV_2D per head instead, reading x as NHWC `[N, 1, L, Ein]` with the head's columns as a
 *   per-channel filter `[hd, 1, 1, Ein]`, the heads concatenated along axis 1 — ORT's integers and scales (requantized
 *   per tensor, the weights' rounding moved the result off ORT's: mean 0.41 → 0.37 output steps on the Fashion
 *   transformer so quantized). Keys keep a swap of the last two axes, which
 *   BATCH_MATMUL reads with adj_y (rules/matmul.ts: an int8 TRANSPOSE with its input's parameters).
 * - **merge**: `A[N, H, L, hd]` → Transpose `[0,2,1,3]` → Reshape `[N, L, H·hd]` → MatMul by int8 `Wo[H·hd, Eout]`:
 *   `out[n, l, o] = Σ_h Σ_d A[n, h, l, d] · Wo[h·hd + d, o]` is one CONV_2D reading A as NHWC (height H, width L,
 *   channels hd) with the filter `[Eout, H, 1, hd]` (VALID): the same integer sums, per-channel scales kept, one
 *   requantization to the MatMul's parameters — ORT's QLinearMatMul. Written as tflite.CONV_2D + RESHAPE right away
 *   (the canonical Conv is channels-first; the lowering keeps tflite-dialect nodes).
 * - **merge read in float**: where the out-projection runs in float (quantize-static's defaults leave its output float,
 *   ORT's MatMulIntegerToFloat; prepare-quantized put a DequantizeLinear before it), the heads are dequantized as they
 *   are and merged by the same CONV_2D in float (the int8 weights found again behind a DEQUANTIZE). The out-projection
 *   may be a MatMul or torch's Gemm on the merged rows (nn.MultiheadAttention's out_proj, transB, its bias added after).
 * Both need static dims but the batch; the sequence-first interleaved spellings (batch > 1) stay as they are.
 */
import { attrs, Builder, Tensor, tensorType, type Dim, type Node, type QuantParams, type TensorType, type Type, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { typeWithShape, dimsOf, tensorTypeOf } from '../lowering-tools.js';
import { transposeTensor } from '@modelpass/transforms';
import { batchTarget, finishHeadSplit, headSplitShape, int64s, knownAfter, packedSlice, permOf, product, soleUser, type HeadSplitShape } from '../rules/attention-heads.js';
import { quantOf, realType, sameQuant } from './quant-values.js';

const MERGE_PERMS: Record<string, number> = { '1,0,2': 0, '0,2,1,3': 1 };

interface Int8Projection {
  readonly x: Value;
  /** int8 [Ein, N], quant<> per tensor or per column (axis 1). */
  readonly weight: Tensor;
  /** The MatMul's output (its quant<> parameters are the head-major BATCH_MATMUL's). */
  readonly product: Value;
  /** int8 [N] quant<> per tensor, or undefined. */
  readonly bias?: Tensor;
  /** A Gemm's int32 bias [N] (scale input·weight, per column or per tensor): added inside the per-head CONV_2Ds. */
  readonly accumulatorBias?: Tensor;
}

const isInt8 = (value: Value | null | undefined): value is Value => !!value && (value.type as TensorType).dtype === 'int8' && !!quantOf(value);

/**
 * `value` = `Gemm(x[R, Ein], W (+ b))` on int8 values (torch's Linear on rows, transB; W per tensor or per output
 * channel, b int32 with the accumulator's scale): the projection with W as `[Ein, N]`, its per-channel axis moved with it.
 */
function int8GemmProjectionOf(gemm: Node): Int8Projection | undefined {
  if ((gemm.optionalAttr('transA', 'int') ?? 0) !== 0 || (gemm.optionalAttr('alpha', 'float') ?? 1) !== 1 || (gemm.optionalAttr('beta', 'float') ?? 1) !== 1) return undefined;
  if (!isInt8(gemm.outputs[0]) || !isInt8(gemm.inputs[0]) || dimsOf(gemm.inputs[0])?.length !== 2) return undefined;
  const stored = constantOf(gemm.inputs[1]);
  const quant = stored?.quant;
  if (!stored || stored.dtype !== 'int8' || !quant || stored.rank !== 2 || quant.zeroPoint.some((z) => z !== 0)) return undefined;
  const transB = (gemm.optionalAttr('transB', 'int') ?? 0) === 1;
  const outAxis = transB ? 0 : 1;
  if (quant.axis !== undefined && quant.axis !== outAxis) return undefined;
  let weight = stored;
  if (transB) {
    const [rows, columns] = stored.shape as [number, number];
    const codes = stored.toNumbers();
    const out = new Int8Array(rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = codes[r * columns + c]!;
    weight = Tensor.fromValues('int8', [columns, rows], out).withQuant(quant.axis === undefined ? quant : { ...quant, axis: 1 });
  }
  const n = weight.shape[1]!;
  let accumulatorBias: Tensor | undefined;
  if (gemm.inputs[2]) {
    accumulatorBias = constantOf(gemm.inputs[2]);
    if (!accumulatorBias || accumulatorBias.dtype !== 'int32' || !accumulatorBias.quant || accumulatorBias.size !== n) return undefined;
    accumulatorBias = accumulatorBias.reshape([n]);
  }
  return { x: gemm.input(0), weight, product: gemm.output(0), accumulatorBias };
}

/** `value` = `x @ W (+ b)` on int8 values, W a constant int8 [Ein, N] (per tensor or per column), b an int8 per-tensor constant [N]. */
function int8ProjectionOf(value: Value): Int8Projection | undefined {
  if (value.producer?.op === 'onnx.Gemm') return int8GemmProjectionOf(value.producer);
  let producer = value.producer;
  let bias: Tensor | undefined;
  if (producer?.op === 'onnx.Add') {
    const [a, b] = [producer.inputs[0], producer.inputs[1]];
    const constantSide = constantOf(a) ? a : constantOf(b) ? b : undefined;
    const other = constantSide === a ? b : a;
    const tensor = constantOf(constantSide);
    const n = tensor?.shape[tensor.rank - 1];
    if (!tensor || !other || tensor.dtype !== 'int8' || !tensor.quant || tensor.quant.axis !== undefined || n === undefined || tensor.size !== n) return undefined;
    bias = tensor.reshape([n]);
    producer = other.producer;
  }
  if (producer?.op !== 'onnx.MatMul' || !isInt8(producer.outputs[0]) || !isInt8(producer.inputs[0])) return undefined;
  const weight = constantOf(producer.inputs[1]);
  const quant = weight?.quant;
  if (!weight || weight.dtype !== 'int8' || !quant || weight.rank !== 2 || (quant.axis !== undefined && quant.axis !== 1) || quant.zeroPoint.some((z) => z !== 0)) return undefined;
  if (bias && bias.size !== weight.shape[1]) return undefined;
  return { x: producer.input(0), weight, product: producer.output(0), bias };
}

/** Columns [start, start + H·hd) of an int8 [Ein, N] as [H, Ein, hd], per tensor (per-column weights requantized symmetric). */
function headMajorInt8Weights(weight: Tensor, start: number, heads: number, headSize: number): Tensor {
  const [inner, columns] = weight.shape as [number, number];
  const quant = weight.quant!;
  const codes = weight.toNumbers();
  const scaleOf = (column: number) => quant.scale[quant.axis === undefined ? 0 : column]!;
  let scale = quant.scale[0]!;
  const perColumn = quant.axis !== undefined && quant.scale.slice(start, start + heads * headSize).some((s) => s !== quant.scale[start]);
  if (perColumn) {
    let largest = 0;
    for (let i = 0; i < inner; i++) for (let c = start; c < start + heads * headSize; c++) largest = Math.max(largest, Math.abs(codes[i * columns + c]! * scaleOf(c)));
    scale = largest > 0 ? largest / 127 : 1;
  } else if (quant.axis !== undefined) scale = quant.scale[start]!;
  const out = new Int8Array(heads * inner * headSize);
  let o = 0;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < inner; i++) {
      for (let d = 0; d < headSize; d++, o++) {
        const column = start + h * headSize + d;
        const code = codes[i * columns + column]!;
        out[o] = perColumn ? Math.max(-127, Math.min(127, Math.round((code * scaleOf(column)) / scale))) : code;
      }
    }
  }
  const perTensor: QuantParams = { ...quant, scale: [scale], zeroPoint: [0], axis: undefined };
  return Tensor.fromValues('int8', [heads, inner, headSize], out).withQuant(perTensor);
}

/** Whether columns [start, start + width) of an int8 [Ein, N] weight have more than one scale (per-column quantization). */
function perColumnScales(weight: Tensor, start: number, width: number): boolean {
  const quant = weight.quant!;
  return quant.axis !== undefined && quant.scale.slice(start, start + width).some((s) => s !== quant.scale[start]);
}

/**
 * The head split's projection with per-column weights, which BATCH_MATMUL (one weight scale) cannot take without
 * requantizing them (a step of agreement lost): one CONV_2D per head reading x as NHWC `[N, 1, L, Ein]` with the
 * head's columns as a per-channel filter `[hd, 1, 1, Ein]` (ORT's integers and scales, one requantization to the
 * MatMul's parameters, as QLinearMatMul), the heads concatenated along axis 1: `[N, H, L, hd]` (`[H, L, hd]`).
 */
function perHeadConvolutions(
  at: Builder,
  projection: Int8Projection,
  layout: { batch: readonly Dim[]; length: number; inner: number; heads: number; headSize: number; start: number; base: string; loc: Node['loc'] },
): Value {
  const { batch, length, inner, heads, headSize, start, base, loc } = layout;
  const [, columns] = projection.weight.shape as [number, number];
  const quant = projection.weight.quant!;
  const codes = projection.weight.toNumbers();
  const outQuant = quantOf(projection.product);
  const batchDim: Dim = batch.length === 0 ? 1 : batch[0]!;
  let nhwc = projection.x;
  const nhwcDims = [batchDim, 1, length, inner];
  const xDims = dimsOf(nhwc);
  if (!xDims || xDims.length !== 4 || xDims.some((d, i) => d !== nhwcDims[i])) {
    const target = [batch.length === 0 ? 1 : batchTarget(batch[0]), 1, length, inner];
    nhwc = at.op1('onnx.Reshape', [nhwc, at.constant(int64s(target), `${base}_rows_nhwc`)], {}, { types: [typeWithShape(nhwc.type, nhwcDims)], name: `${base}_rows_nhwc`, loc });
  }
  const headType = tensorType('int8', [batchDim, 1, length, headSize], outQuant);
  const parts: Value[] = [];
  for (let h = 0; h < heads; h++) {
    const first = start + h * headSize;
    const filter = new Int8Array(headSize * inner);
    // filter[d, 0, 0, i] = W[i, first + d]: the head's columns, one output channel each.
    for (let d = 0; d < headSize; d++) for (let i = 0; i < inner; i++) filter[d * inner + i] = codes[i * columns + first + d]!;
    const filterQuant: QuantParams = quant.axis === undefined ? quant : { ...quant, scale: quant.scale.slice(first, first + headSize), zeroPoint: new Array<number>(headSize).fill(0), axis: 0 };
    const accumulator = projection.accumulatorBias;
    const headBias = accumulator
      ? at.constant(Tensor.fromValues('int32', [headSize], accumulator.toNumbers().slice(first, first + headSize)).withQuant(accumulator.quant!.axis === undefined ? accumulator.quant! : { ...accumulator.quant!, scale: accumulator.quant!.scale.slice(first, first + headSize), zeroPoint: new Array<number>(headSize).fill(0), axis: 0 }), `${base}_head${h}_bias`)
      : null;
    const conv = at.create(
      'tflite.CONV_2D',
      [nhwc, at.constant(Tensor.fromValues('int8', [headSize, 1, 1, inner], filter).withQuant(filterQuant), `${base}_head${h}_filter`), headBias],
      { padding: attrs.string('VALID'), stride_w: attrs.int(1), stride_h: attrs.int(1), dilation_w_factor: attrs.int(1), dilation_h_factor: attrs.int(1), fused_activation_function: attrs.string('NONE') },
      { types: [headType], name: `${base}_head${h}_as_conv`, loc },
    );
    parts.push(conv.output(0));
  }
  const joinedDims = [batchDim, heads, length, headSize];
  let y = at.op1('onnx.Concat', parts, { axis: attrs.int(1) }, { types: [tensorType('int8', joinedDims, outQuant)], name: `${base}_heads`, loc });
  if (batch.length === 0) y = at.op1('onnx.Reshape', [y, at.constant(int64s([heads, length, headSize]), `${base}_heads_shape`)], {}, { types: [tensorType('int8', [heads, length, headSize], outQuant)], name: `${base}_heads_unbatched`, loc });
  return y;
}

/** Matches at an int8 Transpose: the head split. */
export function int8HeadSplit(transpose: Node): boolean {
  const shape = headSplitShape(transpose);
  if (!shape) return false;
  const { reshape, sourceValue, width } = shape;
  const quant = quantOf(transpose.output(0));
  if (!sameQuant(quant, quantOf(reshape.output(0))) || !sameQuant(quant, quantOf(sourceValue))) return false;
  const sliced = packedSlice(sourceValue, width);
  if (!sliced || (sliced.slice && !sameQuant(quant, quantOf(sliced.slice.inputs[0])))) return false;
  const at = Builder.before(transpose);
  const y = headMajorInt8(at, transpose, shape, sliced, transpose.output(0).type);
  return !!y && finishHeadSplit(at, y, transpose, shape);
}

/**
 * The head split of a float Transpose whose heads are read from a DequantizeLinear of an int8 projection (quantize-static
 * leaves q's Reshape → Transpose → scaling Div float in nn.MultiheadAttention after simplify; the packed projection is
 * int8): the int8 head split of that projection, dequantized with the same parameters — the integers ORT computes, laid
 * out head-major, where a float TRANSPOSE was left.
 */
export function dequantizedHeadSplit(transpose: Node): boolean {
  const shape = headSplitShape(transpose);
  if (!shape) return false;
  const sliced = packedSlice(shape.sourceValue, shape.width);
  const dequantize = sliced?.projected.producer;
  if (!sliced || dequantize?.op !== 'onnx.DequantizeLinear') return false;
  // Per-tensor parameters (an activation's): the heads dequantize as the projection did.
  const codes = dequantize.input(0);
  if (!isInt8(codes) || constantOf(dequantize.inputs[1])?.size !== 1) return false;
  const at = Builder.before(transpose);
  const y = headMajorInt8(at, transpose, shape, { range: sliced.range, projected: codes }, codes.type);
  if (!y) return false;
  const reals = at.op1('onnx.DequantizeLinear', [y, ...dequantize.inputs.slice(1).filter((v): v is Value => !!v)], {}, { types: [realType(y)], name: `${transpose.name}_heads_dequantized`, loc: transpose.loc });
  return finishHeadSplit(at, reals, transpose, shape);
}

/**
 * The int8 heads `[.., H, L, hd]` of columns `range` of the int8 projection `projected` (its parameters `headType`'s
 * quant), made before the Transpose; undefined (nothing made) where `projected` is not such a projection.
 */
function headMajorInt8(at: Builder, transpose: Node, shape: HeadSplitShape, sliced: { range: { start: number; end: number }; projected: Value }, headType: Type): Value | undefined {
  const { prefix, source, length, heads, headSize, width } = shape;
  const { range, projected } = sliced;
  const quant = (headType as TensorType).quant;
  const projection = int8ProjectionOf(projected);
  if (!projection || projection.weight.shape[1] !== dimsOf(projected)?.at(-1)) return undefined;
  // Without a bias the MatMul's output is the value the heads read: its parameters must be theirs.
  if (!projection.bias && !sameQuant(quant, quantOf(projection.product))) return undefined;
  const inner = projection.weight.shape[0]!;
  const x = knownAfter(projection.x, prefix);
  if (!x || x.known.at(-1) !== inner || product(x.known.slice(0, -1)) !== length || (prefix === 1 && x.known.length !== 2)) return undefined;

  const loc = transpose.loc;
  const base = transpose.name;
  const batch = source.all.slice(0, prefix);
  const rows = prefix === 0 ? [length, inner] : [batchTarget(batch[0]), 1, length, inner];
  const rowDims = prefix === 0 ? rows : [batch[0]!, 1, length, inner];
  const headDims = [...batch, heads, length, headSize];
  let y: Value;
  // A Gemm's int32 bias is added to the accumulators, before the requantization: only CONV_2D's bias operand can.
  if (projection.accumulatorBias || perColumnScales(projection.weight, range.start, width)) {
    y = perHeadConvolutions(at, projection, { batch, length, inner, heads, headSize, start: range.start, base, loc });
  } else {
    let input = projection.x;
    if (x.all.length !== rows.length || x.all.some((d, i) => d !== rowDims[i])) {
      input = at.op1('onnx.Reshape', [input, at.constant(int64s(rows), `${base}_rows`)], {}, { types: [typeWithShape(input.type, rowDims)], name: `${base}_rows`, loc });
    }
    y = at.op1('onnx.MatMul', [input, at.constant(headMajorInt8Weights(projection.weight, range.start, heads, headSize), `${base}_head_weights`)], {}, { types: [typeWithShape(projection.product.type, headDims)], name: `${base}_heads`, loc });
  }
  if (projection.bias) {
    const codes = projection.bias.toNumbers().slice(range.start, range.start + width);
    const bias = Tensor.fromValues('int8', [heads, 1, headSize], codes).withQuant(projection.bias.quant);
    y = at.op1('onnx.Add', [y, at.constant(bias, `${base}_head_bias`)], {}, { types: [typeWithShape(headType, headDims)], name: `${base}_heads_bias`, loc });
  }
  return y;
}

/** Matches at an int8 Transpose: the head merge, as one CONV_2D. */
export function int8HeadMerge(transpose: Node): boolean {
  const prefix = MERGE_PERMS[permOf(transpose)?.join(',') ?? ''];
  if (prefix === undefined) return false;
  const attention = transpose.input(0);
  const dims = knownAfter(attention, prefix);
  if (!dims || dims.known.length !== 3 || !isInt8(attention)) return false;
  const [heads, length, headSize] = dims.known as [number, number, number];
  const width = heads * headSize;
  const reshape = soleUser(transpose.output(0));
  if (reshape?.op !== 'onnx.Reshape' || heads < 2) return false;
  const merged = knownAfter(reshape.output(0), prefix);
  if (!merged || merged.known.length !== 2 || merged.known[1] !== width || merged.known[0] !== length) return false;
  if (!sameQuant(quantOf(attention), quantOf(transpose.output(0))) || !sameQuant(quantOf(attention), quantOf(reshape.output(0)))) return false;
  const reader = soleUser(reshape.output(0));
  if (!reader || (reader.op !== 'onnx.MatMul' && !plainGemm(reader)) || reader.inputs[0] !== reshape.output(0) || !isInt8(reader.outputs[0])) return false;
  const weight = constantOf(reader.inputs[1]);
  const quant = weight?.quant;
  // torch's Linear on the merged rows (full-integer nn.MultiheadAttention / ViT out-projection): a Gemm, transB stores
  // Wo as [Eout, H·hd] (per channel along axis 0), its int32 bias goes to CONV_2D's bias operand.
  const transB = reader.op === 'onnx.Gemm' && (reader.optionalAttr('transB', 'int') ?? 0) === 1;
  const inAxis = transB ? 1 : 0;
  if (!weight || weight.dtype !== 'int8' || !quant || weight.rank !== 2 || weight.shape[inAxis] !== width || (quant.axis !== undefined && quant.axis !== 1 - inAxis) || quant.zeroPoint.some((z) => z !== 0)) return false;
  const outWidth = weight.shape[1 - inAxis]!;
  const accumulatorBias = reader.op === 'onnx.Gemm' && reader.inputs[2] ? constantOf(reader.inputs[2]) : undefined;
  if (reader.op === 'onnx.Gemm' && reader.inputs[2] && (!accumulatorBias || accumulatorBias.dtype !== 'int32' || !accumulatorBias.quant || accumulatorBias.size !== outWidth)) return false;
  const codes = weight.toNumbers();
  const filter = new Int8Array(outWidth * width);
  // filter[o, h, 0, d] = Wo[h·hd + d, o]: the rows of head h are its kernel row.
  if (transB) filter.set(codes);
  else for (let o = 0; o < outWidth; o++) for (let r = 0; r < width; r++) filter[o * width + r] = codes[r * outWidth + o]!;
  const filterQuant: QuantParams = quant.axis === undefined ? quant : { ...quant, axis: 0 };
  const output = reader.output(0);
  const outType = output.type as TensorType;
  const batch = dims.all.slice(0, prefix);
  const at = Builder.before(reader);
  const base = reader.name;
  let nhwc = attention;
  if (prefix === 0) nhwc = at.create('tflite.RESHAPE', [attention, at.constant(Tensor.fromValues('int32', [4], [1, heads, length, headSize]), `${base}_heads_nhwc_shape`)], {}, { types: [tensorType('int8', [1, heads, length, headSize], quantOf(attention))], name: `${base}_heads_nhwc` }).output(0);
  const conv = at.create(
    'tflite.CONV_2D',
    [
      nhwc,
      at.constant(Tensor.fromValues('int8', [outWidth, heads, 1, headSize], filter).withQuant(filterQuant), `${base}_heads_filter`),
      accumulatorBias ? at.constant(accumulatorBias.reshape([outWidth]), `${base}_heads_bias`) : null,
    ],
    { padding: attrs.string('VALID'), stride_w: attrs.int(1), stride_h: attrs.int(1), dilation_w_factor: attrs.int(1), dilation_h_factor: attrs.int(1), fused_activation_function: attrs.string('NONE') },
    { types: [tensorType('int8', [prefix === 0 ? 1 : batch[0]!, 1, length, outWidth], outType.quant)], name: `${base}_heads_as_conv` },
  );
  const shape = (outType.shape ?? []).map((d) => (typeof d === 'number' ? d : -1));
  if (shape.length === 0 || shape.filter((d) => d === -1).length > 1) {
    conv.erase();
    return false;
  }
  const y = at.create('tflite.RESHAPE', [conv.output(0), at.constant(Tensor.fromValues('int32', [shape.length], shape), `${base}_merged_shape`)], {}, { types: [outType], name: `${base}_merged` }).output(0);
  output.replaceAllUsesWith(y);
  reader.erase();
  reshape.erase();
  transpose.erase();
  return true;
}

/** A Gemm that is `A @ B (+ C)`: transA 0, alpha and beta 1. */
function plainGemm(node: Node): boolean {
  return node.op === 'onnx.Gemm' && (node.optionalAttr('transA', 'int') ?? 0) === 0 && (node.optionalAttr('alpha', 'float') ?? 1) === 1 && (node.optionalAttr('beta', 'float') ?? 1) === 1;
}

/**
 * An int8 head merge whose Reshape only a DequantizeLinear reads (the out-projection runs in float): the heads are
 * dequantized as they are and merged by one float CONV_2D of the same layout as `int8HeadMerge` (filter
 * `[Eout, H, 1, hd]`, the dequantized `Wo`): each filter channel holds a whole column of `Wo`, so the int8 weights
 * the model had are found again and stored behind a DEQUANTIZE (int8-float-weights.ts; per-head slices of `Wo` would not be).
 */
export function dequantizedHeadMerge(transpose: Node): boolean {
  const prefix = MERGE_PERMS[permOf(transpose)?.join(',') ?? ''];
  if (prefix === undefined) return false;
  const attention = transpose.input(0);
  const dims = knownAfter(attention, prefix);
  const reshape = soleUser(transpose.output(0));
  if (!isInt8(attention) || !dims || dims.known.length !== 3 || reshape?.op !== 'onnx.Reshape' || reshape.inputs[0] !== transpose.output(0)) return false;
  const [heads, length, headSize] = dims.known as [number, number, number];
  const width = heads * headSize;
  const merged = knownAfter(reshape.output(0), prefix);
  if (heads < 2 || !merged || merged.known.length !== 2 || merged.known[1] !== width || merged.known[0] !== length) return false;
  const dequantize = soleUser(reshape.output(0));
  if (dequantize?.op !== 'onnx.DequantizeLinear' || dequantize.inputs[0] !== reshape.output(0)) return false;
  if (!sameQuant(quantOf(attention), quantOf(transpose.output(0))) || !sameQuant(quantOf(attention), quantOf(reshape.output(0)))) return false;
  const reader = soleUser(dequantize.output(0));
  if (!reader || reader.inputs[0] !== dequantize.output(0) || (reader.op !== 'onnx.MatMul' && !plainGemm(reader))) return false;
  let weight = constantOf(reader.inputs[1]);
  // torch's Linear on the merged rows [L, E] (nn.MultiheadAttention's out_proj): a Gemm with transB and its bias, added after.
  if (weight && reader.op === 'onnx.Gemm' && (reader.optionalAttr('transB', 'int') ?? 0) === 1) weight = weight.rank === 2 ? transposeTensor(weight, [1, 0]) : undefined;
  const bias = reader.op === 'onnx.Gemm' ? (reader.inputs[2] ?? undefined) : undefined;
  const outType = reader.outputs[0]?.type as TensorType | undefined;
  if (!weight || weight.dtype !== 'float32' || weight.quant || weight.rank !== 2 || weight.shape[0] !== width || outType?.dtype !== 'float32') return false;
  if (bias && (tensorTypeOf(bias)?.dtype !== 'float32' || knownAfter(bias, 0)?.known.at(-1) !== weight.shape[1] || product(knownAfter(bias, 0)!.known) !== weight.shape[1])) return false;
  const shape = (outType.shape ?? []).map((d) => (typeof d === 'number' ? d : -1));
  if (shape.length === 0 || shape.filter((d) => d === -1).length > 1) return false;
  const outWidth = weight.shape[1]!;
  const values = weight.data() as Float32Array;
  const filter = new Float32Array(outWidth * width);
  for (let o = 0; o < outWidth; o++) for (let r = 0; r < width; r++) filter[o * width + r] = values[r * outWidth + o]!;
  const batch = dims.all.slice(0, prefix);
  const at = Builder.before(reader);
  const base = reader.name;
  const reals = at.op1('onnx.DequantizeLinear', [attention, ...dequantize.inputs.slice(1).filter((v): v is Value => !!v)], {}, { types: [realType(attention)], name: `${base}_heads_dequantized`, loc: transpose.loc });
  let nhwc = reals;
  if (prefix === 0) nhwc = at.create('tflite.RESHAPE', [reals, at.constant(Tensor.fromValues('int32', [4], [1, heads, length, headSize]), `${base}_heads_nhwc_shape`)], {}, { types: [tensorType('float32', [1, heads, length, headSize])], name: `${base}_heads_nhwc` }).output(0);
  const conv = at.create(
    'tflite.CONV_2D',
    // TFLite 2.9's float CONV_2D needs a bias operand: zeros (the model's bias Add follows).
    [nhwc, at.constant(Tensor.fromValues('float32', [outWidth, heads, 1, headSize], filter), `${base}_heads_filter`), at.constant(Tensor.fromValues('float32', [outWidth], new Float32Array(outWidth)), `${base}_heads_bias`)],
    { padding: attrs.string('VALID'), stride_w: attrs.int(1), stride_h: attrs.int(1), dilation_w_factor: attrs.int(1), dilation_h_factor: attrs.int(1), fused_activation_function: attrs.string('NONE') },
    { types: [tensorType('float32', [prefix === 0 ? 1 : batch[0]!, 1, length, outWidth])], name: `${base}_heads_as_conv` },
  );
  let y = at.create('tflite.RESHAPE', [conv.output(0), at.constant(Tensor.fromValues('int32', [shape.length], shape), `${base}_merged_shape`)], {}, { types: [outType], name: `${base}_merged` }).output(0);
  if (bias) y = at.op1('onnx.Add', [y, bias], {}, { types: [outType], name: `${base}_bias`, loc: reader.loc });
  reader.output(0).replaceAllUsesWith(y);
  reader.erase();
  dequantize.erase();
  reshape.erase();
  transpose.erase();
  return true;
}
