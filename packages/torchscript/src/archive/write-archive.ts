/**
 * Writing a TorchScript archive as `torch.jit.save` lays it out: `data.pkl`, deflated `code/`
 * sources, `constants.pkl`, 64-byte aligned stored `data/<key>` records, and the version record
 * (`version` before 6, `.data/version` from 6 on).
 */
import { torchscriptError } from '../errors.js';
import { writePickle } from '../pickle/pickle-writer.js';
import { writeZip, type ZipWriteEntry } from '../zip/zip-writer.js';
import type { TorchArchiveContents } from './types.js';

export function writeTorchArchive(path: string, contents: TorchArchiveContents): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(contents.prefix) || contents.prefix === '.' || contents.prefix === '..') {
    throw torchscriptError({ reason: `archive prefix '${contents.prefix}' must be one plain folder name`, location: { file: path }, code: 'torchscript/archive-write' });
  }
  if (!Number.isInteger(contents.version) || contents.version < 1) {
    throw torchscriptError({ reason: `archive version ${contents.version} must be a positive integer`, location: { file: path }, code: 'torchscript/archive-write' });
  }
  for (const key of [...contents.tensors.keys(), ...(contents.constantTensors?.keys() ?? [])]) {
    if (!/^[A-Za-z0-9_]+$/.test(key)) {
      throw torchscriptError({ reason: `storage key '${key}' must be a plain name (letters, digits, _)`, location: { file: path }, code: 'torchscript/archive-write' });
    }
  }
  const p = contents.prefix;
  const entries: ZipWriteEntry[] = [{ name: `${p}/data.pkl`, data: writePickle(contents.data) }];
  for (const [name, source] of contents.code) {
    if (!name.startsWith('code/')) {
      throw torchscriptError({ reason: `code record '${name}' must start with 'code/'`, location: { file: path }, code: 'torchscript/archive-write' });
    }
    entries.push({ name: `${p}/${name}`, data: Buffer.from(source, 'utf8'), deflate: true });
  }
  // constants.pkl makes the file a TorchScript archive (torch.load dispatches on it); a state dict has none.
  if (contents.constants.kind !== 'none') entries.push({ name: `${p}/constants.pkl`, data: writePickle(contents.constants) });
  for (const [key, tensor] of contents.tensors) entries.push({ name: `${p}/data/${key}`, data: tensor });
  for (const [key, tensor] of contents.constantTensors ?? []) entries.push({ name: `${p}/constants/${key}`, data: tensor });
  for (const [name, bytes] of contents.extraRecords ?? []) entries.push({ name: `${p}/${name}`, data: bytes });
  entries.push({ name: `${p}/${contents.version >= 6 ? '.data/version' : 'version'}`, data: Buffer.from(`${contents.version}\n`) });
  writeZip(path, entries);
}
