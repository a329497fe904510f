import type { Model, Node, Tensor, TensorType, Value } from '@modelpass/ir';
import { TABLE_SLOTS, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { builtinCode } from '../dialect/names.js';
import { tfliteError } from '../io/errors.js';
import { FOREIGN_METADATA_NAME, packForeignMetadata } from '../io/foreign-metadata.js';
import { META_DESCRIPTION, META_METADATA_PREFIX, META_SHAPE_BOUND, META_SIGNATURE_DEFS, META_TENSOR_NAME } from '../io/metadata-keys.js';
import type { SignatureDefJson } from '../io/signature-defs.js';
import { tensorTypeOfDtype } from '../io/tensor-types.js';
import { alignedByteVector, float32Vector, int64Vector, offsetVector } from './flat-vectors.js';
import { FlatBuilder } from './flat-builder.js';
import type { ModelPlan, SubgraphPlan, TensorPlan } from './model-plan.js';
import { exportOptions } from './options-export.js';
import { operatorWriting } from './operator-writing.js';

// The schema's tables are written straight on the builder: each field by its vtable slot (TABLE_SLOTS, generated from
// the schema) with its schema default, in the order flatc's generated `add*` functions take them, so the bytes are the
// ones those functions write. The generated classes are not imported: the Operator class imports the options unions and
// with them all 190 generated modules, which every process importing this package loaded (and Node's module loader
// resolved, read and linked one by one) for nothing — the reader decodes by TABLE_SLOTS too.
const BUFFER = TABLE_SLOTS.Buffer;
const METADATA = TABLE_SLOTS.Metadata;
const MODEL = TABLE_SLOTS.Model;
const OPERATOR = TABLE_SLOTS.Operator;
const OPERATOR_CODE = TABLE_SLOTS.OperatorCode;
const QUANTIZATION = TABLE_SLOTS.QuantizationParameters;
const SIGNATURE_DEF = TABLE_SLOTS.SignatureDef;
const SUBGRAPH = TABLE_SLOTS.SubGraph;
const TENSOR_MAP = TABLE_SLOTS.TensorMap;
/** A table's field count for `startObject` (the builder sizes nothing by it; the vtable ends at the last field set). */
const ANY_FIELDS = 0;
/** The file identifier of a TFLite flatbuffer (schema.fbs `file_identifier`). */
const FILE_IDENTIFIER = 'TFL3';

/** The schema version written (TFLITE_SCHEMA_VERSION). */
const SCHEMA_VERSION = 3;
/** Placeholder `Buffer.offset` in external mode, patched once the flatbuffer's size is known (any value > 1 is written). */
export const OFFSET_PLACEHOLDER = 2;

export interface BuiltFlatbuffer {
  /**
   * The flatbuffer's bytes. Inline mode leaves each constant's data out (the builder never holds the
   * weights): the file is these bytes with each constant's data inserted at its region's `split`.
   */
  readonly bytes: Uint8Array;
  /** Bytes of the whole flatbuffer, constants' data included. */
  readonly fileLength: number;
  /** External mode: the Buffer table offsets (from the end of the flatbuffer) by buffer index. */
  readonly bufferTables: number[];
  /** Inline mode: where each constant's data goes, in file order. */
  readonly constants: ConstantRegion[];
  /** Hands the builder's memory (which `bytes` lies in) to the next build; `bytes` must not be read after. */
  readonly release: () => void;
}

export interface ConstantRegion {
  /** Byte position of the data in the finished flatbuffer (16-byte aligned). */
  readonly start: number;
  /** Where the data goes in `BuiltFlatbuffer.bytes`: between `bytes[split - 1]` and `bytes[split]`. */
  readonly split: number;
  readonly tensor: Tensor;
}

/** The whole flatbuffer in memory: the built bytes with each constant's data in its region. */
export function fillConstants(built: BuiltFlatbuffer): Uint8Array {
  const file = new Uint8Array(built.fileLength);
  let from = 0;
  let at = 0;
  for (const { split, tensor } of built.constants) {
    file.set(built.bytes.subarray(from, split), at);
    at += split - from;
    from = split;
    for (const chunk of tensor.byteChunks()) {
      file.set(chunk, at);
      at += chunk.byteLength;
    }
  }
  file.set(built.bytes.subarray(from), at);
  return file;
}

/** Headroom per tensor/operator table (name, shape, vtable, quantization) besides the constant data. */
const BYTES_PER_TABLE = 256;
/** Never ask for more up front than a flatbuffer's tables could need (constants' data is not in the builder). */
const MAX_INITIAL_BUILDER_BYTES = 2 ** 30;
/** The least asked for up front: a small model's tables fit (a 1 MiB floor cost a small CNN's write a quarter of its time in zeroing). */
const MIN_INITIAL_BUILDER_BYTES = 64 * 1024;

function initialBuilderBytes(plan: ModelPlan): number {
  // Constants' data is never in the builder (inline mode leaves it out, external mode writes it after).
  const data = 16 * plan.buffers.length;
  const tables = plan.subgraphs.reduce((n, subgraph) => n + subgraph.tensors.length + subgraph.graph.nodeCount, plan.buffers.length);
  return Math.min(MAX_INITIAL_BUILDER_BYTES, Math.max(MIN_INITIAL_BUILDER_BYTES, data + BYTES_PER_TABLE * tables));
}

/**
 * Builds the flatbuffer of a planned model. Inline mode puts every constant in `Buffer.data`
 * (16-byte aligned); external mode writes `Buffer.offset/size` placeholders that the caller
 * patches, and the data goes after the flatbuffer.
 */
export function buildFlatbuffer(model: Model, plan: ModelPlan, external: boolean, path: string): BuiltFlatbuffer {
  // Sized up front: growing doubles and copies the whole buffer each time.
  const b = new FlatBuilder(initialBuilderBytes(plan));
  const bufferTables: number[] = [];
  const reserved: { offset: number; tensor: Tensor }[] = [];
  const bufferOffsets = plan.buffers.map((tensor, index) => {
    if (index === 0 || !tensor) {
      b.startObject(ANY_FIELDS);
      return b.endObject();
    }
    if (external) {
      b.startObject(ANY_FIELDS);
      b.addFieldInt64(BUFFER.offset, BigInt(OFFSET_PLACEHOLDER), 0n);
      b.addFieldInt64(BUFFER.size, BigInt(tensor.storage?.byteLength ?? 0), 0n);
      const table = b.endObject();
      bufferTables[index] = table;
      return table;
    }
    // A gap, not room: the builder never holds, zeroes or copies the weights (the writer streams them in).
    const data = b.reserveVector(tensor.storage?.byteLength ?? 0);
    reserved.push({ offset: data, tensor });
    return dataBuffer(b, data);
  });
  const metadata: number[] = [];
  const addMetadata = (entryName: string, bytes: Uint8Array): void => {
    const data = alignedByteVector(b, bytes);
    bufferOffsets.push(dataBuffer(b, data));
    const name = b.createString(entryName);
    b.startObject(ANY_FIELDS);
    b.addFieldOffset(METADATA.name, name, 0);
    b.addFieldInt32(METADATA.buffer, bufferOffsets.length - 1, 0);
    metadata.push(b.endObject());
  };
  // Other formats' metadata (ONNX metadata_props, TorchScript extra files) and doc strings in one buffer of its own.
  const foreign = packForeignMetadata(model.metadata, { model: model.docString, graph: model.graph.docString });
  for (const [key, value] of model.metadata) {
    if (!key.startsWith(META_METADATA_PREFIX)) continue;
    const entryName = key.slice(META_METADATA_PREFIX.length);
    if (foreign && entryName === FOREIGN_METADATA_NAME) continue;
    addMetadata(entryName, Buffer.from(value, 'base64'));
  }
  if (foreign) addMetadata(FOREIGN_METADATA_NAME, foreign);

  const subgraphs = plan.subgraphs.map((subgraph) => buildSubgraph(b, plan, subgraph));
  const operatorCodes = plan.operatorCodes.map((code) => {
    const custom = code.customCode !== undefined ? b.createString(code.customCode) : 0;
    const value = builtinCode(code.builtin)!;
    b.startObject(ANY_FIELDS);
    b.addFieldInt8(OPERATOR_CODE.deprecated_builtin_code, Math.min(value, 127), 0);
    if (custom) b.addFieldOffset(OPERATOR_CODE.custom_code, custom, 0);
    b.addFieldInt32(OPERATOR_CODE.version, code.version, 1);
    b.addFieldInt32(OPERATOR_CODE.builtin_code, value, 0);
    return b.endObject();
  });
  const signatures = buildSignatureDefs(b, model, plan, path);
  const description = b.createString(model.metadata.get(META_DESCRIPTION) ?? 'modelpass');
  const operatorCodesVector = offsetVector(b, operatorCodes);
  const subgraphsVector = offsetVector(b, subgraphs);
  const buffersVector = offsetVector(b, bufferOffsets);
  const metadataVector = metadata.length ? offsetVector(b, metadata) : 0;
  const signaturesVector = signatures.length ? offsetVector(b, signatures) : 0;
  b.startObject(ANY_FIELDS);
  b.addFieldInt32(MODEL.version, SCHEMA_VERSION, 0);
  b.addFieldOffset(MODEL.operator_codes, operatorCodesVector, 0);
  b.addFieldOffset(MODEL.subgraphs, subgraphsVector, 0);
  b.addFieldOffset(MODEL.description, description, 0);
  b.addFieldOffset(MODEL.buffers, buffersVector, 0);
  if (metadataVector) b.addFieldOffset(MODEL.metadata, metadataVector, 0);
  if (signaturesVector) b.addFieldOffset(MODEL.signature_defs, signaturesVector, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);
  const bytes = b.builtBytes();
  const fileLength = b.fileLength;
  // A vector's offset counts from the end of the file and points at its 4-byte length prefix; the gaps
  // were laid out in the order of `reserved`, each `physicalEnd` built bytes before the end.
  const constants = reserved
    .map(({ offset, tensor }, i) => ({ start: fileLength - offset + 4, split: bytes.byteLength - b.gaps[i]!.physicalEnd, tensor }))
    .sort((x, y) => x.start - y.start);
  return { bytes, fileLength, bufferTables, constants, release: () => b.release() };
}

/** A Buffer table holding the byte vector at `data`. */
function dataBuffer(b: FlatBuilder, data: number): number {
  b.startObject(ANY_FIELDS);
  b.addFieldOffset(BUFFER.data, data, 0);
  return b.endObject();
}

const NO_DIMS: readonly number[] = [];
/** A symbolic shape's dims as written (its bounds, then its signature), reused from tensor to tensor. */
const DIMS_SCRATCH: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/** A shape whose dims are all numbers (written as is, no shape_signature). */
function isStatic(dims: NonNullable<TensorType['shape']>): boolean {
  for (let i = 0; i < dims.length; i++) if (typeof dims[i] !== 'number') return false;
  return true;
}

// Tensor table slots (schema.fbs): shape 0, type 1 (default FLOAT32 = 0), buffer 2, name 3, quantization 4,
// is_variable 5, shape_signature 7, has_rank 8 of 11 fields. Added straight on the builder in the generated
// `Tensor.add*` order (the same table bytes), one call level less per field.
const TENSOR_FIELDS = 11;

function buildTensor(b: FlatBuilder, tensor: TensorPlan): number {
  const value = tensor.value;
  const type = tensor.type;
  const name = b.createString(value.metadataEntry(META_TENSOR_NAME) ?? value.name);
  const dims = value.constant?.shape ?? type.shape;
  let shapeVector: number;
  let signatureVector = 0;
  if (!dims) shapeVector = b.int32Vector(NO_DIMS);
  else if (isStatic(dims)) shapeVector = b.int32Vector(dims as readonly number[]);
  else {
    // A data-dependent dim is written as its bound (META_SHAPE_BOUND), any other symbolic dim as 1; the bound is
    // read only for such a shape (most tensors of a model with a dynamic batch come here: no arrays made per tensor).
    const bound = value.metadataEntry(META_SHAPE_BOUND);
    const largest = bound === undefined ? undefined : bound.split(',').map(Number);
    const rank = dims.length;
    if (DIMS_SCRATCH.length < rank) DIMS_SCRATCH.length = rank;
    for (let i = 0; i < rank; i++) {
      const dim = dims[i];
      DIMS_SCRATCH[i] = typeof dim === 'number' ? dim : largest?.length === rank ? largest[i]! : 1;
    }
    shapeVector = b.int32VectorOf(DIMS_SCRATCH, 0, rank);
    for (let i = 0; i < rank; i++) {
      const dim = dims[i];
      DIMS_SCRATCH[i] = typeof dim === 'number' ? dim : -1;
    }
    signatureVector = b.int32VectorOf(DIMS_SCRATCH, 0, rank);
  }
  let quantization = 0;
  const quant = type.quant;
  if (quant) {
    const scale = float32Vector(b, quant.scale);
    const zeroPoint = int64Vector(b, quant.zeroPoint);
    b.startObject(ANY_FIELDS);
    b.addFieldOffset(QUANTIZATION.scale, scale, 0);
    b.addFieldOffset(QUANTIZATION.zero_point, zeroPoint, 0);
    b.addFieldInt32(QUANTIZATION.quantized_dimension, quant.axis ?? 0, 0);
    quantization = b.endObject();
  }
  b.startObject(TENSOR_FIELDS);
  b.addFieldOffset(0, shapeVector, 0);
  b.addFieldInt8(1, tensorTypeOfDtype(type.dtype)!, 0);
  b.addFieldInt32(2, tensor.buffer, 0);
  b.addFieldOffset(3, name, 0);
  if (quantization) b.addFieldOffset(4, quantization, 0);
  if (tensor.variable) b.addFieldInt8(5, 1, 0);
  if (signatureVector) b.addFieldOffset(7, signatureVector, 0);
  b.addFieldInt8(8, 1, 0);
  return b.endObject();
}

/**
 * The Operator table of `node`, whose entry in `subgraph.operators` starts at `at` (opcode index, input
 * count and indices, output count and indices).
 */
function buildOperator(b: FlatBuilder, plan: ModelPlan, subgraph: SubgraphPlan, node: Node, at: number): number {
  const writing = operatorWriting(node.op);
  const operands = subgraph.operators;
  const opcode = operands[at]!;
  const inputCount = operands[at + 1]!;
  const inputs = b.int32VectorOf(operands, at + 2, inputCount);
  const outputs = b.int32VectorOf(operands, at + 3 + inputCount, operands[at + 2 + inputCount]!);
  const options = writing.options;
  const optionsOffset = options ? exportOptions(b, options, node, plan.subgraphIndexOf) : 0;
  let customOptions = 0;
  let customFormat = 0;
  if (writing.builtin === 'CUSTOM') {
    const bytes = node.getAttribute('custom_options');
    if (bytes?.kind === 'tensor') customOptions = b.createByteVector(bytes.value.bytes());
    const format = node.getAttribute('custom_options_format');
    customFormat = format?.kind === 'string' ? (TFLITE_ENUMS.CustomOptionsFormat![format.value] ?? 0) : 0;
  }
  b.startObject(ANY_FIELDS);
  b.addFieldInt32(OPERATOR.opcode_index, opcode, 0);
  b.addFieldOffset(OPERATOR.inputs, inputs, 0);
  b.addFieldOffset(OPERATOR.outputs, outputs, 0);
  if (options && optionsOffset) {
    // A union's type byte is the slot before its value (NONE = 0 is the default).
    const slot = options.union === 1 ? OPERATOR.builtin_options : OPERATOR.builtin_options_2;
    b.addFieldInt8(slot - 1, options.unionType, 0);
    b.addFieldOffset(slot, optionsOffset, 0);
  }
  if (customOptions) {
    b.addFieldOffset(OPERATOR.custom_options, customOptions, 0);
    b.addFieldInt8(OPERATOR.custom_options_format, customFormat, TFLITE_ENUMS.CustomOptionsFormat!.FLEXBUFFERS!);
  }
  return b.endObject();
}

function buildSubgraph(b: FlatBuilder, plan: ModelPlan, subgraph: SubgraphPlan): number {
  const tensorOffsets = new Array<number>(subgraph.tensors.length);
  for (let i = 0; i < tensorOffsets.length; i++) tensorOffsets[i] = buildTensor(b, subgraph.tensors[i]!);
  const tensors = b.offsetVector(tensorOffsets);
  const operatorOffsets: number[] = [];
  const operands = subgraph.operators;
  let at = 0;
  for (let node = subgraph.graph.firstNode; node; node = node.next) {
    operatorOffsets.push(buildOperator(b, plan, subgraph, node, at));
    const outputsAt = at + 2 + operands[at + 1]!;
    at = outputsAt + 1 + operands[outputsAt]!;
  }
  const operators = b.offsetVector(operatorOffsets);
  const inputs = b.int32Vector(subgraph.graph.inputs.map((value) => subgraph.indexOf.get(value)!));
  const outputs = b.int32Vector(subgraph.graph.outputs.map((value) => subgraph.indexOf.get(value)!));
  const name = b.createString(subgraph.graph.name);
  b.startObject(ANY_FIELDS);
  b.addFieldOffset(SUBGRAPH.tensors, tensors, 0);
  b.addFieldOffset(SUBGRAPH.inputs, inputs, 0);
  b.addFieldOffset(SUBGRAPH.outputs, outputs, 0);
  b.addFieldOffset(SUBGRAPH.operators, operators, 0);
  b.addFieldOffset(SUBGRAPH.name, name, 0);
  return b.endObject();
}

function buildSignatureDefs(b: FlatBuilder, model: Model, plan: ModelPlan, path: string): number[] {
  const text = model.metadata.get(META_SIGNATURE_DEFS);
  if (!text) return [];
  let signatures: SignatureDefJson[];
  try {
    signatures = JSON.parse(text) as SignatureDefJson[];
  } catch (cause) {
    throw tfliteError({ reason: `model metadata '${META_SIGNATURE_DEFS}' is not valid JSON`, location: { file: path }, cause });
  }
  return signatures.map((signature) => {
    const graph = signature.subgraph === 'main' ? model.graph : model.functions.find((fn) => fn.dialect === 'tflite' && fn.name === signature.subgraph)?.body;
    const subgraphIndex = graph ? plan.subgraphIndex.get(graph) : undefined;
    if (graph === undefined || subgraphIndex === undefined) {
      throw tfliteError({ reason: `signature '${signature.key}' names subgraph '${signature.subgraph}', which the model does not have`, location: { file: path } });
    }
    const subgraph = plan.subgraphs[subgraphIndex]!;
    const maps = (entries: SignatureDefJson['inputs']) =>
      entries.map((entry) => {
        const value = tensorNamed(subgraph, entry.tensor);
        if (!value) throw tfliteError({ reason: `signature '${signature.key}' maps '${entry.name}' to '${entry.tensor}', which subgraph '${graph.name}' no longer has`, location: { file: path }, hint: `update or remove model metadata '${META_SIGNATURE_DEFS}'` });
        const name = b.createString(entry.name);
        b.startObject(ANY_FIELDS);
        b.addFieldOffset(TENSOR_MAP.name, name, 0);
        b.addFieldInt32(TENSOR_MAP.tensor_index, subgraph.indexOf.get(value)!, 0);
        return b.endObject();
      });
    const inputs = offsetVector(b, maps(signature.inputs));
    const outputs = offsetVector(b, maps(signature.outputs));
    const key = b.createString(signature.key);
    b.startObject(ANY_FIELDS);
    b.addFieldOffset(SIGNATURE_DEF.inputs, inputs, 0);
    b.addFieldOffset(SIGNATURE_DEF.outputs, outputs, 0);
    b.addFieldOffset(SIGNATURE_DEF.signature_key, key, 0);
    b.addFieldInt32(SIGNATURE_DEF.subgraph_index, subgraphIndex, 0);
    return b.endObject();
  });
}

/** The first of the subgraph's tensors (in tensor order) whose value is named `name` (no copy of the tensor list per entry). */
function tensorNamed(subgraph: SubgraphPlan, name: string): Value | undefined {
  const tensors = subgraph.tensors;
  for (let i = 0; i < tensors.length; i++) if (tensors[i]!.value.name === name) return tensors[i]!.value;
  return undefined;
}
