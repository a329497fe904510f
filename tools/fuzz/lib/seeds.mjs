/**
 * Real seed inputs: the repository's fixture models, ONNX's conformance data
 * (/usr/share/libonnx-testdata), the golden .mpir fixtures of the packages, plus files from
 * `--corpus DIR`. Everything is read once per worker, in a fixed (sorted) order so that a seed
 * index means the same file on every run of the same machine setup.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CONFORMANCE_DATA = '/usr/share/libonnx-testdata/data';

/** Files under `dir` (recursively) whose name passes `accept`, sorted, at most `maxBytes` each. */
export function listFiles(dir, accept, maxBytes = Infinity) {
  const out = [];
  if (!existsSync(dir)) return out;
  const walk = (folder) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist' && !entry.name.startsWith('.')) walk(path);
      } else if (entry.isFile() && accept(entry.name, path) && statSync(path).size <= maxBytes) {
        out.push(path);
      }
    }
  };
  walk(dir);
  return out;
}

/** `{ name, bytes }` for each file. */
export function readSeeds(paths) {
  return paths.map((path) => ({ name: relative(REPO_ROOT, path).startsWith('..') ? path : relative(REPO_ROOT, path), bytes: new Uint8Array(readFileSync(path)) }));
}

export function onnxModelFiles() {
  return [
    ...listFiles(join(REPO_ROOT, 'fixtures/models'), (name) => name.endsWith('.onnx')),
    ...listFiles(CONFORMANCE_DATA, (name) => name === 'model.onnx', 2 * 1024 * 1024),
  ];
}

export function tensorProtoFiles() {
  return [
    ...listFiles(join(REPO_ROOT, 'fixtures/models'), (name) => /^(input|output)_\d+\.pb$/.test(name)),
    // One file in three keeps the seed set varied but quick to load.
    ...listFiles(CONFORMANCE_DATA, (name) => /^(input|output)_\d+\.pb$/.test(name), 256 * 1024).filter((_, i) => i % 3 === 0),
  ];
}

export function mpirFixtureFiles() {
  return listFiles(join(REPO_ROOT, 'packages'), (name) => name.endsWith('.mpir'), 512 * 1024);
}

/** Extra seeds from `--corpus DIR` (every regular file, recursively). */
export function corpusFiles(dir) {
  return dir ? listFiles(dir, () => true, 16 * 1024 * 1024) : [];
}

/** Splits seeds into small (most cases) and large (a few), so big models do not dominate time. */
export function pickSeed(rng, seeds, smallLimit = 64 * 1024) {
  const small = seeds.small ?? (seeds.small = seeds.filter((s) => (s.bytes ?? s.text).length <= smallLimit));
  const large = seeds.large ?? (seeds.large = seeds.filter((s) => (s.bytes ?? s.text).length > smallLimit));
  if (large.length && (rng.chance(0.03) || !small.length)) return rng.pick(large);
  return rng.pick(small);
}
