import { describeFileSignature, Graph, Model, ModelpassError } from '@modelpass/ir';
import { TABLE_SLOTS } from '../generated/schema-tables.js';
import { builtinNameOfCode } from '../dialect/names.js';
import { tfliteError } from '../io/errors.js';
import { checkReadTfliteArguments } from '../io/api-arguments.js';
import { DOC_STRING_KEY, FOREIGN_METADATA_NAME, GRAPH_DOC_STRING_KEY, unpackForeignMetadata } from '../io/foreign-metadata.js';
import { META_DESCRIPTION, META_METADATA_PREFIX, META_SIGNATURE_DEFS } from '../io/metadata-keys.js';
import { TfliteSourceFile } from '../io/source-file.js';
import type { SignatureDefJson } from '../io/signature-defs.js';
import type { ImportContext, OperatorCodeInfo } from './import-context.js';
import { resolveTfliteReadLimits, tfliteLimitExceeded, type ResolvedTfliteReadLimits, type TfliteReadLimits } from './read-limits.js';
import { importSubgraph } from './subgraph-import.js';
import { FlatBytes, TableReader, WindowTooSmall } from './table-reader.js';
import { bufferRange, readRange } from './tensor-import.js';

const M = TABLE_SLOTS.Model;
const C = TABLE_SLOTS.OperatorCode;

export interface ReadTfliteOptions {
  readonly limits?: TfliteReadLimits;
  /**
   * Bytes of the file read first (default 16 MiB); a flatbuffer that reaches further is read again in
   * a larger window. Weights are never part of it: they are read on use.
   */
  readonly initialReadBytes?: number;
  /**
   * Told what the read changed that a writer keeps: sparse constants are densified (no writer here has a sparse
   * form), with their count and bytes as stored and dense.
   */
  readonly onNote?: (note: string) => void;
}

/** A flatbuffer cannot be larger than 2 GiB: bigger models keep their buffers after it (`Buffer.offset`). */
const MAX_FLATBUFFER_BYTES = 2 ** 31 - 1;
/** The first window read: most models' flatbuffers (or whole files) fit. */
const FIRST_WINDOW_BYTES = 16 * 2 ** 20;
const FILE_IDENTIFIER = 'TFL3';

/**
 * Reads a .tflite file into a model of the tflite dialect: subgraph 0 is the main graph, subgraphs
 * that operators call (IF, WHILE, CALL_ONCE, …) are regions of those operators, other subgraphs
 * become model functions (dialect `tflite`). Weights stay in the file and are read on use (small
 * ones are copied); sparse constants are densified (and DENSIFY operators over them folded).
 * Every malformed file gives a `ModelpassError` naming the file and the field.
 */
export function readTflite(path: string, options: ReadTfliteOptions = {}): Model {
  checkReadTfliteArguments(path, options);
  const limits = resolveTfliteReadLimits(options.limits, path);
  const source = new TfliteSourceFile(path);
  let keepSource = false;
  try {
    const reach = Math.min(source.size, MAX_FLATBUFFER_BYTES);
    // Read a window of the file's start; a flatbuffer that reaches further asks for a larger one.
    for (let window = Math.min(reach, Math.max(8, options.initialReadBytes ?? FIRST_WINDOW_BYTES)); ; ) {
      try {
        const densified: ImportContext['densified'] = new Map();
        const model = importModel(path, source, new FlatBytes(source.readHead(window), path, reach, (position, length) => {
          const out = new Uint8Array(length);
          source.readInto(out, position);
          return out;
        }), limits, densified);
        keepSource = true;
        if (densified.size > 0) options.onNote?.(densifiedNote(path, densified));
        return model;
      } catch (error) {
        if (!(error instanceof WindowTooSmall)) throw error;
        window = Math.min(reach, Math.max(error.needed, window * 4));
      }
    }
  } catch (error) {
    if (ModelpassError.is(error)) throw error;
    throw tfliteError({ reason: `cannot read TFLite file '${path}': ${error instanceof Error ? error.message : String(error)}`, location: { file: path }, cause: error });
  } finally {
    if (keepSource) source.retain(); // lazy weights read through it; the process-wide descriptor limit applies from here
    else source.close();
  }
}

