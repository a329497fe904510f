import type { Tensor } from '@modelpass/ir';
import type { PickleTensor, PickleValue } from '../pickle/pickle-value.js';
import type { ZipLimits } from '../zip/zip-limits.js';

/** Limits applied while reading an archive (zip container and pickles). */
export interface TorchArchiveLimits extends ZipLimits {
  /** Most opcodes one pickle may run (default 50 million). */
  maxPickleOps?: number;
}

/** A TorchScript archive (or a zip `torch.save` file) read lazily: tensors load on demand. */
export interface TorchArchive {
  /** The one top folder every record lives under (e.g. `'model'`, `'archive'`). */
  prefix: string;
  /** The `version` (or `.data/version`) record; 0 when absent (plain `torch.save`). */
  version: number;
  /** Every record name, without the prefix. */
  records: string[];
  /** TorchScript sources by record name, e.g. `'code/__torch__/foo.py'`. */
  code: Map<string, string>;
  /** `data.pkl`, the module tree (or the saved object). */
  data: PickleValue;
  /** `constants.pkl` (a tuple), `{kind:'none'}` when the archive has none (a plain `torch.save` file). */
  constants: PickleValue;
  /** The tensor a pickle's tensor node describes, its bytes read from `data/<storageKey>` on demand. */
  tensor(ref: PickleTensor): Tensor;
  /** Raw bytes of a record (name without the prefix). */
  record(name: string): Uint8Array;
  /** A record's size in bytes as the zip directory declares it, without reading it (name without the prefix). */
  recordSize(name: string): number;
  /** Where it was read from. */
  path: string;
}

/** What `writeTorchArchive` writes. */
export interface TorchArchiveContents {
  prefix: string;
  /** Written as `version` (< 6) or `.data/version` (>= 6). */
  version: number;
  code: Map<string, string>;
  data: PickleValue;
  constants: PickleValue;
  /** Storage bytes by key (`data/<key>`), e.g. `'0'`, `'1'`. data.pkl's tensor nodes name these keys. */
  tensors: Map<string, Tensor>;
  /** Storages of constants.pkl's tensors (`constants/<key>`), as traced modules have. */
  constantTensors?: Map<string, Tensor>;
  /** Extra records (name without prefix → bytes), e.g. `extra/…` or debug records. */
  extraRecords?: Map<string, Uint8Array>;
}
