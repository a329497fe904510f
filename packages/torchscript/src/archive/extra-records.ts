/**
 * An archive's `extra/` records ↔ a model's metadata. `torch.jit.save(m, path, _extra_files={…})`
 * stores each extra file as `<prefix>/extra/<name>`; on import each becomes a metadata entry
 * (`torchscript.extra:<name>` holding the text, or `torchscript.extra.base64:<name>` for bytes that are
 * not UTF-8), and the writer stores those entries back as the same records, so a `.pt → .onnx → .pt`
 * round trip keeps them (ONNX carries them as `metadata_props`).
 *
 * TorchScript has no place for output names or for other formats' metadata (an ONNX model's
 * `metadata_props`, a TFLite file's description, metadata buffers and signature defs), so the writer
 * also stores them in one record of its own, `extra/modelpass.json`
 * (`{"outputs": [names…], "metadata": {key: value}, "docString": …, "graphDocString": …, "inputs": {argument: name},
 * "inputTypes": {argument: {"dtype": …, "shape": [dims…]}}}`):
 * `torch.jit.load` ignores it (or returns it through `_extra_files`), and the reader gives the outputs their names back
 * and restores the entries and the model's and main graph's doc strings (an ONNX model's and graph's `doc_string`).
 * `inputs` names the graph inputs that are no Python identifier (`input.1`, torch.onnx's usual name) and so became
 * `forward(self, input_0)`: the reader gives them their names back, so `.onnx → .pt → .onnx` takes the same inputs.
 * `inputTypes` holds each tensor argument's dtype and shape (sizes, symbolic names, null for unknown dims), which
 * `forward(self, x: Tensor)` cannot say: the reader takes them where the caller gives none, so an archive modelpass
 * wrote is run, evaluated and converted without `--input-shape`/`--input-dtype` (QA s19: `eval model.pt` of an
 * `.onnx → .pt` archive was refused 'input has no recorded shape').
 */
import { isDType, type DType, type Dim } from '@modelpass/ir';
import { checkZipEntryName } from '../zip/zip-entry-name.js';

/** Metadata key prefix of an extra file's text. */
export const TORCHSCRIPT_EXTRA_PREFIX = 'torchscript.extra:';
/** Metadata key prefix of an extra file that is not UTF-8 text (base64). */
export const TORCHSCRIPT_EXTRA_BASE64_PREFIX = 'torchscript.extra.base64:';
/** The extra record modelpass writes output names and other metadata into. */
export const MODELPASS_EXTRA_RECORD = 'extra/modelpass.json';

/** Extra records larger than this are not carried into metadata (the note says so). */
const MAX_CARRIED_EXTRA_BYTES = 1 << 20;
/** modelpass's own record carries another format's metadata, which may be larger (a vocabulary in metadata_props). */
const MAX_MODELPASS_RECORD_BYTES = 64 << 20;
/** Metadata keys that are one format's internal bookkeeping, never written into another file. */
const INTERNAL_PREFIX = 'modelpass:';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What an archive's extra records say about the model read from it. */
export interface ArchiveExtras {
  metadata: Map<string, string>;
  /** Graph output names from `extra/modelpass.json`, when it has them. */
  outputNames?: string[];
  /** The model's and the main graph's doc strings from `extra/modelpass.json`, when it has them. */
  docStrings?: ArchiveDocStrings;
  /** Graph input names by the forward argument that took each one's place (`input_0` → `input.1`), when it has them. */
  inputNames?: Map<string, string>;
  /** Each tensor argument's recorded dtype and shape, when it has them. */
  inputTypes?: Map<string, RecordedInputType>;
}

/** A forward argument's dtype and shape as modelpass's writer records them (`shape` null: rank unknown). */
export interface RecordedInputType {
  dtype: DType;
  shape?: readonly Dim[];
}

/** A model's and its main graph's doc strings (ONNX `ModelProto.doc_string`, `GraphProto.doc_string`). */
export interface ArchiveDocStrings {
  model?: string;
  graph?: string;
}

/** Reads the `extra/` records of an archive (record names without the prefix). */
export function readArchiveExtras(
  records: readonly string[],
  read: (name: string) => Uint8Array,
  sizeOf: (name: string) => number,
  onNote?: (note: string) => void,
): ArchiveExtras {
  const metadata = new Map<string, string>();
  let outputNames: string[] | undefined;
  let docStrings: ArchiveDocStrings | undefined;
  let inputNames: Map<string, string> | undefined;
  let inputTypes: Map<string, RecordedInputType> | undefined;
  for (const record of records) {
    if (!record.startsWith('extra/') || record.endsWith('/')) continue;
    const name = record.slice('extra/'.length);
    // The declared size first: a large extra file is never read (the zip layer stops one that inflates past it).
    const size = sizeOf(record);
    if (size > (record === MODELPASS_EXTRA_RECORD ? MAX_MODELPASS_RECORD_BYTES : MAX_CARRIED_EXTRA_BYTES)) {
      onNote?.(`extra file '${name}' (${size} bytes) is not carried into the model's metadata: larger than ${MAX_CARRIED_EXTRA_BYTES} bytes`);
      continue;
    }
    const bytes = read(record);
    if (record === MODELPASS_EXTRA_RECORD) {
      const parsed = parseModelpassRecord(bytes);
      if (parsed) {
        for (const [key, value] of parsed.metadata) metadata.set(key, value);
        if (parsed.outputNames) outputNames = parsed.outputNames;
        if (parsed.docStrings) docStrings = parsed.docStrings;
        if (parsed.inputNames) inputNames = parsed.inputNames;
        if (parsed.inputTypes) inputTypes = parsed.inputTypes;
        continue;
      }
      onNote?.(`the archive's ${record} is not the output names and metadata modelpass writes there; it is kept as an extra file`);
    }
    try {
      metadata.set(`${TORCHSCRIPT_EXTRA_PREFIX}${name}`, STRICT_UTF8.decode(bytes));
    } catch {
      metadata.set(`${TORCHSCRIPT_EXTRA_BASE64_PREFIX}${name}`, Buffer.from(bytes).toString('base64'));
    }
  }
  return { metadata, ...(outputNames ? { outputNames } : {}), ...(docStrings ? { docStrings } : {}), ...(inputNames ? { inputNames } : {}), ...(inputTypes ? { inputTypes } : {}) };
}

