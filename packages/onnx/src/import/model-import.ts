import { dirname, resolve } from 'node:path';
import { Graph, Model, type Attribute, type Location, type ModelFunction } from '@modelpass/ir';
import { dialectOfDomain } from '../dialect.js';
import { onnxError, withOnnxErrors } from '../errors.js';
import { toSafeNumber } from '../int64.js';
import { onnx, type OnnxTypes } from '../proto.js';
import { importAttribute } from './attribute-import.js';
import { GraphImporter, type GraphImportOptions } from './graph-import.js';
import { scanModel } from './lazy-scan.js';
import { SourceFile, SourceFiles } from './source-file.js';
import { PositionedReader } from './wire-reader.js';
import { sniffForeignFormat } from './sniff.js';

export interface DecodeOnnxOptions {
  /** The file the bytes came from (diagnostics; its folder is the default `baseDir`). */
  readonly file?: string;
  /** Folder that external data paths are relative to. */
  readonly baseDir?: string;
}

export interface ReadOnnxOptions extends Omit<DecodeOnnxOptions, 'file'> {
  /**
   * Smallest initializer raw_data (bytes) left in the file as a lazy range (default 1024); smaller
   * ones are read into memory.
   */
  readonly lazyThreshold?: number;
}

/** Throws when the first bytes show a known non-ONNX format. */
function rejectForeignFormat(head: Uint8Array, location: Location | undefined): void {
  const foreign = sniffForeignFormat(head);
  if (foreign) {
    throw onnxError({ reason: `not an ONNX model: the data looks like ${foreign}`, location, expected: 'a serialized ONNX ModelProto' });
  }
}

/** Runs the protobuf decoding `decode`, its failures turned into located errors. */
function decodeOrReject<T>(decode: () => T, location: Location | undefined): T {
  try {
    return decode();
  } catch (cause) {
    throw onnxError({
      reason: `not a valid ONNX model: the protobuf data is truncated or corrupt (${cause instanceof Error ? cause.message : String(cause)})`,
      location,
      cause,
    });
  }
}

function requireGraph(proto: OnnxTypes.ModelProto, location: Location | undefined): void {
  if (!proto.graph) {
    throw onnxError({ reason: 'not an ONNX model: the file has no graph', location, expected: 'a ModelProto with a graph (field 7)' });
  }
}

/** Decodes the ModelProto envelope, turning protobuf failures into located errors. */
export function decodeModelProto(bytes: Uint8Array, file: string | undefined): OnnxTypes.ModelProto {
  const location = file !== undefined ? { file } : undefined;
  rejectForeignFormat(bytes, location);
  const proto = decodeOrReject(() => onnx.ModelProto.decode(bytes), location);
  requireGraph(proto, location);
  return proto;
}

/** Decodes ONNX model bytes into an IR model. Initializer bytes are views of `bytes`, not copies. */
export function decodeOnnx(bytes: Uint8Array, options: DecodeOnnxOptions = {}): Model {
  const file = options.file;
  const baseDir = options.baseDir ?? (file !== undefined ? dirname(resolve(file)) : undefined);
  const proto = decodeModelProto(bytes, file);
  const sources = new SourceFiles();
  try {
    const model = withMalformedModelErrors(file, () => modelFromProto(proto, { file, baseDir, sources }));
    sources.finish();
    return model;
  } catch (error) {
    sources.closeAll();
    throw error;
  }
}

/** Default smallest initializer raw_data (bytes) that `readOnnx` leaves in the file. */
export const DEFAULT_LAZY_THRESHOLD = 1024;

/**
 * Reads an .onnx file without loading its weights: the file is scanned in the protobuf wire format
 * (positioned reads through a small window), the small parts are decoded by protobufjs, and every
 * initializer raw_data of at least `lazyThreshold` bytes stays in the file as a lazy byte range, as
 * external data does. The model is the one `decodeOnnx` gives on the file's bytes.
 */
