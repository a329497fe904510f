/**
 * Model metadata that is not TFLite's own — an ONNX model's `metadata_props`, a TorchScript archive's extra files
 * (`torchscript.extra:<name>`) — has no TFLite field of its own. The writer keeps it in one metadata buffer,
 * `modelpass.metadata` (UTF-8 JSON: key → value), and the reader puts the entries back, so
 * `.onnx → .tflite → .onnx` and `.pt → .tflite → .pt` keep them. TFLite's own entries (`tflite.*`) and one
 * format's internal bookkeeping (`modelpass:…`) are not part of it. The model's and main graph's doc strings (an
 * ONNX model's and graph's `doc_string`, which TFLite has no field for) ride in the same buffer under
 * `modelpass:doc_string` and `modelpass:graph_doc_string`, keys no metadata entry can take.
 */

/** The TFLite metadata buffer that holds other formats' metadata. */
export const FOREIGN_METADATA_NAME = 'modelpass.metadata';

/** Keys of the doc strings in the buffer (a `modelpass:` key is never a metadata entry written there). */
export const DOC_STRING_KEY = 'modelpass:doc_string';
export const GRAPH_DOC_STRING_KEY = 'modelpass:graph_doc_string';

/** A model's and its main graph's doc strings. */
export interface DocStrings {
  readonly model?: string | undefined;
  readonly graph?: string | undefined;
}

/** Whether a model metadata key is another format's (written into `modelpass.metadata`). */
export function isForeignMetadataKey(key: string): boolean {
  return !key.startsWith('tflite.') && !key.startsWith('modelpass:');
}

/** The buffer's bytes for these entries and doc strings, or undefined when there are none. */
export function packForeignMetadata(metadata: ReadonlyMap<string, string>, docStrings: DocStrings = {}): Uint8Array | undefined {
  const entries = [...metadata].filter(([key]) => isForeignMetadataKey(key));
  if (docStrings.model) entries.push([DOC_STRING_KEY, docStrings.model]);
  if (docStrings.graph) entries.push([GRAPH_DOC_STRING_KEY, docStrings.graph]);
  return entries.length > 0 ? Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8') : undefined;
}

/**
 * The entries a `modelpass.metadata` buffer holds (the doc strings under `DOC_STRING_KEY` / `GRAPH_DOC_STRING_KEY`),
 * or undefined when it is not such a buffer (then it is kept as it is).
 */
export function unpackForeignMetadata(bytes: Uint8Array): Map<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.some(([key, value]) => typeof value !== 'string' || !(isForeignMetadataKey(key) || key === DOC_STRING_KEY || key === GRAPH_DOC_STRING_KEY))) return undefined;
  return new Map(entries as Array<[string, string]>);
}
