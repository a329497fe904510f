import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Graph, Model, ModelpassError, type Attribute, type ModelFunction } from '@modelpass/ir';
import { dialectOfDomain } from '../dialect.js';
import { onnxError } from '../errors.js';
import { toSafeNumber } from '../int64.js';
import { onnx, type OnnxTypes } from '../proto.js';
import { importAttribute } from './attribute-import.js';
import { GraphImporter } from './graph-import.js';
import { sniffForeignFormat } from './sniff.js';

export interface DecodeOnnxOptions {
  /** The file the bytes came from (diagnostics; its folder is the default `baseDir`). */
  readonly file?: string;
  /** Folder that external data paths are relative to. */
  readonly baseDir?: string;
}

export type ReadOnnxOptions = Omit<DecodeOnnxOptions, 'file'>;

/** Decodes the ModelProto envelope, turning protobuf failures into located errors. */
export function decodeModelProto(bytes: Uint8Array, file: string | undefined): OnnxTypes.ModelProto {
  const foreign = sniffForeignFormat(bytes);
  if (foreign) {
    throw onnxError({
      reason: `not an ONNX model: the data looks like ${foreign}`,
      location: file !== undefined ? { file } : undefined,
      expected: 'a serialized ONNX ModelProto',
    });
  }
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw onnxError({
      reason: `not a valid ONNX model: the protobuf data is truncated or corrupt (${cause instanceof Error ? cause.message : String(cause)})`,
      location: file !== undefined ? { file } : undefined,
      cause,
    });
  }
  if (!proto.graph) {
    throw onnxError({
      reason: 'not an ONNX model: the file has no graph',
      location: file !== undefined ? { file } : undefined,
      expected: 'a ModelProto with a graph (field 7)',
    });
  }
  return proto;
}

/** Decodes ONNX model bytes into an IR model. Initializer bytes are views of `bytes`, not copies. */
export function decodeOnnx(bytes: Uint8Array, options: DecodeOnnxOptions = {}): Model {
  const file = options.file;
  const baseDir = options.baseDir ?? (file !== undefined ? dirname(resolve(file)) : undefined);
  const proto = decodeModelProto(bytes, file);
  try {
    return modelFromProto(proto, { file, baseDir });
  } catch (error) {
    if (ModelpassError.is(error)) throw error;
    // Anything else is a malformed file our checks did not anticipate; report it as such.
    throw onnxError({
      reason: `malformed ONNX model: ${error instanceof Error ? error.message : String(error)}`,
      location: file !== undefined ? { file } : undefined,
      cause: error,
    });
  }
}

/** Reads an .onnx file; external data stays on disk and is read lazily. */
export function readOnnx(path: string, options: ReadOnnxOptions = {}): Model {
  let bytes: Uint8Array;
  try {
    if (statSync(path).size > 2 ** 31 + 2 ** 30) throw new Error('a single ONNX protobuf cannot exceed 2 GiB');
    bytes = readFileSync(path);
  } catch (cause) {
    throw onnxError({
      reason: `cannot read ONNX file: ${cause instanceof Error ? cause.message : String(cause)}`,
      location: { file: path },
      cause,
    });
  }
  const model = decodeOnnx(bytes, { file: path, baseDir: options.baseDir ?? dirname(resolve(path)) });
  model.sourcePath = path;
  return model;
}

function modelFromProto(proto: OnnxTypes.ModelProto, options: { file?: string; baseDir?: string }): Model {
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

function importFunction(proto: OnnxTypes.FunctionProto, importer: GraphImporter, options: { file?: string; baseDir?: string }): ModelFunction {
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
