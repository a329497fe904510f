import { attrs, Builder, Tensor, type Dim, type Node, type Type, type Value } from '@modelpass/ir';
import { transposeTensor } from '@modelpass/transforms';
import { constantOf, numbersOf } from '../constant-values.js';
import { dimsOf, staticDims, tensorTypeOf, typeWithShape } from '../lowering-tools.js';
import { fileByteRange } from '../weight-ranges.js';
import { dequantizedHeadMerge, dequantizedHeadSplit, int8HeadMerge, int8HeadSplit } from '../quantized/attention-heads-int8.js';

/**
 * The head split and head merge of multi-head attention as torch exports it with one sequence in the
 * batch (`nn.MultiheadAttention`, `nn.TransformerEncoder/Decoder`), rewritten so that no Transpose is
 * left for TFLite:
 *
 * - **split**: `X @ W (+ b)` → optional Slice of its last axis (q/k/v of a packed projection) →
 *   Reshape `[L, H, hd]` → Transpose `[1,0,2]` (or `[1,2,0]`, the keys already transposed for q·kᵀ).
 *   The heads come out head-major straight from the projection: `X[L, Ein] @ W'[H, Ein, hd] (+ b'[H, 1, hd])`
 *   (a BATCH_MATMUL whose constant operand broadcasts over the heads). `[1,2,0]` leaves a swap of the
 *   last two axes, which the MatMul lowering takes as BATCH_MATMUL's adj_y.
 * - **merge**: `A[H, L, hd]` → Transpose `[1,0,2]` → Reshape `[L, H·hd]` → Gemm/MatMul by a constant
 *   `Wo` (+ bias): each head (a Split of A along the heads) times its hd rows of `Wo`, summed by Adds.
 *
 * The same with a leading batch dim (`[N, L, H, hd]` by `[0,2,1,3]`, keys `[0,2,3,1]`; N may be symbolic): the
 * input is read as `[N, 1, L, Ein]`, A is split along axis 1.
 *
 * Both need static dims (but N) and float32 constant weights. In torch's sequence-first spelling the
 * projection's leading dims must flatten to L (a batch of one). With a static batch B > 1 its Reshape is
 * `[L, B·H, hd]`, interleaving batch and heads: `interleavedHeadSplit`/`interleavedHeadMerge` below take that;
 * batch_first, torch's own swaps cancel; sequence first, x is swapped to batch-major once for q, k and v and the
 * result swapped back (two transposes where the heads had four).
 */

export function permOf(node: Node): number[] | undefined {
  const perm = node.getAttribute('perm');
  return perm?.kind === 'ints' ? perm.value.map(Number) : undefined;
}

/** The Transpose perms the attention rules look for (head split/merge, packed q/k/v), by key. */
const ATTENTION_PERMS: readonly { readonly key: string; readonly axes: readonly number[] }[] = ['1,0,2', '1,2,0', '0,2,1,3', '0,2,3,1', '2,0,3,1,4', '1,2,0,3'].map((key) => ({ key, axes: key.split(',').map(Number) }));

/**
 * A Transpose's perm as the key the attention rules' tables use (`'1,0,2'`, as `permOf(node).join(',')` spells it), when
 * it is one of `ATTENTION_PERMS`; else undefined. Compared number by number: every Transpose of a model is asked, and a
 * joined string per ask (hashed again by the table lookup) cost more than the rest of a failed match.
 */
