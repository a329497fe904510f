export * from './dtype.js';
export * from './type.js';
export * from './diagnostic.js';
export * from './inference-refusal.js';
export { MemoryStorage, FileRangeStorage, ComputedStorage, type TensorStorage } from './tensor-storage.js';
export {
  decodeElements,
  encodeElements,
  nativeArrayType,
  type NativeArrayConstructor,
  float16BitsToNumber,
  numberToFloat16Bits,
  bfloat16BitsToNumber,
  numberToBfloat16Bits,
  type ElementArray,
  type ElementValues,
} from './element-codec.js';
export { Tensor } from './tensor.js';
export { writeFileAtomic, writeFileAtomicWith, fileWriteError, type AtomicFileOutput } from './atomic-write.js';
export { describeFileKind, describeStatFailure } from './file-kind.js';
export { describeFileSignature, type ModelFileFormat } from './file-signature.js';
export { claimTemporaryPath, releaseTemporaryPath, removeStaleTemporaries, temporaryPathsInFlight } from './temporary-files.js';
export * from './attribute.js';
export { Use, Value, type ReplaceUsesOptions, type UseSet } from './value.js';
export { Node, splitOpName } from './node.js';
export { Graph, type CreateNodeOptions } from './graph.js';
export { Model, type ModelFunction } from './model.js';
export * from './op-schema.js';
export { verifyModel, assertValid, type KnownValues, type VerifyOptions } from './verifier.js';
export { GraphBuilder, Builder, type BuildOpOptions, type BuilderOptions, type CreateOptions } from './builder.js';
export * from './toolkit/index.js';
export * from './rewrite.js';
export * from './text/index.js';
export { SourceFile, SourceRangeStorage, batchSourceReads, sourceDescriptorsOpen, holdSourcesBeforeReplacing, openRegularFile, readFully, nonRegularKind, NotRegularFileError, type SourceFileOptions } from './source-file.js';
export { denseOfSparse } from './sparse-dense.js';
export { checkOptionNames, closestOptionName, type OptionNamesCheck } from './option-names.js';
export { describeArgument, isModelLike } from './argument-description.js';
export { editDistance } from './edit-distance.js';