/** QA s17 round 14: face_detection_full_range_sparse.tflite copied grew 680,736 → 1,115,120 bytes without a word. */
function densifiedNote(path: string, densified: ImportContext['densified']): string {
  let stored = 0;
  let dense = 0;
  for (const tensor of densified.values()) {
    stored += tensor.storedBytes;
    dense += tensor.denseBytes;
  }
  const count = densified.size === 1 ? '1 sparse constant' : `${densified.size} sparse constants`;
  return `'${path}': ${count} (${stored} bytes of stored values, their indices aside) read dense (${dense} bytes): no writer here has a sparse form, so a written model stores ${densified.size === 1 ? 'it' : 'them'} dense`;
}

function importModel(path: string, source: TfliteSourceFile, bytes: FlatBytes, limits: ResolvedTfliteReadLimits, densified: ImportContext['densified']): Model {
  const identifier = bytes.length >= 8 ? new TextDecoder().decode(bytes.bytes.subarray(4, 8)) : '';
  if (identifier !== FILE_IDENTIFIER) {
    const foreign = describeFileSignature(bytes.bytes.subarray(0, 16), 'tflite');
    throw tfliteError({
      reason: `'${path}' is not a TFLite model${foreign ? `: the data looks like ${foreign}` : ''}`,
      location: { file: path },
      expected: `the file identifier "${FILE_IDENTIFIER}" at bytes 4..8`,
      actual: bytes.length < 8 ? `a ${bytes.length}-byte file` : JSON.stringify(identifier),
      code: 'tflite/not-tflite',
    });
  }
  const root = TableReader.root(bytes, 'model');
  const subgraphs = root.tables(M.subgraphs, 'subgraphs');
  const ctx: ImportContext = {
    file: path,
    bytes,
    source,
    buffers: root.tables(M.buffers, 'buffers'),
    operatorCodes: root.tables(M.operator_codes, 'operator_codes').map((code) => readOperatorCode(code, bytes)),
    subgraphs,
    limits,
    nodeCount: 0,
    fileNodeCount: subgraphs.reduce((sum, subgraph) => sum + (subgraph.vector(TABLE_SLOTS.SubGraph.operators, 4, 'operators')?.length ?? 0), 0),
    called: new Set(),
    densified,
  };
  if (ctx.subgraphs.length === 0) bytes.fail('model.subgraphs', 'the model has no subgraph');
  const model = new Model(new Graph('main'));
  model.sourceFormat = 'tflite';
  model.sourcePath = path;
  const version = root.scalar(M.version, 'uint32', 0, 'version');
  // TFLite 2.9 builds no interpreter for another schema version ('Model provided is schema version 1027 not equal to
  // supported version 3'); versions 0-2 are the pre-2018 schemas, whose tables this reader does not read.
  if (version !== 3) bytes.fail('model.version', `schema version ${version} is not 3, the TFLite schema this reader (and TFLite) reads`, String(version));
  model.opsetImports.set('tflite', version);
  importSubgraph(ctx, 0, model.graph, []);
  importUncalledSubgraphs(ctx, model);
  const description = root.string(M.description, 'description');
  if (description !== undefined) model.metadata.set(META_DESCRIPTION, description);
  for (const entry of root.tables(M.metadata, 'metadata')) {
    const name = entry.string(TABLE_SLOTS.Metadata.name, 'name') ?? '';
    const range = bufferRange(ctx, entry.scalar(TABLE_SLOTS.Metadata.buffer, 'uint32', 0, 'buffer'), `${entry.path}.buffer`);
    if (range && range.length > limits.maxMetadataBytes) {
      throw tfliteLimitExceeded('maxMetadataBytes', `metadata '${name}' (${entry.path}, ${range.length} bytes)`, range.length, limits.maxMetadataBytes, path);
    }
    const bytes = range ? readRange(ctx, range) : new Uint8Array();
    const foreign = name === FOREIGN_METADATA_NAME ? unpackForeignMetadata(bytes) : undefined;
    if (foreign) {
      for (const [key, value] of foreign) {
        if (key === DOC_STRING_KEY) model.docString = value;
        else if (key === GRAPH_DOC_STRING_KEY) model.graph.docString = value;
        else model.metadata.set(key, value);
      }
    }
    else model.metadata.set(`${META_METADATA_PREFIX}${name}`, Buffer.from(bytes).toString('base64'));
  }
  const signatures = readSignatureDefs(root, ctx, model);
  if (signatures.length > 0) model.metadata.set(META_SIGNATURE_DEFS, JSON.stringify(signatures));
  return model;
}

