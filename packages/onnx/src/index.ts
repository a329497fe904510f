export { decodeOnnx, readOnnx, type DecodeOnnxOptions, type ReadOnnxOptions } from './import/model-import.js';
export { DEFAULT_READ_LIMITS, type OnnxReadLimits, type ResolvedReadLimits } from './import/read-limits.js';
export { encodeOnnx, writeOnnx, type EncodeOnnxOptions, type WriteOnnxOptions } from './export/model-export.js';
export { VALUE_INFO_POLICIES, DEFAULT_VALUE_INFO_POLICY, parseValueInfoPolicy, hasDeclaredValueInfo, type ValueInfoPolicy } from './export/value-info-policy.js';
export {
  decodeTensorProto,
  encodeTensorProto,
  decodeSequenceProto,
  decodeOptionalProto,
  decodeMapProto,
  decodeOnnxDataValue,
  type OnnxDataValue,
  type DecodeDataOptions,
} from './data-values.js';
export type { ChunkReadableStorage } from './export/byte-sink.js';
/** Node metadata key: when `'true'`, the ONNX writer leaves the node's name out (set by the importer on unnamed nodes; quantize-static's `names=short` sets it too). */
export { META_UNNAMED } from './dialect.js';
