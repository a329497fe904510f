import { Builder } from 'flatbuffers';
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
  Tensor as FbTensor,
  TensorMap as FbTensorMap,
} from '../generated/flatbuffers/tflite.js';
import { BUILTIN_OPTIONS_UNION, BUILTIN_OPTIONS2_UNION, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { builtinCode, builtinOfOp } from '../dialect/names.js';
import { optionsTableOfBuiltin } from '../dialect/option-attributes.js';
import { tfliteError } from '../io/errors.js';
import { META_DESCRIPTION, META_METADATA_PREFIX, META_SHAPE_BOUND, META_SIGNATURE_DEFS, META_TENSOR_NAME } from '../io/metadata-keys.js';
import type { SignatureDefJson } from '../io/signature-defs.js';
import { tensorTypeOfDtype } from '../io/tensor-types.js';
import { alignedByteVector, reservedByteVector } from './flat-vectors.js';
import type { ModelPlan, SubgraphPlan, TensorPlan } from './model-plan.js';
import { exportOptions } from './options-export.js';

/** The schema version written (TFLITE_SCHEMA_VERSION). */
const SCHEMA_VERSION = 3;
/** Placeholder `Buffer.offset` in external mode, patched once the flatbuffer's size is known (any value > 1 is written). */
export const OFFSET_PLACEHOLDER = 2;

export interface BuiltFlatbuffer {
  readonly bytes: Uint8Array;
  /** External mode: the Buffer table offsets (from the end of the flatbuffer) by buffer index. */
  readonly bufferTables: number[];
  /**
   * Inline mode: where each constant's data goes in `bytes` (left as zeros by the build), in file
   * order; `fillConstants` copies them in, `writeTflite` streams them into the file between the rest.
   */
  readonly constants: ConstantRegion[];
}

export interface ConstantRegion {
  /** Byte position of the data in the finished flatbuffer (16-byte aligned). */
  readonly start: number;
  readonly tensor: Tensor;
}

/** Copies each constant's bytes into its region (for callers that need the whole file in memory). */
export function fillConstants(built: BuiltFlatbuffer): Uint8Array {
  for (const { start, tensor } of built.constants) {
    let at = start;
    for (const chunk of tensor.byteChunks()) {
      built.bytes.set(chunk, at);
      at += chunk.byteLength;
    }
  }
  return built.bytes;
}

/** Headroom per tensor/operator table (name, shape, vtable, quantization) besides the constant data. */
const BYTES_PER_TABLE = 256;
/** The npm flatbuffers Builder cannot grow past 1 GiB; never ask for more up front. */
const MAX_INITIAL_BUILDER_BYTES = 2 ** 30;
/** The least asked for up front: a small model's tables fit (a 1 MiB floor cost a small CNN's write a quarter of its time in zeroing). */
const MIN_INITIAL_BUILDER_BYTES = 64 * 1024;

function initialBuilderBytes(plan: ModelPlan, external: boolean): number {
  const data = external ? 0 : plan.bufferBytes + 16 * plan.buffers.length;
  const tables = plan.subgraphs.reduce((n, subgraph) => n + subgraph.tensors.length + subgraph.graph.nodeList().length, plan.buffers.length);
  return Math.min(MAX_INITIAL_BUILDER_BYTES, Math.max(MIN_INITIAL_BUILDER_BYTES, data + BYTES_PER_TABLE * tables));
}

/**
 * Builds the flatbuffer of a planned model. Inline mode puts every constant in `Buffer.data`
 * (16-byte aligned); external mode writes `Buffer.offset/size` placeholders that the caller
 * patches, and the data goes after the flatbuffer.
 */
export function buildFlatbuffer(model: Model, plan: ModelPlan, external: boolean, path: string): BuiltFlatbuffer {
  // Sized up front: growing doubles and copies the whole buffer each time (a quarter of a big write's time).
  const b = new Builder(initialBuilderBytes(plan, external));
  const bufferTables: number[] = [];
  const reserved: { offset: number; tensor: Tensor }[] = [];
  const bufferOffsets = plan.buffers.map((tensor, index) => {
    if (index === 0 || !tensor) {
      FbBuffer.startBuffer(b);
      return FbBuffer.endBuffer(b);
    }
    if (external) {
      FbBuffer.startBuffer(b);
      FbBuffer.addOffset(b, BigInt(OFFSET_PLACEHOLDER));
      FbBuffer.addSize(b, BigInt(tensor.storage?.byteLength ?? 0));
      const table = FbBuffer.endBuffer(b);
      bufferTables[index] = table;
      return table;
    }
    // Room only: copying every weight into the builder cost as much as writing the file.
    const data = reservedByteVector(b, tensor.storage?.byteLength ?? 0);
    reserved.push({ offset: data, tensor });
    FbBuffer.startBuffer(b);
    FbBuffer.addData(b, data);
    return FbBuffer.endBuffer(b);
  });
  const metadata: number[] = [];
  for (const [key, value] of model.metadata) {
    if (!key.startsWith(META_METADATA_PREFIX)) continue;
    const data = alignedByteVector(b, Buffer.from(value, 'base64'));
    FbBuffer.startBuffer(b);
    FbBuffer.addData(b, data);
    bufferOffsets.push(FbBuffer.endBuffer(b));
    const name = b.createString(key.slice(META_METADATA_PREFIX.length));
    metadata.push(FbMetadata.createMetadata(b, name, bufferOffsets.length - 1));
  }

  const subgraphs = plan.subgraphs.map((subgraph) => buildSubgraph(b, plan, subgraph));
  const operatorCodes = plan.operatorCodes.map((code) => {
    const custom = code.customCode !== undefined ? b.createString(code.customCode) : 0;
    const value = builtinCode(code.builtin)!;
    FbOperatorCode.startOperatorCode(b);
    FbOperatorCode.addDeprecatedBuiltinCode(b, Math.min(value, 127));
    if (custom) FbOperatorCode.addCustomCode(b, custom);
    FbOperatorCode.addVersion(b, code.version);
    FbOperatorCode.addBuiltinCode(b, value);
    return FbOperatorCode.endOperatorCode(b);
  });
  const signatures = buildSignatureDefs(b, model, plan, path);
  const description = b.createString(model.metadata.get(META_DESCRIPTION) ?? 'modelpass');
  const operatorCodesVector = FbModel.createOperatorCodesVector(b, operatorCodes);
  const subgraphsVector = FbModel.createSubgraphsVector(b, subgraphs);
  const buffersVector = FbModel.createBuffersVector(b, bufferOffsets);
  const metadataVector = metadata.length ? FbModel.createMetadataVector(b, metadata) : 0;
  const signaturesVector = signatures.length ? FbModel.createSignatureDefsVector(b, signatures) : 0;
  FbModel.startModel(b);
  FbModel.addVersion(b, SCHEMA_VERSION);
  FbModel.addOperatorCodes(b, operatorCodesVector);
  FbModel.addSubgraphs(b, subgraphsVector);
  FbModel.addDescription(b, description);
  FbModel.addBuffers(b, buffersVector);
  if (metadataVector) FbModel.addMetadata(b, metadataVector);
  if (signaturesVector) FbModel.addSignatureDefs(b, signaturesVector);
  FbModel.finishModelBuffer(b, FbModel.endModel(b));
  const bytes = b.asUint8Array();
  // A vector's offset counts from the end of the buffer and points at its 4-byte length prefix.
  const constants = reserved.map(({ offset, tensor }) => ({ start: bytes.byteLength - offset + 4, tensor })).sort((x, y) => x.start - y.start);
  return { bytes, bufferTables, constants };
}

const STATIC_DIMS = { shape: [] as number[], signature: undefined };

function dimsOf(dims: TensorType['shape'], bound: string | undefined): { shape: readonly number[]; signature: number[] | undefined } {
  if (!dims) return STATIC_DIMS;
  let dynamic = false;
  for (const dim of dims) if (typeof dim !== 'number') dynamic = true;
  if (!dynamic) return { shape: dims as readonly number[], signature: undefined };
  // A data-dependent dim is written as its bound (META_SHAPE_BOUND), any other symbolic dim as 1.
  const largest = bound?.split(',').map(Number);
  const shape = dims.map((dim, i) => (typeof dim === 'number' ? dim : largest?.length === dims.length ? largest[i]! : 1));
  return { shape, signature: dynamic ? dims.map((dim) => (typeof dim === 'number' ? dim : -1)) : undefined };
}

function buildTensor(b: Builder, tensor: TensorPlan): number {
  const type = tensor.type;
  const name = b.createString(tensor.value.metadataEntry(META_TENSOR_NAME) ?? tensor.value.name);
  const { shape, signature } = dimsOf(tensor.value.constant?.shape ?? type.shape, tensor.value.metadataEntry(META_SHAPE_BOUND));
  const shapeVector = FbTensor.createShapeVector(b, shape as number[]);
  const signatureVector = signature ? FbTensor.createShapeSignatureVector(b, signature) : 0;
  let quantization = 0;
  const quant = type.quant;
  if (quant) {
    const scale = FbQuantization.createScaleVector(b, [...quant.scale]);
    const zeroPoint = FbQuantization.createZeroPointVector(b, quant.zeroPoint.map((z) => BigInt(z)));
    FbQuantization.startQuantizationParameters(b);
    FbQuantization.addScale(b, scale);
    FbQuantization.addZeroPoint(b, zeroPoint);
    FbQuantization.addQuantizedDimension(b, quant.axis ?? 0);
    quantization = FbQuantization.endQuantizationParameters(b);
  }
  FbTensor.startTensor(b);
  FbTensor.addShape(b, shapeVector);
  FbTensor.addType(b, tensorTypeOfDtype(type.dtype)!);
  FbTensor.addBuffer(b, tensor.buffer);
  FbTensor.addName(b, name);
  if (quantization) FbTensor.addQuantization(b, quantization);
  if (tensor.variable) FbTensor.addIsVariable(b, true);
  if (signatureVector) FbTensor.addShapeSignature(b, signatureVector);
  FbTensor.addHasRank(b, true);
  return FbTensor.endTensor(b);
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

function buildOperator(b: Builder, plan: ModelPlan, subgraph: SubgraphPlan, node: Node): number {
  const builtin = builtinOfOp(node.op)!;
  const inputs = FbOperator.createInputsVector(b, tensorIndices(subgraph, node.inputs));
  const outputs = FbOperator.createOutputsVector(b, tensorIndices(subgraph, node.outputs));
  const subgraphIndex = (attribute: string): number => plan.subgraphIndex.get(node.attr(attribute, 'graph'))!;
  const options = optionsTableOfBuiltin(builtin);
  const optionsOffset = options ? exportOptions(b, options.table, node, subgraphIndex) : 0;
  let customOptions = 0;
  let customFormat = 0;
  if (builtin === 'CUSTOM') {
    const bytes = node.getAttribute('custom_options');
    if (bytes?.kind === 'tensor') customOptions = FbOperator.createCustomOptionsVector(b, bytes.value.bytes());
    const format = node.getAttribute('custom_options_format');
    customFormat = format?.kind === 'string' ? (TFLITE_ENUMS.CustomOptionsFormat![format.value] ?? 0) : 0;
  }
  FbOperator.startOperator(b);
  FbOperator.addOpcodeIndex(b, plan.opcodeIndex.get(node)!);
  FbOperator.addInputs(b, inputs);
  FbOperator.addOutputs(b, outputs);
  if (options && optionsOffset) {
    if (options.union === 1) {
      FbOperator.addBuiltinOptionsType(b, BUILTIN_OPTIONS_UNION.indexOf(options.table) + 1);
      FbOperator.addBuiltinOptions(b, optionsOffset);
    } else {
      FbOperator.addBuiltinOptions2Type(b, BUILTIN_OPTIONS2_UNION.indexOf(options.table) + 1);
      FbOperator.addBuiltinOptions2(b, optionsOffset);
    }
  }
  if (customOptions) {
    FbOperator.addCustomOptions(b, customOptions);
    FbOperator.addCustomOptionsFormat(b, customFormat);
  }
  return FbOperator.endOperator(b);
}

function buildSubgraph(b: Builder, plan: ModelPlan, subgraph: SubgraphPlan): number {
  const tensors = FbSubGraph.createTensorsVector(b, subgraph.tensors.map((tensor) => buildTensor(b, tensor)));
  const operatorOffsets: number[] = [];
  for (let node = subgraph.graph.firstNode; node; node = node.next) operatorOffsets.push(buildOperator(b, plan, subgraph, node));
  const operators = FbSubGraph.createOperatorsVector(b, operatorOffsets);
  const inputs = FbSubGraph.createInputsVector(b, subgraph.graph.inputs.map((value) => subgraph.indexOf.get(value)!));
  const outputs = FbSubGraph.createOutputsVector(b, subgraph.graph.outputs.map((value) => subgraph.indexOf.get(value)!));
  const name = b.createString(subgraph.graph.name);
  FbSubGraph.startSubGraph(b);
  FbSubGraph.addTensors(b, tensors);
  FbSubGraph.addInputs(b, inputs);
  FbSubGraph.addOutputs(b, outputs);
  FbSubGraph.addOperators(b, operators);
  FbSubGraph.addName(b, name);
  return FbSubGraph.endSubGraph(b);
}

function buildSignatureDefs(b: Builder, model: Model, plan: ModelPlan, path: string): number[] {
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
        return FbTensorMap.createTensorMap(b, name, subgraph.indexOf.get(value)!);
      });
    const inputs = FbSignatureDef.createInputsVector(b, maps(signature.inputs));
    const outputs = FbSignatureDef.createOutputsVector(b, maps(signature.outputs));
    const key = b.createString(signature.key);
    FbSignatureDef.startSignatureDef(b);
    FbSignatureDef.addInputs(b, inputs);
    FbSignatureDef.addOutputs(b, outputs);
    FbSignatureDef.addSignatureKey(b, key);
    FbSignatureDef.addSubgraphIndex(b, subgraphIndex);
    return FbSignatureDef.endSignatureDef(b);
  });
}
