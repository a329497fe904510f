import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { Model as FbModel } from '../generated/flatbuffers/tflite.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const [entry] = await ensureThirdPartyModels({ ids: ['mediapipe-face-detection-short-range'] });
const original = readFileSync(entry!.path);
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(bytes: Uint8Array): string {
  const path = join(dir, `case-${counter++}.tflite`);
  writeFileSync(path, bytes);
  return path;
}

/** Reads `path` (and every weight); returns the error, which must be a ModelpassError. */
function failure(path: string, limits?: Parameters<typeof readTflite>[1]): ModelpassError {
  try {
    const model = readTflite(path, limits);
    for (const value of model.graph.constants) value.constant!.bytes();
  } catch (error) {
    expect(ModelpassError.is(error), String((error as Error).stack)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`${path} was read without an error`);
}

/** Where the length of vector field `slot` of the table at `tablePos` is stored. */
function vectorLengthPosition(bytes: Uint8Array, tablePos: number, slot: number): number {
  const bb = new ByteBuffer(bytes);
  const field = bb.__offset(tablePos, 4 + 2 * slot);
  return bb.__vector(tablePos + field) - 4;
}

describe('hostile and broken .tflite files', () => {
  it('refuses what is not a regular TFLite file', () => {
    expect(failure(join(dir, 'missing.tflite')).message).toContain('no such file');
    const folder = join(dir, 'folder.tflite');
    mkdirSync(folder);
    expect(failure(folder).message).toContain('a folder, not a regular file');
    const fifo = join(dir, 'pipe.tflite');
    execFileSync('mkfifo', [fifo]);
    expect(failure(fifo).message).toContain('named pipe');
    expect(failure(file(new Uint8Array(0))).message).toContain('not a TFLite model');
    expect(failure(file(Buffer.from('ir_version: 8 producer_name: "onnx"'))).message).toContain('not a TFLite model');
  });

  it('reports truncation anywhere as a ModelpassError naming the file', () => {
    for (const length of [8, 12, 64, 1000, 4096, 20000, 60000, original.length >> 1, original.length - 1]) {
      const error = failure(file(original.subarray(0, length)));
      expect(error.location?.file).toContain(dir);
    }
  });

  it('reports a root offset and a vector length past the end', () => {
    const rootPast = Buffer.from(original);
    rootPast.writeUInt32LE(0x7fff_fff0, 0);
    expect(failure(file(rootPast)).message).toContain('outside the');

    const hugeSubgraphs = Buffer.from(original);
    const root = hugeSubgraphs.readUInt32LE(0);
    hugeSubgraphs.writeUInt32LE(0x7fff_ffff, vectorLengthPosition(hugeSubgraphs, root, 2));
    expect(failure(file(hugeSubgraphs)).message).toMatch(/model\.subgraphs: vector length 2147483647 runs past the end/);

    const hugeTensors = Buffer.from(original);
    const model = FbModel.getRootAsModel(new ByteBuffer(hugeTensors));
    const subgraph = model.subgraphs(0)!;
    hugeTensors.writeUInt32LE(0x4000_0000, vectorLengthPosition(hugeTensors, subgraph.bb_pos, 0));
    expect(failure(file(hugeTensors)).message).toContain('model.subgraphs[0].tensors: vector length');
  });

  it('reports a buffer whose offset points past the end of the file', () => {
    const path = join(dir, 'external.tflite');
    writeTflite(readTflite(entry!.path), path, { externalBuffersAbove: 0 });
    truncateSync(path, readFileSync(path).length - 64);
    const error = failure(path);
    expect(error.message).toMatch(/buffers\[\d+\] says its data is at bytes \[\d+, \d+\), past the end of the file/);
  });

  it('enforces the reader limits', () => {
    const error = failure(entry!.path, { limits: { maxNodeCount: 10 } });
    expect(error.message).toContain('maxNodeCount');
    expect(error.diagnostics[0]!.hint).toContain('maxNodeCount');
  });

  it('survives random corruption: every failure is a ModelpassError', () => {
    let seed = 12345;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let rejected = 0;
    for (let round = 0; round < 200; round++) {
      const bytes = Buffer.from(original);
      for (let flips = 1 + Math.floor(random() * 6); flips > 0; flips--) bytes[Math.floor(random() * 40000)] = Math.floor(random() * 256);
      try {
        const model = readTflite(file(bytes));
        for (const value of model.graph.constants) value.constant!.bytes();
        writeTflite(model, join(dir, 'again.tflite'));
      } catch (error) {
        expect(ModelpassError.is(error), String((error as Error).stack)).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
