/**
 * Mutated real archives (torch-made fixtures) through the whole reader: the only failure allowed is
 * a ModelpassError. Three families: bytes of the file flipped/cut/spliced; data.pkl mutated and
 * re-zipped with a valid CRC (so the pickle reader sees it); the central directory mutated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTorchArchive, stateDictOf, ZipFile, writeZip, type ZipWriteEntry } from '@modelpass/torchscript';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'archive');
const seeds = ['scripted.pt', 'traced.pt', 'state_dict.pt'].map((name) => ({ name, bytes: readFileSync(join(fixtures, name)) }));
const dir = mkdtempSync(join(tmpdir(), 'modelpass-pt-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** xorshift32: the cases are the same on every run. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function mutate(bytes: Uint8Array, rnd: () => number, region: [number, number] = [0, bytes.length]): Uint8Array {
  const out = Buffer.from(bytes);
  const at = (): number => region[0] + Math.floor(rnd() * Math.max(1, region[1] - region[0]));
  const kind = Math.floor(rnd() * 5);
  const interesting = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x28, 0x2e, 0x52, 0x63, 0x81];
  if (kind === 0) for (let i = 0; i < 1 + rnd() * 8; i++) out[at()] = Math.floor(rnd() * 256);
  if (kind === 1) for (let i = 0; i < 1 + rnd() * 4; i++) out[at()] = interesting[Math.floor(rnd() * interesting.length)]!;
  if (kind === 2) return out.subarray(0, at());
  if (kind === 3) {
    const from = at();
    return Buffer.concat([out.subarray(0, from), out.subarray(Math.min(out.length, from + 1 + Math.floor(rnd() * 16)))]);
  }
  if (kind === 4) {
    const from = at();
    const piece = out.subarray(at(), at());
    return Buffer.concat([out.subarray(0, from), piece, out.subarray(from)]);
  }
  return out;
}

type Outcome = 'accepted' | 'refused';
function readEverything(path: string): Outcome {
  try {
    const archive = readTorchArchive(path);
    let weights;
    try {
      weights = stateDictOf(archive);
    } catch (error) {
      if (ModelpassError.is(error) && /holds no tensors/.test(error.message)) return 'accepted';
      throw error;
    }
    for (const tensor of weights.values()) if (tensor.byteLength <= 64 << 20) tensor.bytes();
    return 'accepted';
  } catch (error) {
    if (ModelpassError.is(error)) return 'refused';
    throw new Error(`${path}: not a ModelpassError: ${(error as Error)?.stack ?? String(error)}`);
  }
}

describe('fuzzing real archives', () => {
  it('file bytes mutated: accepted or a ModelpassError', () => {
    const rnd = random(20261203);
    const counts = { accepted: 0, refused: 0 };
    for (let i = 0; i < 300; i++) {
      const seed = seeds[i % seeds.length]!;
      const path = join(dir, `bytes-${i}.pt`);
      writeFileSync(path, mutate(seed.bytes, rnd));
      counts[readEverything(path)]++;
    }
    expect(counts.refused).toBeGreaterThan(0);
    expect(counts.accepted).toBeGreaterThan(0);
  });

  it('central directory mutated: accepted or a ModelpassError', () => {
    const rnd = random(7);
    const counts = { accepted: 0, refused: 0 };
    for (let i = 0; i < 300; i++) {
      const seed = seeds[i % seeds.length]!;
      const zip = ZipFile.open(join(fixtures, seed.name));
      const cdStart = Math.max(...zip.entries.map((e) => e.dataOffset + e.compressedSize));
      const path = join(dir, `cd-${i}.pt`);
      writeFileSync(path, mutate(seed.bytes, rnd, [cdStart, seed.bytes.length]));
      counts[readEverything(path)]++;
    }
    expect(counts.refused).toBeGreaterThan(0);
  });

  it('data.pkl mutated and re-zipped (valid CRC): accepted or a ModelpassError', () => {
    const rnd = random(99);
    const counts = { accepted: 0, refused: 0 };
    for (let i = 0; i < 450; i++) {
      const seed = seeds[i % seeds.length]!;
      const zip = ZipFile.open(join(fixtures, seed.name));
      const entries: ZipWriteEntry[] = zip.entries.map((e) => {
        const data = zip.read(e);
        return { name: e.name, data: e.name.endsWith('/data.pkl') || (e.name.endsWith('/constants.pkl') && rnd() < 0.3) ? mutate(data, rnd) : data };
      });
      const path = join(dir, `pkl-${i}.pt`);
      writeZip(path, entries);
      counts[readEverything(path)]++;
    }
    expect(counts.refused).toBeGreaterThan(0);
    expect(counts.accepted).toBeGreaterThan(0);
  });
});