export function attentionPermKey(node: Node): string | undefined {
  const perm = node.getAttribute('perm');
  if (perm?.kind !== 'ints') return undefined;
  const axes = perm.value;
  for (let k = 0; k < ATTENTION_PERMS.length; k++) {
    const known = ATTENTION_PERMS[k]!;
    if (known.axes.length !== axes.length) continue;
    let i = 0;
    while (i < axes.length && axes[i] === known.axes[i]) i++;
    if (i === axes.length) return known.key;
  }
  return undefined;
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function soleUser(value: Value): Node | undefined {
  return value.useCount === 1 && !value.isGraphOutput ? value.users[0] : undefined;
}

/** A Slice of the last axis with constant bounds and step 1: [start, end) along that axis of `size`. */
export function lastAxisSlice(slice: Node, rank: number, size: number): { start: number; end: number } | undefined {
  const starts = numbersOf(slice.inputs[1]);
  const ends = numbersOf(slice.inputs[2]);
  const axes = slice.inputs[3] ? numbersOf(slice.inputs[3]) : [...Array(rank).keys()];
  const steps = slice.inputs[4] ? numbersOf(slice.inputs[4]) : undefined;
  if (!starts || !ends || !axes || starts.length !== 1 || ends.length !== 1 || axes.length !== 1) return undefined;
  if (steps && (steps.length !== 1 || steps[0] !== 1)) return undefined;
  if ((axes[0]! + rank) % rank !== rank - 1) return undefined;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const start = clamp(starts[0]!);
  const end = clamp(ends[0]!);
  return end > start ? { start, end } : undefined;
}

/** The output `part` of a Split of the last axis (constant sizes, or equal parts): [start, end) along that axis of `size`. */
function lastAxisSplitPart(split: Node, part: Value, rank: number, size: number): { start: number; end: number } | undefined {
  const axis = split.optionalAttr('axis', 'int') ?? 0;
  if ((axis + rank) % rank !== rank - 1) return undefined;
  const index = split.outputs.indexOf(part);
  const count = split.outputs.length;
  const sizes = split.inputs[1] ? numbersOf(split.inputs[1]) : (split.optionalAttr('split', 'ints')?.map(Number) ?? (size % count === 0 ? new Array<number>(count).fill(size / count) : undefined));
  if (index < 0 || !sizes || sizes.length !== count || sizes.reduce((a, b) => a + b, 0) !== size) return undefined;
  const start = sizes.slice(0, index).reduce((a, b) => a + b, 0);
  return { start, end: start + sizes[index]! };
}

interface Projection {
  readonly x: Value;
  /** [Ein, N] */
  readonly weight: Tensor;
  /** [N], or undefined */
  readonly bias?: Tensor;
}

/**
 * `value` = `Reshape(Gemm(Reshape(x, [R, Ein]), W (+ b)), [..., N])` with the leading dims of x and of value equal (Hugging
 * Face GPT-2's Conv1D: `addmm` on the flattened rows): the projection of x itself.
 */
function flattenedGemmProjection(value: Value): Projection | undefined {
  const unflatten = value.producer;
  const gemm = unflatten?.op === 'onnx.Reshape' ? unflatten.inputs[0]?.producer : undefined;
  if (!gemm || soleUser(gemm.output(0)) !== unflatten) return undefined;
  const weights = plainGemmWeights(gemm);
  if (!weights) return undefined;
  const { weight, n, biasTensor } = weights;
  const flatten = gemm.inputs[0]?.producer;
  if (flatten?.op !== 'onnx.Reshape' || soleUser(flatten.output(0)) !== gemm) return undefined;
  const x = flatten.input(0);
  const xDims = staticDims(x);
  const outDims = staticDims(value);
  if (!xDims || !outDims || xDims.length !== outDims.length || xDims.at(-1) !== weight.shape[0] || outDims.at(-1) !== n) return undefined;
  if (xDims.slice(0, -1).some((d, i) => d !== outDims[i]) || tensorTypeOf(x)?.dtype !== 'float32') return undefined;
  return { x, weight, bias: biasTensor?.reshape([n]) };
}

/**
 * A Gemm `x @ W (+ b)` with no transA, alpha or beta: W a float32 constant `[Ein, N]` (transB's `[N, Ein]` transposed once)
 * and b a float32 constant of N values along its last axis.
 */
function plainGemmWeights(gemm: Node): { weight: Tensor; n: number; biasTensor: Tensor | undefined } | undefined {
  if (gemm.op !== 'onnx.Gemm' || (gemm.optionalAttr('transA', 'int') ?? 0) !== 0 || (gemm.optionalAttr('alpha', 'float') ?? 1) !== 1 || (gemm.optionalAttr('beta', 'float') ?? 1) !== 1) return undefined;
  let weight = constantOf(gemm.inputs[1]);
  if (!weight || weight.dtype !== 'float32' || weight.quant || weight.rank !== 2) return undefined;
  if ((gemm.optionalAttr('transB', 'int') ?? 0) === 1) weight = transposedOnce(weight);
  const n = weight.shape[1]!;
  const biasTensor = gemm.inputs[2] ? constantOf(gemm.inputs[2]) : undefined;
  if (gemm.inputs[2] && (!biasTensor || biasTensor.dtype !== 'float32' || biasTensor.size !== n || biasTensor.shape[biasTensor.rank - 1] !== n)) return undefined;
  return { weight, n, biasTensor };
}

/** A Gemm's transB weight `[N, Ein]` as `[Ein, N]`, transposed once per weight (q, k and v of a packed one share it, and its head blocks). */
const transposedWeights = new WeakMap<Tensor, Tensor>();

function transposedOnce(weight: Tensor): Tensor {
  let transposed = transposedWeights.get(weight);
  if (!transposed) transposedWeights.set(weight, (transposed = transposeTensor(weight, [1, 0])));
  return transposed;
}

/**
 * `value` = `Gemm(x[R, Ein], W (+ b))` on rows themselves (torch's Linear on a rank-2 input: transB, b `[N]`): the
 * projection of x.
 */
function gemmProjection(value: Value): Projection | undefined {
  const gemm = value.producer;
  const weights = gemm ? plainGemmWeights(gemm) : undefined;
  if (!gemm || !weights) return undefined;
  const { weight, n, biasTensor } = weights;
  const x = gemm.input(0);
  if (staticDims(x)?.length !== 2 || tensorTypeOf(x)?.dtype !== 'float32') return undefined;
  return { x, weight, bias: biasTensor?.reshape([n]) };
}

/** `value` = `x @ W (+ b)` with W a float32 constant [Ein, N] and b a constant broadcast along the last axis only. */
function projectionOf(value: Value): Projection | undefined {
  const flattened = flattenedGemmProjection(value) ?? gemmProjection(value);
  if (flattened) return flattened;
  let producer = value.producer;
  let bias: Tensor | undefined;
  if (producer?.op === 'onnx.Add') {
    const [a, b] = [producer.inputs[0], producer.inputs[1]];
    const constantSide = constantOf(a) ? a : constantOf(b) ? b : undefined;
    const other = constantSide === a ? b : a;
    const tensor = constantOf(constantSide);
    if (!tensor || !other || tensor.dtype !== 'float32') return undefined;
    const n = tensor.shape[tensor.rank - 1];
    if (n === undefined || tensor.size !== n) return undefined;
    bias = tensor.reshape([n]);
    producer = other.producer;
  }
  if (producer?.op !== 'onnx.MatMul') return undefined;
  const weight = constantOf(producer.inputs[1]);
  if (!weight || weight.dtype !== 'float32' || weight.quant || weight.rank !== 2) return undefined;
  if (bias && bias.size !== weight.shape[1]) return undefined;
  const x = producer.input(0);
  if (tensorTypeOf(x)?.dtype !== 'float32') return undefined;
  return { x, weight, bias };
}

/**
 * The stored bytes of a weight still in its file, read once for all the rewrites that take parts of it (a packed
 * in-projection's bias, q, k and v split at columns that are not whole heads): held weakly, so the bytes go with the
 * tensor. Whole heads are taken from `headBlocks`, made from one read.
 */
const readWeights = new WeakMap<Tensor, Uint8Array>();

/** `weight`'s stored (little-endian) bytes: in memory as they are, from the file once (see `readWeights`). */
function weightBytes(weight: Tensor): Uint8Array {
  if (weight.isLoaded) return weight.bytes();
  let bytes = readWeights.get(weight);
  if (!bytes) readWeights.set(weight, (bytes = weight.bytes()));
  return bytes;
}

/** Bytes in a float32 element. */
const FLOAT32_BYTES = 4;

/**
 * A float32 weight `[Ein, N]` as blocks of hd columns, block-major (`[N/hd, Ein, hd]`, as stored 32-bit words), made
 * once per weight and head size and held weakly: the q, k and v head splits of a packed in-projection are three runs
 * of H blocks of it, so the weight is read and rearranged once for the three, into one buffer.
 */
const headBlocks = new WeakMap<Tensor, { readonly headSize: number; readonly words: Uint32Array }>();

/**
 * `W[:, start : start + H·hd]` of a float32 `[Ein, N]` as `[H, Ein, hd]`: a view of the weight's head-major blocks
 * (`headBlocks`) when the columns split into whole heads, else rearranged on its own.
 */
function headMajorWeights(weight: Tensor, start: number, heads: number, headSize: number): Tensor {
  const [inner, columns] = weight.shape as [number, number];
  const shape = [heads, inner, headSize];
  const size = heads * inner * headSize;
  if (start % headSize !== 0 || columns % headSize !== 0) {
    const out = new Uint32Array(size);
    copyHeadMajor(wordsOf(weightBytes(weight)), out, { start, blocks: heads, headSize, inner, columns });
    return Tensor.fromBytes('float32', shape, new Uint8Array(out.buffer));
  }
  let blocks = headBlocks.get(weight);
  if (blocks?.headSize !== headSize) {
    const words = new Uint32Array(inner * columns);
    // The stored bytes are read for this copy only (not kept: the blocks are what the other parts take).
    copyHeadMajor(storedWordsForCopy(weight), words, { start: 0, blocks: columns / headSize, headSize, inner, columns });
    headBlocks.set(weight, (blocks = { headSize, words }));
  }
  const first = (start / headSize) * inner * headSize;
  return Tensor.fromBytes('float32', shape, new Uint8Array(blocks.words.buffer, first * FLOAT32_BYTES, size * FLOAT32_BYTES));
}

/** Reused memory for a weight's stored bytes that are only copied from (`storedWordsForCopy`): grown up to `COPY_SCRATCH_MAX_WORDS`. */
let copyScratch = new Uint32Array(0);
/** 1 MiB: a larger weight is read into memory of its own (the process does not keep that much for later conversions). */
const COPY_SCRATCH_MAX_WORDS = 1 << 18;

/**
 * `weight`'s stored float32 words for one copy made right away: in memory as they are; already read (`readWeights`); or
 * read from the file into `copyScratch` — a view valid until the next call, which saves allocating (and zeroing) a
 * buffer the size of the weight that would be garbage after the copy.
 */
function storedWordsForCopy(weight: Tensor): Uint32Array {
  const read = weight.isLoaded ? weight.bytes() : readWeights.get(weight);
  const storage = weight.storage;
  const count = (storage?.byteLength ?? 0) / FLOAT32_BYTES;
  if (read || !storage?.readChunk || !Number.isInteger(count) || count > COPY_SCRATCH_MAX_WORDS) return wordsOf(read ?? weight.bytes());
  if (copyScratch.length < count) copyScratch = new Uint32Array(count);
  storage.readChunk(new Uint8Array(copyScratch.buffer, 0, storage.byteLength), 0);
  return copyScratch.subarray(0, count);
}

/**
 * Stored float32 bytes as 32-bit words: a view when aligned, else a copy (a small initializer is a view into the
 * protobuf's buffer, at any offset; `new Uint8Array(bytes)` copies where a Buffer's `slice` would be a view again).
 */
function wordsOf(bytes: Uint8Array): Uint32Array {
  const aligned = bytes.byteOffset % FLOAT32_BYTES === 0 ? bytes : new Uint8Array(bytes);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / FLOAT32_BYTES);
}

