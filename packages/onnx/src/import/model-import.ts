import { dirname, resolve } from 'node:path';
import { describeArgument, Graph, Model, ModelpassError, type Attribute, type Location, type ModelFunction } from '@modelpass/ir';
import { importModelAnnotations } from '../annotations.js';
import { dialectOfDomain } from '../dialect.js';
import { onnxError, withOnnxErrors } from '../errors.js';
import { toSafeNumber } from '../int64.js';
import { onnx, type OnnxTypes } from '../proto.js';
import { importAttribute } from './attribute-import.js';
import { GraphImporter, type GraphImportOptions } from './graph-import.js';
import { initializersMustBeInputs } from '../export/graph-export.js';
import { scanModel } from './lazy-scan.js';
import { SourceFile, SourceFiles } from './source-file.js';
import { PositionedReader } from './wire-reader.js';
import { sniffForeignFormat } from './sniff.js';
import { decodeStrict, InvalidUtf8Error, NestingTooDeepError } from './strict-decode.js';
import { resolveReadLimits, type OnnxReadLimits, type ResolvedReadLimits } from './read-limits.js';
import { NotRegularFileError } from './source-file.js';
import { checkFunctionRecursion } from './function-recursion.js';
import { checkOptionKeys } from '../api-arguments.js';
import { importOpsetImports, refuseDefaultDomainNodesWithoutOpset, refuseMissingOpsetImport, refuseNodesOfUnusableDomains } from './opset-imports.js';

export interface DecodeOnnxOptions {
  /** The file the bytes came from (diagnostics; its folder is the default `baseDir`). */
  readonly file?: string;
  /** Folder that external data paths are relative to. */
  readonly baseDir?: string;
  /** Resource limits (largest tensor, deepest nesting, most nodes); see `OnnxReadLimits`. */
  readonly limits?: OnnxReadLimits;
}