type ModelpassRecord = { metadata: Map<string, string>; outputNames?: string[]; docStrings?: ArchiveDocStrings; inputNames?: Map<string, string>; inputTypes?: Map<string, RecordedInputType> };

/** `inputTypes` of modelpass's record, checked entry by entry (undefined: not what the writer writes). */
function parseInputTypes(value: unknown): Map<string, RecordedInputType> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const types = new Map<string, RecordedInputType>();
  for (const [argument, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
    const { dtype, shape } = entry as { dtype?: unknown; shape?: unknown };
    if (typeof dtype !== 'string' || !isDType(dtype)) return undefined;
    if (shape === null || shape === undefined) {
      types.set(argument, { dtype });
      continue;
    }
    const isDim = (dim: unknown): dim is Dim => dim === null || (typeof dim === 'string' && dim.length > 0) || (typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0);
    if (!Array.isArray(shape) || !shape.every(isDim)) return undefined;
    types.set(argument, { dtype, shape: shape as Dim[] });
  }
  return types;
}

function parseModelpassRecord(bytes: Uint8Array): ModelpassRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(STRICT_UTF8.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { outputs, metadata, docString, graphDocString, inputs, inputTypes } = parsed as { outputs?: unknown; metadata?: unknown; docString?: unknown; graphDocString?: unknown; inputs?: unknown; inputTypes?: unknown };
  const recordedTypes = inputTypes === undefined ? undefined : parseInputTypes(inputTypes);
  if (inputTypes !== undefined && !recordedTypes) return undefined;
  if (inputs !== undefined && (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))) return undefined;
  const inputEntries = Object.entries((inputs ?? {}) as Record<string, unknown>);
  if (inputEntries.some(([, name]) => typeof name !== 'string' || name.length === 0)) return undefined;
  if ((docString !== undefined && typeof docString !== 'string') || (graphDocString !== undefined && typeof graphDocString !== 'string')) return undefined;
  if (outputs !== undefined && !(Array.isArray(outputs) && outputs.every((name) => typeof name === 'string' && name.length > 0))) return undefined;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) return undefined;
  const entries = Object.entries((metadata ?? {}) as Record<string, unknown>);
  if (entries.some(([, value]) => typeof value !== 'string')) return undefined;
  const result: ModelpassRecord = { metadata: new Map(entries as Array<[string, string]>) };
  if (inputEntries.length > 0) result.inputNames = new Map(inputEntries as Array<[string, string]>);
  if (recordedTypes && recordedTypes.size > 0) result.inputTypes = recordedTypes;
  if (outputs) result.outputNames = outputs as string[];
  if (docString !== undefined || graphDocString !== undefined) {
    result.docStrings = { ...(docString !== undefined ? { model: docString as string } : {}), ...(graphDocString !== undefined ? { graph: graphDocString as string } : {}) };
  }
  return result;
}

/**
 * The `extra/` records to write for a model's metadata, output names, doc strings, the names of graph inputs whose
 * forward argument is named otherwise (`inputNames`: argument → input name) and the tensor arguments' dtypes and
 * shapes (`inputTypes`: argument → type).
 */
export function archiveExtraRecords(
  metadata: ReadonlyMap<string, string>,
  outputNames: readonly string[],
  docStrings: ArchiveDocStrings = {},
  inputNames: ReadonlyMap<string, string> = new Map(),
  inputTypes: ReadonlyMap<string, RecordedInputType> = new Map(),
): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  const other: Record<string, string> = {};
  for (const [key, value] of metadata) {
    if (key.startsWith(INTERNAL_PREFIX)) continue;
    const text = key.startsWith(TORCHSCRIPT_EXTRA_PREFIX);
    const base64 = key.startsWith(TORCHSCRIPT_EXTRA_BASE64_PREFIX);
    const name = text ? key.slice(TORCHSCRIPT_EXTRA_PREFIX.length) : base64 ? key.slice(TORCHSCRIPT_EXTRA_BASE64_PREFIX.length) : undefined;
    const record = name === undefined ? undefined : `extra/${name}`;
    // A name that is no plain relative path (or is modelpass's own record) stays an ordinary entry.
    if (record !== undefined && record !== MODELPASS_EXTRA_RECORD && isPlainRecordName(record)) {
      records.set(record, text ? Buffer.from(value, 'utf8') : Buffer.from(value, 'base64'));
    } else {
      other[key] = value;
    }
  }
  const json = JSON.stringify({
    outputs: outputNames,
    ...(Object.keys(other).length > 0 ? { metadata: other } : {}),
    ...(docStrings.model ? { docString: docStrings.model } : {}),
    ...(docStrings.graph ? { graphDocString: docStrings.graph } : {}),
    ...(inputNames.size > 0 ? { inputs: Object.fromEntries(inputNames) } : {}),
    ...(inputTypes.size > 0 ? { inputTypes: Object.fromEntries(inputTypes) } : {}),
  });
  records.set(MODELPASS_EXTRA_RECORD, Buffer.from(json, 'utf8'));
  return records;
}

function isPlainRecordName(name: string): boolean {
  try {
    checkZipEntryName(name, '');
    return !name.endsWith('/');
  } catch {
    return false;
  }
}