/**
 * The copy of `headMajorWeights`, a function of its own: its loop is what gets hot (blocks·Ein runs of hd words a
 * call), so V8 compiles this small function and not `headMajorWeights` with the file read and tensor building it
 * would inline (`--trace-opt`). Word by word: a run of hd words is short (16 in fashion-transformer), and a `subarray`
 * + `set` per run cost more than the words it moved.
 */
function copyHeadMajor(
  source: Uint32Array,
  out: Uint32Array,
  /** In words: the first column, a block's run (hd) and a row of the source; `blocks` runs of hd columns from `start`. */
  layout: { readonly start: number; readonly blocks: number; readonly headSize: number; readonly inner: number; readonly columns: number },
): void {
  const { start, blocks, headSize, inner, columns } = layout;
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0, from = start + b * headSize; i < inner; i++, from += columns) {
      for (let d = 0; d < headSize; d++) out[o++] = source[from + d]!;
    }
  }
}

/** `b[start : start + H·hd]` as `[H, 1, hd]` (a copy of those bytes). */
function headMajorBias(bias: Tensor, start: number, heads: number, headSize: number): Tensor {
  return Tensor.fromBytes('float32', [heads, 1, headSize], weightBytes(bias).slice(start * FLOAT32_BYTES, (start + heads * headSize) * FLOAT32_BYTES));
}

