/**
 * TorchScript archives / torch.save files → `readTorchArchive` + `stateDictOf` (@modelpass/torchscript),
 * every tensor read. Inputs: the torch-made archives of packages/torchscript/fixtures/archive,
 * mutated byte-wise, or with data.pkl / constants.pkl mutated and re-zipped (valid CRCs, so the
 * pickle reader sees the mutation). Property for accepted archives: written back with
 * `writeTorchArchive` (same records), the archive reads to the same pickle trees and tensor bytes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { ZipFile, readTorchArchive, stateDictOf, writeTorchArchive, writeZip } from '@modelpass/torchscript';
import { mutateBytes } from '../mutate-bytes.mjs';
import { PropertyViolation, bytesEqual, step } from '../property.mjs';
import { scratchFolder } from '../scratch.mjs';
import { REPO_ROOT, corpusFiles, listFiles, pickSeed, readSeeds } from '../seeds.mjs';

const MAX_TENSOR_BYTES = 64 << 20;

function readAll(path) {
  const archive = readTorchArchive(path);
  let weights = new Map();
  try {
    weights = stateDictOf(archive);
  } catch (error) {
    if (!(ModelpassError.is(error) && /holds no tensors/.test(error.message))) throw error;
  }
  const bytes = new Map();
  for (const [name, tensor] of weights) if (tensor.byteLength <= MAX_TENSOR_BYTES) bytes.set(name, tensor.bytes());
  return { archive, bytes };
}

function storages(archive, folder) {
  const out = new Map();
  for (const name of archive.records) {
    if (!name.startsWith(`${folder}/`)) continue;
    const bytes = archive.record(name);
    out.set(name.slice(folder.length + 1), Tensor.fromBytes('uint8', [bytes.byteLength], bytes));
  }
  return out;
}

export const torchscriptTarget = {
  name: 'torchscript',
  extension: 'pt',
  inputKind: 'bytes',
  setup(options) {
    const dir = mkdtempSync(join(scratchFolder(options), 'torchscript-'));
    const seeds = readSeeds([...listFiles(join(REPO_ROOT, 'packages/torchscript/fixtures'), (name) => name.endsWith('.pt')), ...corpusFiles(options.corpus)]);
    return { seeds, path: join(dir, 'input.pt'), rezipped: join(dir, 'rezipped.pt'), written: join(dir, 'written.pt') };
  },
  generate(rng, state) {
    const seed = pickSeed(rng, state.seeds).bytes;
    if (rng.chance(0.5)) return mutateBytes(rng, seed, pickSeed(rng, state.seeds).bytes);
    // mutate a pickle inside and re-zip it, so the CRC is valid and the pickle reader is reached
    writeFileSync(state.rezipped, seed);
    let zip;
    try {
      zip = ZipFile.open(state.rezipped);
    } catch {
      return seed;
    }
    const target = rng.chance(0.8) ? '/data.pkl' : '/constants.pkl';
    const entries = zip.entries.map((e) => {
      const data = zip.read(e);
      return { name: e.name, data: e.name.endsWith(target) ? mutateBytes(rng, data, data) : data, deflate: e.method === 8 };
    });
    writeZip(state.rezipped, entries);
    return new Uint8Array(readFileSync(state.rezipped));
  },
  parse(input, state) {
    writeFileSync(state.path, input);
    return readAll(state.path);
  },
  check({ archive, bytes }, _input, state) {
    try {
      writeTorchArchive(state.written, {
        prefix: archive.prefix,
        version: Math.max(1, archive.version),
        code: archive.code,
        data: archive.data,
        constants: archive.constants,
        tensors: storages(archive, 'data'),
        constantTensors: storages(archive, 'constants'),
      });
    } catch (error) {
      // documented refusals of the writer (raw bytes or bare storages in a pickle, odd prefixes)
      if (ModelpassError.is(error)) return;
      throw error;
    }
    const again = step('torchscript-roundtrip', 'readTorchArchive of the written archive', () => readAll(state.written));
    if (!isDeepStrictEqual(again.archive.data, archive.data)) throw new PropertyViolation('torchscript-roundtrip', 'data.pkl reads differently after writing it back');
    if (archive.constants.kind !== 'none' && !isDeepStrictEqual(again.archive.constants, archive.constants)) {
      throw new PropertyViolation('torchscript-roundtrip', 'constants.pkl reads differently after writing it back');
    }
    for (const [name, data] of bytes) {
      const other = again.bytes.get(name);
      if (!other || !bytesEqual(data, other)) throw new PropertyViolation('torchscript-roundtrip', `tensor '${name}' differs after writing the archive back`);
    }
  },
};