export interface ReadOnnxOptions extends Omit<DecodeOnnxOptions, 'file'> {
  /**
   * Smallest initializer raw_data (bytes) left in the file as a lazy range (default 1024); smaller
   * ones are read into memory.
   */
  readonly lazyThreshold?: number;
  /**
   * Called with `(0, size)` once the file is open and `(size, size)` when the model is read (`size`:
   * the file's bytes). Weights stay in the file (lazy ranges), so reading is quick even for a large
   * model; the callback lets a caller show that it started and ended. It must not throw.
   */
  readonly onProgress?: (done: number, total: number) => void;
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
    if (ModelpassError.is(cause)) throw cause;
    if (cause instanceof NestingTooDeepError) {
      throw onnxError({
        reason: `not a valid ONNX model: ${cause.message}`,
        location,
        expected: `at most ${cause.limit} levels of nested messages`,
        hint: `if the file is trusted, raise the limit: readOnnx(path, { limits: { maxNestingDepth: ${cause.limit * 2} } })`,
        code: 'onnx/read-limit/maxNestingDepth',
        cause,
      });
    }
    if (cause instanceof InvalidUtf8Error) {
      throw onnxError({
        reason: `not a valid ONNX model: ${cause.message}`,
        location,
        expected: 'UTF-8 text in every protobuf string field (names, op types, keys, doc strings)',
        hint: 'modelpass does not replace bytes it cannot decode; fix the producer of the file',
        cause,
      });
    }
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
export function decodeModelProto(bytes: Uint8Array, file: string | undefined, limits: ResolvedReadLimits): OnnxTypes.ModelProto {
  const location = file !== undefined ? { file } : undefined;
  rejectForeignFormat(bytes, location);
  const proto = decodeOrReject(() => decodeStrict(onnx.ModelProto, bytes, limits.maxNestingDepth), location);
  requireGraph(proto, location);
  return proto;
}

/** Decodes ONNX model bytes into an IR model. Initializer bytes are views of `bytes`, not copies. */
/** What a wrongly typed argument is, in a few words (never its contents: a model's bytes would fill the terminal). */

export function decodeOnnx(bytes: Uint8Array, options: DecodeOnnxOptions = {}): Model {
  if (!(bytes instanceof Uint8Array)) {
    throw onnxError({ reason: `decodeOnnx takes the model's bytes (a Uint8Array or Buffer), not ${describeArgument(bytes)}`, ...(typeof bytes === 'string' ? { hint: 'to read a file, call readOnnx(path)' } : {}) });
  }
  checkOptionKeys(options, 'decodeOnnx');
  const file = options.file;
  const baseDir = options.baseDir ?? (file !== undefined ? dirname(resolve(file)) : undefined);
  const limits = resolveReadLimits(options.limits, file !== undefined ? { file } : undefined);
  const proto = decodeModelProto(bytes, file, limits);
  const sources = new SourceFiles();
  try {
    const model = withMalformedModelErrors(file, () => modelFromProto(proto, { file, baseDir, sources, limits }));
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
  if (typeof path !== 'string') {
    throw onnxError({ reason: `readOnnx takes a file path (a string), not ${describeArgument(path)}`, ...((path as unknown) instanceof Uint8Array ? { hint: 'to read a model held in memory, call decodeOnnx(bytes)' } : {}) });
  }
  checkOptionKeys(options, 'readOnnx');
  const file = path;
  const where = { file };
  const limits = resolveReadLimits(options.limits, where);
  let source: SourceFile;
  try {
    source = new SourceFile(path, true);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    throw onnxError({
      reason: missing ? 'ONNX file does not exist' : `cannot read ONNX file: ${cause instanceof Error ? cause.message : String(cause)}`,
      location: where,
      ...(cause instanceof NotRegularFileError ? { expected: 'a regular .onnx file', hint: 'copy the model into a regular file first' } : {}),
      cause,
    });
  }
  const sources = new SourceFiles();
  sources.add(source);
  try {
    options.onProgress?.(0, source.size);
    const reader = new PositionedReader(source.descriptor!, source.size);
    const head = new Uint8Array(Math.min(16, source.size));
    if (head.byteLength > 0) reader.copyInto(head, 0);
    rejectForeignFormat(head, where);
    const scanned = decodeOrReject(() => scanModel(reader, Math.max(1, options.lazyThreshold ?? DEFAULT_LAZY_THRESHOLD), limits.maxNestingDepth), where);
    requireGraph(scanned.proto, where);
    const lazyRawData = (proto: OnnxTypes.TensorProto) => {
      const range = scanned.rawRanges.get(proto);
      return range ? sources.range(source, range.offset, range.length) : undefined;
    };
    const model = withMalformedModelErrors(file, () =>
      modelFromProto(scanned.proto, { file, baseDir: options.baseDir ?? dirname(resolve(path)), lazyRawData, sources, limits }),
    );
    model.sourcePath = path;
    sources.finish();
    options.onProgress?.(source.size, source.size);
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
  refuseMissingOpsetImport(proto, model.irVersion, where);
  const unusableDomains = new Map<string, number>();
  for (const [dialect, version] of importOpsetImports(proto.opset_import, where, unusableDomains)) model.opsetImports.set(dialect, version);
  if (proto.producer_name) model.producerName = proto.producer_name;
  if (proto.producer_version) model.producerVersion = proto.producer_version;
  if (proto.domain) model.domain = proto.domain;
  if (proto.model_version !== undefined && proto.model_version !== null && Object.prototype.hasOwnProperty.call(proto, 'model_version')) {
    model.modelVersion = toSafeNumber(proto.model_version, 'model_version', where);
  }
  if (proto.doc_string) model.docString = proto.doc_string;
  for (const entry of proto.metadata_props ?? []) model.metadata.set(entry.key ?? '', entry.value ?? '');
  importModelAnnotations(proto, model);
  for (const fn of proto.functions ?? []) model.functions.push(importFunction(fn as OnnxTypes.FunctionProto, importer, options));
  importer.importGraph(proto.graph as OnnxTypes.GraphProto, model.graph, null, 0, initializersMustBeInputs(model.irVersion));
  refuseNodesOfUnusableDomains([model.graph], unusableDomains, where);
  refuseDefaultDomainNodesWithoutOpset([model.graph], model.opsetImports, model.irVersion, where);
  checkFunctionRecursion(model, options.file);
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
  const opsetImports = importOpsetImports(proto.opset_import, where);
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