/**
 * Rows `[h·hd, (h+1)·hd)` of a float32 `[H·hd, Eout]` weight: head h's part of an out-projection, `[hd, Eout]`. Of a
 * weight still in its file, that part of the file (`fileByteRange`: nothing read; the lowering transposes it for
 * FULLY_CONNECTED as it is written); else a view of its stored bytes, read once for all the heads (`weightBytes`; tensor
 * bytes are never written in place).
 */
function headRows(weight: Tensor, columns: number, h: number, headSize: number): Tensor {
  const rowBytes = headSize * columns * FLOAT32_BYTES;
  const shape = [headSize, columns];
  const inFile = weight.isLoaded ? undefined : fileByteRange(weight, h * rowBytes, rowBytes);
  if (inFile) return Tensor.fromStorage('float32', shape, inFile);
  return Tensor.fromBytes('float32', shape, weightBytes(weight).subarray(h * rowBytes, (h + 1) * rowBytes));
}

/** How the head merge is spelt: the heads, their rows of Wo, and the types and names of what it makes. */
interface HeadMergeParts {
  readonly heads: number;
  readonly headSize: number;
  readonly outWidth: number;
  readonly partType: Type;
  readonly productType: Type;
  readonly weight: Tensor;
  readonly base: string;
  readonly loc: Node['loc'];
  readonly opset: number;
}

/**
 * The heads of `source` (split along `axis`), each times its headSize rows of Wo (a FULLY_CONNECTED),
 * summed with ADDs. TFLite 2.9 runs these in XNNPACK, where one BATCH_MATMUL over the heads and a SUM
 * (not delegated) were 1.4× slower than the transposes they replace.
 */
function sumOfHeadProducts(at: Builder, source: Value, axis: number, parts: HeadMergeParts): Value {
  const { heads, headSize, outWidth, partType, productType, weight, base, loc, opset } = parts;
  const split = at.create('onnx.Split', [source], { axis: attrs.int(axis), ...(opset >= 18 ? { num_outputs: attrs.int(heads) } : {}) }, { types: new Array<Type>(heads).fill(partType), name: `${base}_heads`, loc });
  let sum: Value | undefined;
  for (let h = 0; h < heads; h++) {
    const headWeight = at.constant(headRows(weight, outWidth, h, headSize), `${base}_head${h}_weights`);
    const product = at.op1('onnx.MatMul', [split.output(h), headWeight], {}, { types: [productType], name: `${base}_head${h}`, loc });
    sum = sum ? at.op1('onnx.Add', [sum, product], {}, { types: [productType], name: `${base}_sum${h}`, loc }) : product;
  }
  return sum!;
}

export function int64s(values: readonly number[]): Tensor {
  return Tensor.fromValues('int64', [values.length], values);
}

/** Dims with at most the first `prefix` ones symbolic: the known dims after that prefix, or undefined. */
export function knownAfter(value: Value | null | undefined, prefix: number): { all: readonly Dim[]; known: number[] } | undefined {
  const all = dimsOf(value);
  if (!all || all.length < prefix) return undefined;
  const known = all.slice(prefix);
  return known.every((d) => typeof d === 'number') ? { all, known: known as number[] } : undefined;
}

/** The batch dim as a Reshape target: itself when static, 0 (copy the input's) when symbolic. */
export function batchTarget(dim: Dim | undefined): number {
  return typeof dim === 'number' ? dim : 0;
}

/**
 * The head split's layouts: `[L, H, hd]` transposed by `[1,0,2]` / `[1,2,0]` (torch's MultiheadAttention with one
 * sequence; the projection's leading dims flatten to L), or `[N, L, H, hd]` by `[0,2,1,3]` / `[0,2,3,1]` (a
 * hand-written attention, batch first; N may be symbolic, the projection's input is `[N, L, Ein]`).
 */
const SPLIT_PERMS: Record<string, { prefix: number; keys: boolean }> = {
  '1,0,2': { prefix: 0, keys: false },
  '1,2,0': { prefix: 0, keys: true },
  '0,2,1,3': { prefix: 1, keys: false },
  '0,2,3,1': { prefix: 1, keys: true },
};

/** What the head split's Reshape → Transpose says, before its projection is looked at (float and int8 share it). */
export interface HeadSplitShape {
  /** 0: `[L, H, hd]` (one sequence), 1: `[N, L, H, hd]` (a batch prefix). */
  readonly prefix: number;
  /** The keys' spelling (`[1,2,0]` / `[0,2,3,1]`): the result keeps a swap of its last two axes. */
  readonly keys: boolean;
  readonly reshape: Node;
  /** The Reshape's input, `[L, E]` or `[N, L, E]` (a projection, or a Slice/Split of a packed one). */
  readonly sourceValue: Value;
  readonly source: { all: readonly Dim[]; known: number[] };
  readonly length: number;
  readonly heads: number;
  readonly headSize: number;
  /** heads · headSize: the source's last dim. */
  readonly width: number;
}