function readOperatorCode(code: TableReader, bytes: FlatBytes): OperatorCodeInfo {
  // Files from before schema 3a only have the byte field; newer ones set both (the byte one capped at 127).
  const deprecated = code.scalar(C.deprecated_builtin_code, 'int8', 0, 'deprecated_builtin_code');
  const wide = code.scalar(C.builtin_code, 'int32', 0, 'builtin_code');
  const value = Math.max(deprecated, wide);
  const builtin = builtinNameOfCode(value);
  if (!builtin) bytes.fail(`${code.path}.builtin_code`, `${value} is not a BuiltinOperator this schema knows`, String(value));
  return { builtin, customCode: code.string(C.custom_code, 'custom_code'), version: code.scalar(C.version, 'int32', 1, 'version') };
}

/** Subgraphs no operator calls (other signatures' entry points, …) become functions of dialect `tflite`. */
function importUncalledSubgraphs(ctx: ImportContext, model: Model): void {
  for (let index = 1; index < ctx.subgraphs.length; index++) {
    if (ctx.called.has(index)) continue;
    const body = new Graph(`subgraph_${index}`);
    importSubgraph(ctx, index, body, []);
    model.functions.push({ dialect: 'tflite', name: `subgraph_${index}`, attributeNames: [], attributeDefaults: new Map(), opsetImports: new Map(), body, metadata: new Map() });
  }
}

function readSignatureDefs(root: TableReader, ctx: ImportContext, model: Model): SignatureDefJson[] {
  const S = TABLE_SLOTS.SignatureDef;
  const T = TABLE_SLOTS.TensorMap;
  return root.tables(M.signature_defs, 'signature_defs').map((signature) => {
    const subgraph = signature.scalar(S.subgraph_index, 'uint32', 0, 'subgraph_index');
    if (subgraph >= ctx.subgraphs.length) ctx.bytes.fail(`${signature.path}.subgraph_index`, `${subgraph} is past the ${ctx.subgraphs.length} subgraphs`);
    const graph = subgraph === 0 ? model.graph : model.functions.find((f) => f.name === `subgraph_${subgraph}`)?.body;
    const tensorsOf = (slot: number, name: string) =>
      signature.tables(slot, name).map((entry) => {
        const tensorIndex = entry.scalar(T.tensor_index, 'uint32', 0, 'tensor_index');
        const value = graph ? valueOfTensor(ctx, subgraph, tensorIndex, graph) : undefined;
        return { name: entry.string(T.name, 'name') ?? '', tensor: value ?? `#${tensorIndex}` };
      });
    return {
      key: signature.string(S.signature_key, 'signature_key') ?? '',
      subgraph: subgraph === 0 ? 'main' : `subgraph_${subgraph}`,
      inputs: tensorsOf(S.inputs, 'inputs'),
      outputs: tensorsOf(S.outputs, 'outputs'),
    };
  });
}

/** The IR value name of tensor `tensorIndex` of a subgraph (matched through the subgraph's inputs and outputs). */
function valueOfTensor(ctx: ImportContext, subgraph: number, tensorIndex: number, graph: Graph): string | undefined {
  const table = ctx.subgraphs[subgraph]!;
  const G = TABLE_SLOTS.SubGraph;
  const inputs = table.numbers(G.inputs, 'int32', 'inputs');
  const outputs = table.numbers(G.outputs, 'int32', 'outputs');
  const inputAt = inputs.indexOf(tensorIndex);
  if (inputAt >= 0) return graph.inputs[inputAt]?.name;
  const outputAt = outputs.indexOf(tensorIndex);
  if (outputAt >= 0) return graph.outputs[outputAt]?.name;
  return undefined;
}
