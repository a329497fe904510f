import type { Model, Node, Tensor, TensorType } from '@modelpass/ir';
import {
  Buffer as FbBuffer,
  Metadata as FbMetadata,
  Model as FbModel,
  Operator as FbOperator,
  OperatorCode as FbOperatorCode,
  QuantizationParameters as FbQuantization,
  SignatureDef as FbSignatureDef,
  SubGraph as FbSubGraph,
  TensorMap as FbTensorMap,
} from '../generated/flatbuffers/tflite.js';
import { TFLITE_ENUMS } from '../generated/schema-tables.js';
import { builtinCode } from '../dialect/names.js';
import { tfliteError } from '../io/errors.js';
import { META_DESCRIPTION, META_METADATA_PREFIX, META_SHAPE_BOUND, META_SIGNATURE_DEFS, META_TENSOR_NAME } from '../io/metadata-keys.js';
import type { SignatureDefJson } from '../io/signature-defs.js';
import { tensorTypeOfDtype } from '../io/tensor-types.js';
import { alignedByteVector } from './flat-vectors.js';
import { FlatBuilder } from './flat-builder.js';
import type { ModelPlan, SubgraphPlan, TensorPlan } from './model-plan.js';
import { exportOptions } from './options-export.js';
import { operatorWriting } from './operator-writing.js';

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
  const tables = plan.subgraphs.reduce((n, subgraph) => n + subgraph.tensors.length + subgraph.graph.nodeList().length, plan.buffers.length);
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
  const fb = b.asBuilder();
  const bufferTables: number[] = [];
  const reserved: { offset: number; tensor: Tensor }[] = [];
  const bufferOffsets = plan.buffers.map((tensor, index) => {
    if (index === 0 || !tensor) {
      FbBuffer.startBuffer(fb);
      return FbBuffer.endBuffer(fb);
    }
    if (external) {
      FbBuffer.startBuffer(fb);
      FbBuffer.addOffset(fb, BigInt(OFFSET_PLACEHOLDER));
      FbBuffer.addSize(fb, BigInt(tensor.storage?.byteLength ?? 0));
      const table = FbBuffer.endBuffer(fb);
      bufferTables[index] = table;
      return table;
    }
    // A gap, not room: the builder never holds, zeroes or copies the weights (the writer streams them in).
    const data = b.reserveVector(tensor.storage?.byteLength ?? 0);
    reserved.push({ offset: data, tensor });
    FbBuffer.startBuffer(fb);
    FbBuffer.addData(fb, data);
    return FbBuffer.endBuffer(fb);
  });
  const metadata: number[] = [];
  for (const [key, value] of model.metadata) {
    if (!key.startsWith(META_METADATA_PREFIX)) continue;
    const data = alignedByteVector(b, Buffer.from(value, 'base64'));
    FbBuffer.startBuffer(fb);
    FbBuffer.addData(fb, data);
    bufferOffsets.push(FbBuffer.endBuffer(fb));
    const name = b.createString(key.slice(META_METADATA_PREFIX.length));
    metadata.push(FbMetadata.createMetadata(fb, name, bufferOffsets.length - 1));
  }

  const subgraphs = plan.subgraphs.map((subgraph) => buildSubgraph(b, plan, subgraph));
  const operatorCodes = plan.operatorCodes.map((code) => {
    const custom = code.customCode !== undefined ? b.createString(code.customCode) : 0;
    const value = builtinCode(code.builtin)!;
    FbOperatorCode.startOperatorCode(fb);
    FbOperatorCode.addDeprecatedBuiltinCode(fb, Math.min(value, 127));
    if (custom) FbOperatorCode.addCustomCode(fb, custom);
    FbOperatorCode.addVersion(fb, code.version);
    FbOperatorCode.addBuiltinCode(fb, value);
    return FbOperatorCode.endOperatorCode(fb);
  });
  const signatures = buildSignatureDefs(b, model, plan, path);
  const description = b.createString(model.metadata.get(META_DESCRIPTION) ?? 'modelpass');
  const operatorCodesVector = FbModel.createOperatorCodesVector(fb, operatorCodes);
  const subgraphsVector = FbModel.createSubgraphsVector(fb, subgraphs);
  const buffersVector = FbModel.createBuffersVector(fb, bufferOffsets);
  const metadataVector = metadata.length ? FbModel.createMetadataVector(fb, metadata) : 0;
  const signaturesVector = signatures.length ? FbModel.createSignatureDefsVector(fb, signatures) : 0;
  FbModel.startModel(fb);
  FbModel.addVersion(fb, SCHEMA_VERSION);
  FbModel.addOperatorCodes(fb, operatorCodesVector);
  FbModel.addSubgraphs(fb, subgraphsVector);
  FbModel.addDescription(fb, description);
  FbModel.addBuffers(fb, buffersVector);
  if (metadataVector) FbModel.addMetadata(fb, metadataVector);
  if (signaturesVector) FbModel.addSignatureDefs(fb, signaturesVector);
  FbModel.finishModelBuffer(fb, FbModel.endModel(fb));
  const bytes = b.builtBytes();
  const fileLength = b.fileLength;
  // A vector's offset counts from the end of the file and points at its 4-byte length prefix; the gaps
  // were laid out in the order of `reserved`, each `physicalEnd` built bytes before the end.
  const constants = reserved
    .map(({ offset, tensor }, i) => ({ start: fileLength - offset + 4, split: bytes.byteLength - b.gaps[i]!.physicalEnd, tensor }))
    .sort((x, y) => x.start - y.start);
  return { bytes, fileLength, bufferTables, constants };
}