export function readOnnx(path: string, options: ReadOnnxOptions = {}): Model {
  const file = path;
  const where = { file };
  let source: SourceFile;
  try {
    source = new SourceFile(path, true);
  } catch (cause) {
    throw onnxError({
      reason: `cannot read ONNX file: ${cause instanceof Error ? cause.message : String(cause)}`,
      location: where,
      cause,
    });
  }
  const sources = new SourceFiles();
  sources.add(source);
  try {
    const reader = new PositionedReader(source.descriptor!, source.size);
    const head = new Uint8Array(Math.min(16, source.size));
    if (head.byteLength > 0) reader.copyInto(head, 0);
    rejectForeignFormat(head, where);
    const scanned = decodeOrReject(() => scanModel(reader, Math.max(1, options.lazyThreshold ?? DEFAULT_LAZY_THRESHOLD)), where);
    requireGraph(scanned.proto, where);
    const lazyRawData = (proto: OnnxTypes.TensorProto) => {
      const range = scanned.rawRanges.get(proto);
      return range ? sources.range(source, range.offset, range.length) : undefined;
    };
    const model = withMalformedModelErrors(file, () =>
      modelFromProto(scanned.proto, { file, baseDir: options.baseDir ?? dirname(resolve(path)), lazyRawData, sources }),
    );
    model.sourcePath = path;
    sources.finish();
    return model;
  } catch (error) {
    sources.closeAll();
    throw error;
  }
}

/** Anything but a ModelpassError is a malformed file our checks did not anticipate; it is reported as such. */
function withMalformedModelErrors<T>(file: string | undefined, body: () => T): T {
  return withOnnxErrors('malformed ONNX model', file !== undefined ? { file } : undefined, body);
}

function modelFromProto(proto: OnnxTypes.ModelProto, options: GraphImportOptions): Model {
  const where = options.file !== undefined ? { file: options.file } : {};
  const importer = new GraphImporter(options);
  const model = new Model(new Graph(proto.graph?.name || 'main'));
  model.sourceFormat = 'onnx';
  if (proto.ir_version !== undefined && proto.ir_version !== null) model.irVersion = toSafeNumber(proto.ir_version, 'ir_version', where);
  for (const opset of proto.opset_import ?? []) {
    model.opsetImports.set(dialectOfDomain(opset.domain), toSafeNumber(opset.version, 'opset version', where));
  }
  if (proto.producer_name) model.producerName = proto.producer_name;
  if (proto.producer_version) model.producerVersion = proto.producer_version;
  if (proto.domain) model.domain = proto.domain;
  if (proto.model_version !== undefined && proto.model_version !== null && Object.prototype.hasOwnProperty.call(proto, 'model_version')) {
    model.modelVersion = toSafeNumber(proto.model_version, 'model_version', where);
  }
  if (proto.doc_string) model.docString = proto.doc_string;
  for (const entry of proto.metadata_props ?? []) model.metadata.set(entry.key ?? '', entry.value ?? '');
  for (const fn of proto.functions ?? []) model.functions.push(importFunction(fn as OnnxTypes.FunctionProto, importer, options));
  importer.importGraph(proto.graph as OnnxTypes.GraphProto, model.graph);
  return model;
}

function importFunction(proto: OnnxTypes.FunctionProto, importer: GraphImporter, options: GraphImportOptions): ModelFunction {
  const name = proto.name ?? '';
  const where = { ...(options.file !== undefined ? { file: options.file } : {}), path: `function ${name}` };
  if (!name) throw onnxError({ reason: 'model-local function has no name', location: where });
  const body = new Graph(name);
  importer.importFunctionBody(proto, body);
  const attributeDefaults = new Map<string, Attribute>();
  for (const attributeProto of proto.attribute_proto ?? []) {
    const imported = importAttribute(attributeProto as OnnxTypes.AttributeProto, { ...options, location: where });
    if (imported.pendingGraphs.length > 0) {
      throw onnxError({ reason: `graph-valued default of attribute '${attributeProto.name}' in function '${name}' is not supported`, location: where });
    }
    attributeDefaults.set(attributeProto.name ?? '', imported.attribute);
  }
  const opsetImports = new Map<string, number>();
  for (const opset of proto.opset_import ?? []) opsetImports.set(dialectOfDomain(opset.domain), toSafeNumber(opset.version, 'opset version', where));
  const metadata = new Map<string, string>();
  for (const entry of proto.metadata_props ?? []) metadata.set(entry.key ?? '', entry.value ?? '');
  const fn: ModelFunction = {
    dialect: dialectOfDomain(proto.domain),
    name,
    attributeNames: [...(proto.attribute ?? [])],
    attributeDefaults,
    opsetImports,
    body,
    metadata,
  };
  if (proto.overload) fn.overload = proto.overload;
  if (proto.doc_string) fn.docString = proto.doc_string;
  return fn;
}
