// @modelpass/torchscript — TorchScript archives: zip, safe pickle, state dicts, import and export.
export * from './pickle/pickle-value.js';
export type { TorchArchive, TorchArchiveContents, TorchArchiveLimits } from './archive/types.js';
export { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip/zip-limits.js';