const NO_DIMS: readonly number[] = [];

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
    // read only for such a shape.
    const largest = value.metadataEntry(META_SHAPE_BOUND)?.split(',').map(Number);
    shapeVector = b.int32Vector(dims.map((dim, i) => (typeof dim === 'number' ? dim : largest?.length === dims.length ? largest[i]! : 1)));
    signatureVector = b.int32Vector(dims.map((dim) => (typeof dim === 'number' ? dim : -1)));
  }
  let quantization = 0;
  const quant = type.quant;
  if (quant) {
    const fb = b.asBuilder();
    const scale = FbQuantization.createScaleVector(fb, [...quant.scale]);
    const zeroPoint = FbQuantization.createZeroPointVector(fb, quant.zeroPoint.map((z) => BigInt(z)));
    FbQuantization.startQuantizationParameters(fb);
    FbQuantization.addScale(fb, scale);
    FbQuantization.addZeroPoint(fb, zeroPoint);
    FbQuantization.addQuantizedDimension(fb, quant.axis ?? 0);
    quantization = FbQuantization.endQuantizationParameters(fb);
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

/** Each operand's tensor index in its subgraph, -1 for an absent optional one. */
function tensorIndices(subgraph: SubgraphPlan, values: Node['inputs']): number[] {
  const indices = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    indices[i] = value ? subgraph.indexOf.get(value)! : -1;
  }
  return indices;
}

function buildOperator(b: FlatBuilder, plan: ModelPlan, subgraph: SubgraphPlan, node: Node): number {
  const fb = b.asBuilder();
  const writing = operatorWriting(node.op);
  const inputs = b.int32Vector(tensorIndices(subgraph, node.inputs));
  const outputs = b.int32Vector(tensorIndices(subgraph, node.outputs));
  const options = writing.options;
  const optionsOffset = options ? exportOptions(b, options, node, plan.subgraphIndexOf) : 0;
  let customOptions = 0;
  let customFormat = 0;
  if (writing.builtin === 'CUSTOM') {
    const bytes = node.getAttribute('custom_options');
    if (bytes?.kind === 'tensor') customOptions = FbOperator.createCustomOptionsVector(fb, bytes.value.bytes());
    const format = node.getAttribute('custom_options_format');
    customFormat = format?.kind === 'string' ? (TFLITE_ENUMS.CustomOptionsFormat![format.value] ?? 0) : 0;
  }
  FbOperator.startOperator(fb);
  FbOperator.addOpcodeIndex(fb, plan.opcodeIndex.get(node)!);
  FbOperator.addInputs(fb, inputs);
  FbOperator.addOutputs(fb, outputs);
  if (options && optionsOffset) {
    if (options.union === 1) {
      FbOperator.addBuiltinOptionsType(fb, options.unionType);
      FbOperator.addBuiltinOptions(fb, optionsOffset);
    } else {
      FbOperator.addBuiltinOptions2Type(fb, options.unionType);
      FbOperator.addBuiltinOptions2(fb, optionsOffset);
    }
  }
  if (customOptions) {
    FbOperator.addCustomOptions(fb, customOptions);
    FbOperator.addCustomOptionsFormat(fb, customFormat);
  }
  return FbOperator.endOperator(fb);
}

function buildSubgraph(b: FlatBuilder, plan: ModelPlan, subgraph: SubgraphPlan): number {
  const fb = b.asBuilder();
  const tensors = FbSubGraph.createTensorsVector(fb, subgraph.tensors.map((tensor) => buildTensor(b, tensor)));
  const operatorOffsets: number[] = [];
  for (let node = subgraph.graph.firstNode; node; node = node.next) operatorOffsets.push(buildOperator(b, plan, subgraph, node));
  const operators = FbSubGraph.createOperatorsVector(fb, operatorOffsets);
  const inputs = FbSubGraph.createInputsVector(fb, subgraph.graph.inputs.map((value) => subgraph.indexOf.get(value)!));
  const outputs = FbSubGraph.createOutputsVector(fb, subgraph.graph.outputs.map((value) => subgraph.indexOf.get(value)!));
  const name = b.createString(subgraph.graph.name);
  FbSubGraph.startSubGraph(fb);
  FbSubGraph.addTensors(fb, tensors);
  FbSubGraph.addInputs(fb, inputs);
  FbSubGraph.addOutputs(fb, outputs);
  FbSubGraph.addOperators(fb, operators);
  FbSubGraph.addName(fb, name);
  return FbSubGraph.endSubGraph(fb);
}

function buildSignatureDefs(b: FlatBuilder, model: Model, plan: ModelPlan, path: string): number[] {
  const fb = b.asBuilder();
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
        const value = [...subgraph.indexOf.keys()].find((v) => v.name === entry.tensor);
        if (!value) throw tfliteError({ reason: `signature '${signature.key}' maps '${entry.name}' to '${entry.tensor}', which subgraph '${graph.name}' no longer has`, location: { file: path }, hint: `update or remove model metadata '${META_SIGNATURE_DEFS}'` });
        const name = b.createString(entry.name);
        return FbTensorMap.createTensorMap(fb, name, subgraph.indexOf.get(value)!);
      });
    const inputs = FbSignatureDef.createInputsVector(fb, maps(signature.inputs));
    const outputs = FbSignatureDef.createOutputsVector(fb, maps(signature.outputs));
    const key = b.createString(signature.key);
    FbSignatureDef.startSignatureDef(fb);
    FbSignatureDef.addInputs(fb, inputs);
    FbSignatureDef.addOutputs(fb, outputs);
    FbSignatureDef.addSignatureKey(fb, key);
    FbSignatureDef.addSubgraphIndex(fb, subgraphIndex);
    return FbSignatureDef.endSignatureDef(fb);
  });
}