/** The head split's shape at `transpose` (a sole-reader Reshape to `[.., L, H, hd]` before it), or undefined. */
export function headSplitShape(transpose: Node): HeadSplitShape | undefined {
  const layout = SPLIT_PERMS[attentionPermKey(transpose) ?? ''];
  if (!layout) return undefined;
  const { prefix, keys } = layout;
  const reshape = transpose.inputs[0]?.producer;
  if (reshape?.op !== 'onnx.Reshape' || soleUser(reshape.output(0)) !== transpose) return undefined;
  const split = knownAfter(reshape.output(0), prefix);
  const sourceValue = reshape.input(0);
  const source = knownAfter(sourceValue, prefix);
  if (!split || split.known.length !== 3 || !source || source.known.length < 2) return undefined;
  const [length, heads, headSize] = split.known as [number, number, number];
  const width = heads * headSize;
  if (source.known[source.known.length - 1] !== width || product(source.known.slice(0, -1)) !== length || heads < 2) return undefined;
  // With a batch prefix the source is [N, L, E]: the Reshape keeps the element count, so its N is the source's.
  if (prefix === 1 && source.known.length !== 2) return undefined;
  return { prefix, keys, reshape, sourceValue, source, length, heads, headSize, width };
}

/**
 * The head split's end, float and int8 alike: the keys' swap of the last two axes (BATCH_MATMUL reads it with adj_y)
 * on the head-major `y`, which then replaces the Transpose; the Transpose and its Reshape go.
 */
export function finishHeadSplit(at: Builder, y: Value, transpose: Node, shape: HeadSplitShape): true {
  let result = y;
  if (shape.keys) {
    const perm = shape.prefix === 0 ? [0, 2, 1] : [0, 1, 3, 2];
    result = at.op1('onnx.Transpose', [y], { perm: attrs.ints(perm) }, { types: [transpose.output(0).type], name: `${transpose.name}_keys_transposed`, loc: transpose.loc });
  }
  transpose.output(0).replaceAllUsesWith(result);
  transpose.erase();
  shape.reshape.erase();
  return true;
}

/**
 * The head split's optional Slice of the last axis (q, k or v of a packed in-projection): the columns `[start, end)` of
 * the projection it reads and that projection's output; without a Slice, all `width` columns of `source` itself;
 * undefined for a Slice that is not `width` columns of the last axis.
 */
export function packedSlice(source: Value, width: number): { range: { start: number; end: number }; projected: Value; slice?: Node } | undefined {
  const slice = source.producer;
  if (slice?.op !== 'onnx.Slice') return { range: { start: 0, end: width }, projected: source };
  const dims = dimsOf(slice.inputs[0]);
  const size = dims?.[dims.length - 1];
  if (!dims || typeof size !== 'number') return undefined;
  const found = lastAxisSlice(slice, dims.length, size);
  if (!found || found.end - found.start !== width) return undefined;
  return { range: found, projected: slice.input(0), slice };
}

/** Matches at a Transpose: the head split. Returns whether it rewrote. */
function headSplit(transpose: Node): boolean {
  const shape = headSplitShape(transpose);
  if (!shape) return false;
  const { prefix, reshape, sourceValue, source, length, heads, headSize, width } = shape;
  const sliced = packedSlice(sourceValue, width);
  if (!sliced) return false;
  let { range, projected } = sliced;
  const slice = sourceValue.producer;
  if (slice?.op === 'onnx.Split') {
    // q, k, v as outputs of one Split of the packed projection (Hugging Face GPT-2's `split(E, dim=2)`).
    const dims = dimsOf(slice.inputs[0]);
    const size = dims?.[dims.length - 1];
    if (!dims || typeof size !== 'number') return false;
    const found = lastAxisSplitPart(slice, sourceValue, dims.length, size);
    if (!found || found.end - found.start !== width) return false;
    range = found;
    projected = slice.input(0);
  }
  const projection = projectionOf(projected);
  const projectedWidth = dimsOf(projected)?.at(-1);
  if (!projection || projection.weight.shape[1] !== projectedWidth) return false;
  const inner = projection.weight.shape[0]!;
  const x = knownAfter(projection.x, prefix);
  if (!x || x.known[x.known.length - 1] !== inner || product(x.known.slice(0, -1)) !== length) return false;
  if (prefix === 1 && x.known.length !== 2) return false;

  const at = Builder.before(transpose);
  const loc = transpose.loc;
  const base = transpose.name;
  const type = transpose.output(0).type;
  const batch = source.all.slice(0, prefix);
  // W[:, start:end] as [Ein, H, hd] → [H, Ein, hd]; b[start:end] as [H, 1, hd].
  const weight = headMajorWeights(projection.weight, range.start, heads, headSize);
  // x as rows [L, Ein], or [N, 1, L, Ein] so that the weights broadcast over the batch and the heads over it.
  const rows = prefix === 0 ? [length, inner] : [batchTarget(batch[0]), 1, length, inner];
  const rowDims = prefix === 0 ? rows : [batch[0]!, 1, length, inner];
  let input = projection.x;
  if (x.all.length !== rows.length || x.all.some((d, i) => d !== rowDims[i])) {
    input = at.op1('onnx.Reshape', [input, at.constant(int64s(rows), `${base}_rows`)], {}, { types: [typeWithShape(input.type, rowDims)], name: `${base}_rows`, loc });
  }
  const headMajor = typeWithShape(type, [...batch, heads, length, headSize]);
  let y = at.op1('onnx.MatMul', [input, at.constant(weight, `${base}_head_weights`)], {}, { types: [headMajor], name: `${base}_heads`, loc });
  if (projection.bias) {
    const bias = headMajorBias(projection.bias, range.start, heads, headSize);
    y = at.op1('onnx.Add', [y, at.constant(bias, `${base}_head_bias`)], {}, { types: [headMajor], name: `${base}_heads_bias`, loc });
  }
  return finishHeadSplit(at, y, transpose, shape);
}

