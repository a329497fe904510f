// @modelpass/torchscript — TorchScript archives: zip, safe pickle, state dicts, import and export.
export * from './pickle/pickle-value.js';
export type { TorchArchive, TorchArchiveContents, TorchArchiveLimits } from './archive/types.js';
export { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip/zip-limits.js';
export { readTorchArchive } from './archive/read-archive.js';
export { writeTorchArchive } from './archive/write-archive.js';
export { readPickle, type PickleReadOptions } from './pickle/pickle-reader.js';
export { writePickle } from './pickle/pickle-writer.js';
export { ALLOWED_CALLS, STORAGE_DTYPES, resolveGlobal } from './pickle/torch-globals.js';
export { ZipFile, type ZipEntry } from './zip/zip-reader.js';
export { writeZip, type ZipWriteEntry, type ZipRawEntry } from './zip/zip-writer.js';
export { TORCHSCRIPT_ERROR_SOURCE } from './errors.js';
export { readStateDict, stateDictOf } from './state-dict/read-state-dict.js';
export { loadStateDict, type LoadStateDictOptions, type LoadStateDictReport, type StateDictMismatch } from './state-dict/load-state-dict.js';
export { parseTorchScript } from './script/parser.js';
export type { SourceFile, ClassDef, FunctionDef, Stmt, Expr, SourcePosition } from './script/ast.js';
export { readTorchScript, importTorchScript, type ReadTorchScriptOptions, type TorchScriptInputSpec } from './import/read-torchscript.js';
export { atenLowerings } from './import/aten-registry.js';
export { writeTorchScript, type WriteTorchScriptOptions } from './export/write-torchscript.js';
