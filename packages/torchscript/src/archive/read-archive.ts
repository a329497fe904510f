/**
 * Reading a TorchScript archive or a zip-form `torch.save` file: the zip container checked, the
 * pickles read without executing anything, code records decoded, tensors left on disk until used.
 */
import { ModelpassError, type Tensor } from '@modelpass/ir';
import { messageOf, torchscriptError } from '../errors.js';
import { readPickle } from '../pickle/pickle-reader.js';
import type { PickleTensor, PickleValue } from '../pickle/pickle-value.js';
import { DEFAULT_ZIP_LIMITS } from '../zip/zip-limits.js';
import { ZipFile } from '../zip/zip-reader.js';
import { tensorView } from './tensor-view.js';
import type { TorchArchive, TorchArchiveLimits } from './types.js';

const CODE_DECODER = new TextDecoder('utf-8', { fatal: true });

export function readTorchArchive(path: string, limits: TorchArchiveLimits = {}): TorchArchive {
  const zip = ZipFile.open(path, limits);
  const fail = (reason: string, hint?: string): ModelpassError =>
    torchscriptError({ reason, location: { file: path }, code: 'torchscript/archive', ...(hint ? { hint } : {}) });
  if (zip.entries.length === 0) throw fail('the zip archive is empty; a TorchScript archive holds data.pkl, code/ and data/');
  const prefix = zip.entries[0]!.name.split('/')[0]!;
  for (const entry of zip.entries) {
    if (!entry.name.startsWith(`${prefix}/`)) {
      throw fail(`zip entry '${entry.name}' is outside the archive's top folder '${prefix}/'`, 'torch archives keep every record under one top folder');
    }
  }
  const recordName = (name: string): string => name.slice(prefix.length + 1);
  const byRecord = new Map(zip.entries.filter((e) => !e.name.endsWith('/')).map((e) => [recordName(e.name), e]));
  const record = (name: string): Uint8Array => {
    const entry = byRecord.get(name);
    if (!entry) throw fail(`the archive has no record '${name}'`);
    return zip.read(entry);
  };
  const pickle = (name: string, storageFolder: string): PickleValue =>
    readPickle(record(name), { source: `${path}:${prefix}/${name}`, storageFolder, ...(limits.maxPickleOps !== undefined ? { maxOps: limits.maxPickleOps } : {}) });

  if (!byRecord.has('data.pkl')) {
    throw fail("the archive has no 'data.pkl' record", 'a TorchScript archive (torch.jit.save) or a zip torch.save file has one');
  }
  const versionRecord = byRecord.has('.data/version') ? '.data/version' : byRecord.has('version') ? 'version' : undefined;
  let version = 0;
  if (versionRecord) {
    const text = Buffer.from(record(versionRecord)).toString('latin1').trim();
    if (!/^\d{1,4}$/.test(text)) throw fail(`the '${versionRecord}' record is not a version number: ${JSON.stringify(text.slice(0, 20))}`);
    version = Number(text);
  }
  const code = new Map<string, string>();
  for (const [name] of byRecord) {
    if (!name.startsWith('code/') || !name.endsWith('.py')) continue;
    try {
      code.set(name, CODE_DECODER.decode(record(name)));
    } catch (cause) {
      if (ModelpassError.is(cause)) throw cause;
      throw fail(`code record '${name}' is not valid UTF-8: ${messageOf(cause)}`);
    }
  }
  const data = pickle('data.pkl', 'data');
  const constants: PickleValue = byRecord.has('constants.pkl') ? pickle('constants.pkl', 'constants') : { kind: 'none' };
  return {
    prefix,
    version,
    records: [...byRecord.keys()],
    code,
    data,
    constants,
    path,
    record,
    recordSize(name: string): number {
      const entry = byRecord.get(name);
      if (!entry) throw fail(`the archive has no record '${name}'`);
      return entry.size;
    },
    tensor(ref: PickleTensor): Tensor {
      const name = ref.storageRecord ?? `data/${ref.storageKey}`;
      const entry = byRecord.get(name);
      if (!entry) throw fail(`a tensor names storage '${ref.storageKey}' but the archive has no record '${name}'`);
      return tensorView(ref, zip.storage(entry), `${path}:${entry.name}`, limits.maxEntryBytes ?? DEFAULT_ZIP_LIMITS.maxEntryBytes);
    },
  };
}