/** The head merge's layouts: `[H, L, hd]` by `[1,0,2]`, or `[N, H, L, hd]` by `[0,2,1,3]`. */
const MERGE_PERMS: Record<string, number> = { '1,0,2': 0, '0,2,1,3': 1 };

/** Matches at a Transpose: the head merge. Returns whether it rewrote. */
function headMerge(transpose: Node, opset: number): boolean {
  const prefix = MERGE_PERMS[attentionPermKey(transpose) ?? ''];
  if (prefix === undefined) return false;
  const attention = transpose.input(0);
  const dims = knownAfter(attention, prefix);
  if (!dims || dims.known.length !== 3 || tensorTypeOf(attention)?.dtype !== 'float32') return false;
  const [heads, length, headSize] = dims.known as [number, number, number];
  const width = heads * headSize;
  const reshape = soleUser(transpose.output(0));
  if (reshape?.op !== 'onnx.Reshape' || heads < 2) return false;
  const merged = knownAfter(reshape.output(0), prefix);
  if (!merged || merged.known.length < 1 || merged.known[merged.known.length - 1] !== width || product(merged.known.slice(0, -1)) !== length) return false;
  if (prefix === 1 && merged.known.length !== 2) return false;
  let reader = soleUser(reshape.output(0));
  // Hugging Face GPT-2's Conv1D: the merged [N, L, E] flattened to rows [N·L, E] for a Gemm (static N).
  let flatten: Node | undefined;
  if (reader?.op === 'onnx.Reshape' && prefix === 1 && reader.inputs[0] === reshape.output(0) && staticDims(reader.output(0))?.length === 2 && staticDims(reshape.output(0))) {
    flatten = reader;
    reader = soleUser(flatten.output(0));
    if (reader?.op !== 'onnx.Gemm') return false;
  }
  const readValue = (flatten ?? reshape).output(0);
  if (!reader || reader.inputs[0] !== readValue) return false;
  let weight = constantOf(reader.inputs[1]);
  if (!weight || weight.dtype !== 'float32' || weight.quant || weight.rank !== 2) return false;
  let bias: Value | null = null;
  if (reader.op === 'onnx.Gemm') {
    if ((reader.optionalAttr('transA', 'int') ?? 0) !== 0 || (reader.optionalAttr('alpha', 'float') ?? 1) !== 1 || (reader.optionalAttr('beta', 'float') ?? 1) !== 1) return false;
    if (merged.all.length !== 2 && !flatten) return false;
    if ((reader.optionalAttr('transB', 'int') ?? 0) === 1) weight = transposeTensor(weight, [1, 0]);
    bias = reader.inputs[2] ?? null;
  } else if (reader.op !== 'onnx.MatMul') {
    return false;
  }
  if (weight.shape[0] !== width) return false;
  const outWidth = weight.shape[1]!;
  const batch = dims.all.slice(0, prefix);
  // The Gemm's rows reshaped back to [N, L, Eout]: that Reshape's output is what the merge replaces.
  const back = flatten ? soleUser(reader.output(0)) : undefined;
  const unflattenBack = back?.op === 'onnx.Reshape' && staticDims(back.output(0))?.join() === [...batch, length, outWidth].join() ? back : undefined;
  const replaced = unflattenBack ?? reader;
  const outType = replaced.output(0).type;
  const outDims = dimsOf(replaced.output(0));
  if (!outDims) return false;
  const unflatten = outDims.length !== prefix + 2 ? staticDims(replaced.output(0)) : undefined;
  if (outDims.length !== prefix + 2 && !unflatten) return false;
  const at = Builder.before(reader);
  const loc = reader.loc;
  const base = reader.name;
  const partType = typeWithShape(outType, [...batch, 1, length, headSize]);
  const productType = typeWithShape(outType, [...batch, 1, length, outWidth]);
  const sum = sumOfHeadProducts(at, attention, prefix, { heads, headSize, outWidth, partType, productType, weight, base, loc, opset });
  const axis = at.constant(int64s([prefix]), `${base}_heads_axis`);
  const summedType = typeWithShape(outType, [...batch, length, outWidth]);
  let y =
    opset >= 13
      ? at.op1('onnx.Squeeze', [sum!, axis], {}, { types: [summedType], name: `${base}_merged`, loc })
      : at.op1('onnx.Squeeze', [sum!], { axes: attrs.ints([prefix]) }, { types: [summedType], name: `${base}_merged`, loc });
  if (unflatten) y = at.op1('onnx.Reshape', [y, at.constant(int64s(unflatten), `${base}_shape`)], {}, { types: [outType], name: `${base}_unflatten`, loc });
  if (bias) y = at.op1('onnx.Add', [y, bias], {}, { types: [outType], name: `${base}_bias`, loc });
  replaced.output(0).replaceAllUsesWith(y);
  unflattenBack?.erase();
  reader.erase();
  flatten?.erase();
  reshape.erase();
  transpose.erase();
  return true;
}

