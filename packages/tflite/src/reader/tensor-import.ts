import { byteLengthOf, dtypeInfo, MemoryStorage, Tensor, tensorType, type Dim, type DType, type QuantParams, type TensorType } from '@modelpass/ir';
import { TABLE_SLOTS, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { tfliteError } from '../io/errors.js';
import { dtypeOfTensorType, tensorTypeName } from '../io/tensor-types.js';
import { densify, SparsityError, type DimensionLevel, type Sparsity } from './densify.js';
import type { ImportContext } from './import-context.js';
import { tfliteLimitExceeded } from './read-limits.js';
import type { TableReader } from './table-reader.js';
import { MAX_TENSOR_RANK } from '../io/tensor-rank.js';

const T = TABLE_SLOTS.Tensor;
const Q = TABLE_SLOTS.QuantizationParameters;
const B = TABLE_SLOTS.Buffer;
const S = TABLE_SLOTS.SparsityParameters;
const D = TABLE_SLOTS.DimensionMetadata;

/** Tensors at most this big are copied into memory at import; bigger ones stay in the file (lazy). */
const EAGER_BYTES = 64 * 1024;

/** A tensor of a subgraph as the file describes it. */
export interface TensorInfo {
  readonly index: number;
  readonly name: string;
  readonly dtype: DType;
  readonly type: TensorType;
  /** The shape with 1 for dynamic dims (TFLite's `shape`). */
  readonly staticShape: readonly number[];
  /** The first dim of TFLite's `shape` that is -1 (unknown), if any: a constant cannot have one. */
  readonly unknownStaticDim: number | undefined;
  readonly bufferIndex: number;
  readonly isVariable: boolean;
  readonly sparsity: Sparsity | undefined;
  readonly path: string;
}

function readQuant(table: TableReader | undefined, dtype: DType, shape: readonly number[], ctx: ImportContext): QuantParams | undefined {
  const rank = shape.length;
  // One scale per tensor or per channel: never more entries than the longest dim (read before the vector is).
  const maxScales = Math.max(1, ...shape);
  if (!table) return undefined;
  const category = dtypeInfo(dtype).category;
  if (category !== 'signed' && category !== 'unsigned') return undefined;
  const details = table.union(Q.details, 'details');
  if (details.type !== 0) {
    throw tfliteError({ reason: `${table.path}: custom quantization details are not supported yet`, location: { file: ctx.file }, code: 'tflite/unsupported' });
  }
  const scale = table.numbers(Q.scale, 'float32', 'scale', maxScales);
  if (scale.length === 0) return undefined;
  const badScale = scale.findIndex((s) => !Number.isFinite(s) || s <= 0);
  if (badScale >= 0) {
    ctx.bytes.fail(`${table.path}.scale[${badScale}]`, `quantization scale ${scale[badScale]} is not a positive finite number`, String(scale[badScale]));
  }
  // TFLite 2.9 refuses scales without zero points at interpreter creation ('QuantizationParam has 0 zero_point values
  // and N scale values', 'non-null scale but null zero_point').
  const zeroPoint = table.numbers(Q.zero_point, 'int64', 'zero_point', maxScales);
  if (zeroPoint.length !== scale.length) ctx.bytes.fail(`${table.path}.zero_point`, `has ${zeroPoint.length} entries but scale has ${scale.length}`);
  const dimension = table.scalar(Q.quantized_dimension, 'int32', 0, 'quantized_dimension');
  const perChannel = scale.length > 1;
  if (perChannel && (dimension < 0 || dimension >= rank)) ctx.bytes.fail(`${table.path}.quantized_dimension`, `${dimension} is not a dimension of a rank-${rank} tensor`);
  return { scale, zeroPoint, bits: dtypeInfo(dtype).bits, ...(perChannel ? { axis: dimension } : {}) };
}

function readSparseIndexVector(level: TableReader, slot: number, name: string): number[] {
  const union = level.union(slot, name);
  if (!union.table) return [];
  const kind = ([undefined, 'int32', 'uint16', 'uint8'] as const)[union.type];
  if (!kind) level.bytes.fail(`${level.path}.${name}`, `unknown SparseIndexVector type ${union.type}`);
  return union.table.numbers(TABLE_SLOTS.Int32Vector.values, kind, 'values');
}

function readSparsity(table: TableReader | undefined): Sparsity | undefined {
  if (!table) return undefined;
  const formats = TFLITE_ENUMS.DimensionType!;
  const levels: DimensionLevel[] = table.tables(S.dim_metadata, 'dim_metadata').map((level) => ({
    format: level.scalar(D.format, 'int8', 0, 'format') === formats.SPARSE_CSR ? 'SPARSE_CSR' : 'DENSE',
    denseSize: level.scalar(D.dense_size, 'int32', 0, 'dense_size'),
    segments: readSparseIndexVector(level, D.array_segments, 'array_segments'),
    indices: readSparseIndexVector(level, D.array_indices, 'array_indices'),
  }));
  return { traversalOrder: table.numbers(S.traversal_order, 'int32', 'traversal_order'), blockMap: table.numbers(S.block_map, 'int32', 'block_map'), levels };
}

export function readTensorInfo(ctx: ImportContext, table: TableReader, index: number): TensorInfo {
  const code = table.scalar(T.type, 'int8', 0, 'type');
  const dtype = dtypeOfTensorType(code);
  const name = table.string(T.name, 'name') ?? `tensor_${index}`;
  if (!dtype) {
    throw tfliteError({
      reason: `tensor '${name}' (${table.path}) has type ${tensorTypeName(code) ?? code}, which modelpass cannot represent`,
      location: { file: ctx.file },
      expected: 'a numeric, bool or string tensor type',
      actual: tensorTypeName(code) ?? `code ${code}`,
      code: 'tflite/unsupported',
    });
  }
  if (table.scalar(T.external_buffer, 'uint32', 0, 'external_buffer') !== 0) {
    throw tfliteError({ reason: `tensor '${name}' (${table.path}) keeps its data in an external buffer file, which is not supported yet`, location: { file: ctx.file }, code: 'tflite/unsupported' });
  }
  const staticShape = table.numbers(T.shape, 'int32', 'shape', MAX_TENSOR_RANK);
  staticShape.forEach((dim, i) => {
    if (dim < -1) ctx.bytes.fail(`${table.path}.shape[${i}]`, `dimension ${dim} is negative`);
  });
  const signature = table.numbers(T.shape_signature, 'int32', 'shape_signature', MAX_TENSOR_RANK);
  const shape: Dim[] = staticShape.map((dim, i) => (signature.length === staticShape.length && signature[i] === -1) || dim === -1 ? null : dim);
  const quant = readQuant(table.table(T.quantization, 'quantization'), dtype, staticShape, ctx);
  return {
    index,
    name,
    dtype,
    type: tensorType(dtype, shape, quant),
    staticShape: staticShape.map((dim) => (dim < 0 ? 1 : dim)),
    unknownStaticDim: staticShape.includes(-1) ? staticShape.indexOf(-1) : undefined,
    bufferIndex: table.scalar(T.buffer, 'uint32', 0, 'buffer'),
    isVariable: table.scalar(T.is_variable, 'bool', 0, 'is_variable') !== 0,
    sparsity: readSparsity(table.table(T.sparsity, 'sparsity')),
    path: table.path,
  };
}

/** Where a buffer's bytes are in the file: inside the flatbuffer (`data`) or after it (`offset`/`size`). */
export function bufferRange(ctx: ImportContext, index: number, path: string): { offset: number; length: number } | undefined {
  if (index === 0) return undefined;
  const buffer = ctx.buffers[index];
  if (!buffer) ctx.bytes.fail(path, `buffer index ${index} is past the ${ctx.buffers.length} buffers of the model`);
  const offset = buffer.scalar(B.offset, 'uint64', 0, 'offset');
  if (offset > 1) {
    const size = buffer.scalar(B.size, 'uint64', 0, 'size');
    if (offset + size > ctx.source.size) {
      throw tfliteError({
        reason: `malformed TFLite file: ${buffer.path} says its data is at bytes [${offset}, ${offset + size}), past the end of the file`,
        location: { file: ctx.file },
        expected: `a file of at least ${offset + size} bytes`,
        actual: `${ctx.source.size} bytes`,
        code: 'tflite/malformed',
      });
    }
    return size === 0 ? undefined : { offset, length: size };
  }
  const data = buffer.dataVector(B.data, 'data');
  return data && data.length > 0 ? { offset: data.start, length: data.length } : undefined;
}

/** The bytes of a buffer range (from the flatbuffer when inside it, else from the file). */
export function readRange(ctx: ImportContext, range: { offset: number; length: number }): Uint8Array {
  if (range.offset + range.length <= ctx.bytes.length) return ctx.bytes.bytes.slice(range.offset, range.offset + range.length);
  const out = new Uint8Array(range.length);
  ctx.source.readInto(out, range.offset);
  return out;
}

/** The constant data of a tensor, when its buffer holds some (sparse tensors densified). */
export function constantOf(ctx: ImportContext, info: TensorInfo): Tensor | undefined {
  const range = bufferRange(ctx, info.bufferIndex, `${info.path}.buffer`);
  if (!range) return undefined;
  if (info.dtype === 'string') {
    throw tfliteError({ reason: `tensor '${info.name}': string constants are not supported yet`, location: { file: ctx.file }, code: 'tflite/unsupported' });
  }
  if (info.unknownStaticDim !== undefined) {
    // The data's length would decide the dim: a file that means [N,4] says N, TFLite itself allocates the shape as given.
    ctx.bytes.fail(`${info.path}.shape[${info.unknownStaticDim}]`, `constant tensor '${info.name}' has an unknown (-1) dimension; a tensor with data needs every dim`);
  }
  const count = info.staticShape.reduce((a, b) => a * b, 1);
  const expected = byteLengthOf(info.dtype, count);
  if (expected > ctx.limits.maxTensorBytes) throw tfliteLimitExceeded('maxTensorBytes', `tensor '${info.name}' (${expected} bytes)`, expected, ctx.limits.maxTensorBytes, ctx.file);
  const quant = info.type.quant;
  if (info.sparsity) {
    const elementBytes = dtypeInfo(info.dtype).bits / 8;
    if (!Number.isInteger(elementBytes)) throw tfliteError({ reason: `tensor '${info.name}': sparse ${info.dtype} tensors are not supported yet`, location: { file: ctx.file } });
    try {
      const dense = densify(readRange(ctx, range), elementBytes, info.staticShape, info.sparsity);
      ctx.densified.set(info.path, { storedBytes: range.length, denseBytes: dense.byteLength });
      return Tensor.fromBytes(info.dtype, info.staticShape, dense, quant);
    } catch (error) {
      if (!(error instanceof SparsityError)) throw error;
      throw tfliteError({ reason: `malformed TFLite file: sparse tensor '${info.name}' (${info.path}): ${error.message}`, location: { file: ctx.file }, code: 'tflite/malformed' });
    }
  }
  if (range.length !== expected) {
    throw tfliteError({
      reason: `malformed TFLite file: tensor '${info.name}' (${info.path}) has ${range.length} bytes of data, but ${info.dtype}[${info.staticShape.join(',')}] needs ${expected}`,
      location: { file: ctx.file },
      expected: `${expected} bytes`,
      actual: `${range.length} bytes`,
      code: 'tflite/malformed',
    });
  }
  const storage = range.length <= EAGER_BYTES ? new MemoryStorage(readRange(ctx, range)) : ctx.source.range(range.offset, range.length);
  return Tensor.fromStorage(info.dtype, info.staticShape, storage, quant);
}
