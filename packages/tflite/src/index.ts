// @modelpass/tflite — TFLite reader/writer, the tflite dialect, layout and legalization.
export * from './dialect/index.js';
export * from './reader/index.js';
export { META_OPERATOR_VERSION, META_TENSOR_NAME, META_VARIABLE, META_SIGNATURE_DEFS, META_METADATA_PREFIX, META_DESCRIPTION } from './io/metadata-keys.js';
export type { SignatureDefJson } from './io/signature-defs.js';
export * from './writer/index.js';