/**
 * Rewrites the attention head split/merge transposes at `transpose` (an `onnx.Transpose`) as described
 * above. Returns whether it rewrote; what it leaves without readers (the packed projection and its
 * Slices) is erased by the caller's sweep.
 */
/**
 * torch's sequence-first spelling with a batch B > 1: `[L, B, E]` → Reshape `[L, B·H, hd]` → Transpose `[1,0,2]`
 * (keys `[1,2,0]`), when the projection's input `[L, B, Ein]` is torch's batch_first swap of a `[B, L, Ein]` value:
 * that value is read as `[B, 1, L, Ein]` against `W'[H, Ein, hd]`, and `[B, H, L, hd]` is `[B·H, L, hd]` by a Reshape.
 */
function interleavedHeadSplit(transpose: Node): boolean {
  const perm = attentionPermKey(transpose);
  if (perm !== '1,0,2' && perm !== '1,2,0') return false;
  const reshape = transpose.inputs[0]?.producer;
  if (reshape?.op !== 'onnx.Reshape' || soleUser(reshape.output(0)) !== transpose) return false;
  const split = staticDims(reshape.output(0));
  const sourceValue = reshape.input(0);
  const source = staticDims(sourceValue);
  if (!split || split.length !== 3 || !source || source.length !== 3) return false;
  const [length, batch, width] = source as [number, number, number];
  const [, batchHeads, headSize] = split as [number, number, number];
  const heads = width / headSize;
  if (batch < 2 || split[0] !== length || !Number.isInteger(heads) || heads < 2 || batchHeads !== batch * heads) return false;
  let range = { start: 0, end: width };
  let projected = sourceValue;
  const slice = sourceValue.producer;
  if (slice?.op === 'onnx.Slice') {
    const sliced = staticDims(slice.inputs[0]);
    if (!sliced) return false;
    const found = lastAxisSlice(slice, sliced.length, sliced[sliced.length - 1]!);
    if (!found || found.end - found.start !== width) return false;
    range = found;
    projected = slice.input(0);
  }
  const projection = projectionOf(projected);
  if (!projection || projection.weight.shape[1] !== staticDims(projected)?.at(-1)) return false;
  const inner = projection.weight.shape[0]!;
  if (staticDims(projection.x)?.join() !== [length, batch, inner].join()) return false;
  // Where the input is torch's batch_first swap of a batch-major value, that value is read before the swap.
  // Sequence first, one swap of the input to batch-major serves q, k and v (shared: made once per input), so the
  // three head transposes become one, and the merge's one swap back (`interleavedHeadMerge`).
  const swap = projection.x.producer;
  const at = Builder.before(transpose);
  const batchFirst = swap?.op === 'onnx.Transpose' && attentionPermKey(swap) === '1,0,2';

  const loc = transpose.loc;
  const base = transpose.name;
  const type = transpose.output(0).type;
  const rowDims = [batch, 1, length, inner];
  const rows = batchFirst
    ? at.op1('onnx.Reshape', [swap.input(0), at.constant(int64s(rowDims), `${base}_rows`)], {}, { types: [typeWithShape(type, rowDims)], name: `${base}_rows`, loc })
    : sharedBatchMajorRows(projection.x, rowDims);
  const weight = headMajorWeights(projection.weight, range.start, heads, headSize);
  const perBatchType = typeWithShape(type, [batch, heads, length, headSize]);
  let y = at.op1('onnx.MatMul', [rows, at.constant(weight, `${base}_head_weights`)], {}, { types: [perBatchType], name: `${base}_heads`, loc });
  if (projection.bias) {
    const bias = headMajorBias(projection.bias, range.start, heads, headSize);
    y = at.op1('onnx.Add', [y, at.constant(bias, `${base}_head_bias`)], {}, { types: [perBatchType], name: `${base}_heads_bias`, loc });
  }
  const flatType = typeWithShape(type, [batch * heads, length, headSize]);
  y = at.op1('onnx.Reshape', [y, at.constant(int64s([batch * heads, length, headSize]), `${base}_batch_heads`)], {}, { types: [flatType], name: `${base}_batch_heads`, loc });
  if (perm === '1,2,0') y = at.op1('onnx.Transpose', [y], { perm: attrs.ints([0, 2, 1]) }, { types: [type], name: `${base}_keys_transposed`, loc });
  transpose.output(0).replaceAllUsesWith(y);
  transpose.erase();
  reshape.erase();
  return true;
}

/**
 * A sequence-first `x[L, B, E]` as batch-major rows `[B, 1, L, E]`: `Reshape(Transpose(x, [1,0,2]))`, made once per x
 * (right after x is defined) and shared by the q, k and v that read it, so one transpose serves all three.
 */
function sharedBatchMajorRows(x: Value, rowDims: readonly number[]): Value {
  for (const user of x.users) {
    if (user.op !== 'onnx.Transpose' || user.inputs[0] !== x || attentionPermKey(user) !== '1,0,2') continue;
    const rows = user.output(0).users.find((reader) => reader.op === 'onnx.Reshape' && staticDims(reader.output(0))?.join() === rowDims.join());
    if (rows) return rows.output(0);
  }
  const producer = x.producer;
  const at = producer ? Builder.after(producer) : Builder.before(x.graph.firstNode!);
  const [batch, , length, inner] = rowDims as [number, number, number, number];
  const swapped = at.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0, 2]) }, { types: [typeWithShape(x.type, [batch, length, inner])], name: `${x.name}_batch_major` });
  return at.op1('onnx.Reshape', [swapped, at.constant(int64s(rowDims), `${x.name}_batch_major_rows`)], {}, { types: [typeWithShape(x.type, rowDims)], name: `${x.name}_batch_major_rows` });
}

/**
 * The merge of the same spelling: `A[B·H, L, hd]` → Transpose `[1,0,2]` → Reshape `[L·B, E]` → Gemm by `Wo` →
 * Reshape `[L, B, Eout]` → Transpose `[1,0,2]` (torch's batch_first swap back). A is read as `[B, H, L, hd]`, split
 * by head, each head times its rows of Wo, summed: `[B, L, Eout]`, the batch-first result itself.
 */
function interleavedHeadMerge(transpose: Node, opset: number): boolean {
  if (attentionPermKey(transpose) !== '1,0,2') return false;
  const attention = transpose.input(0);
  const dims = staticDims(attention);
  const reshape = soleUser(transpose.output(0));
  if (!dims || dims.length !== 3 || reshape?.op !== 'onnx.Reshape') return false;
  const [batchHeads, length, headSize] = dims as [number, number, number];
  const merged = staticDims(reshape.output(0));
  if (!merged || merged.length !== 2) return false;
  const [rowCount, width] = merged as [number, number];
  const heads = width / headSize;
  const batch = batchHeads / heads;
  if (!Number.isInteger(heads) || heads < 2 || !Number.isInteger(batch) || batch < 2 || rowCount !== length * batch) return false;
  const reader = soleUser(reshape.output(0));
  if (reader?.op !== 'onnx.Gemm' || reader.inputs[0] !== reshape.output(0)) return false;
  if ((reader.optionalAttr('transA', 'int') ?? 0) !== 0 || (reader.optionalAttr('alpha', 'float') ?? 1) !== 1 || (reader.optionalAttr('beta', 'float') ?? 1) !== 1) return false;
  let weight = constantOf(reader.inputs[1]);
  if (!weight || weight.dtype !== 'float32' || weight.quant || weight.rank !== 2) return false;
  if ((reader.optionalAttr('transB', 'int') ?? 0) === 1) weight = transposeTensor(weight, [1, 0]);
  if (weight.shape[0] !== width) return false;
  const outWidth = weight.shape[1]!;
  // torch's Reshape [L, B, Eout] → Transpose [1,0,2] after the Gemm, replaced as a whole when present.
  const after = soleUser(reader.output(0));
  const unflatten = after?.op === 'onnx.Reshape' && staticDims(after.output(0))?.join() === [length, batch, outWidth].join() ? after : undefined;
  const swapBack = unflatten ? soleUser(unflatten.output(0)) : undefined;
  const batchFirst = swapBack?.op === 'onnx.Transpose' && attentionPermKey(swapBack) === '1,0,2' ? swapBack : undefined;
  // Sequence first: the result is swapped back to [L, B, Eout] (one transpose where the merge had one), replacing the
  // Reshape [L, B, Eout]; it pairs with the split's one input swap.
  if (!batchFirst && !unflatten) return false;

  const outType = reader.output(0).type;
  const at = Builder.before(reader);
  const loc = reader.loc;
  const base = reader.name;
  const grouped = at.op1('onnx.Reshape', [attention, at.constant(int64s([batch, heads, length, headSize]), `${base}_by_batch`)], {}, { types: [typeWithShape(outType, [batch, heads, length, headSize])], name: `${base}_by_batch`, loc });
  const partType = typeWithShape(outType, [batch, 1, length, headSize]);
  const productType = typeWithShape(outType, [batch, 1, length, outWidth]);
  const sum = sumOfHeadProducts(at, grouped, 1, { heads, headSize, outWidth, partType, productType, weight, base, loc, opset });
  const batchMajorType = typeWithShape(outType, [batch, length, outWidth]);
  let y = at.op1('onnx.Reshape', [sum!, at.constant(int64s([batch, length, outWidth]), `${base}_merged_shape`)], {}, { types: [batchMajorType], name: `${base}_merged`, loc });
  if (reader.inputs[2]) y = at.op1('onnx.Add', [y, reader.input(2)], {}, { types: [batchMajorType], name: `${base}_bias`, loc });
  if (batchFirst) {
    batchFirst.output(0).replaceAllUsesWith(y);
    batchFirst.erase();
  } else {
    const back = at.op1('onnx.Transpose', [y], { perm: attrs.ints([1, 0, 2]) }, { types: [unflatten!.output(0).type], name: `${base}_sequence_first`, loc });
    unflatten!.output(0).replaceAllUsesWith(back);
  }
  unflatten!.erase();
  reader.erase();
  reshape.erase();
  transpose.erase();
  return true;
}

export function attentionHeadsWithoutTranspose(transpose: Node, opset: number): boolean {
  // int8 (quantized models): the projection's integers head-major, the merge as one CONV_2D (attention-heads-int8.ts).
  if (tensorTypeOf(transpose.output(0))?.dtype === 'int8') return int8HeadSplit(transpose) || int8HeadMerge(transpose) || dequantizedHeadMerge(transpose);
  if (tensorTypeOf(transpose.output(0))?.dtype !== 'float32') return false;
  return headSplit(transpose) || headMerge(transpose, opset) || interleavedHeadSplit(transpose) || interleavedHeadMerge(transpose, opset) || dequantizedHeadSplit(transpose);
}
