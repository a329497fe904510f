/**
 * Other formats' metadata through a .tflite (QA s17 round 14): the writer kept only TFLite's own entries
 * (`tflite.metadata:<name>`, the description, signature defs), so an ONNX model's `metadata_props` and a
 * TorchScript archive's extra files (`torchscript.extra:<name>`) were dropped by `.onnx → .tflite` and
 * `.pt → .tflite`. Now they travel in one metadata buffer, `modelpass.metadata` (UTF-8 JSON), which the
 * reader unpacks; TFLite's own entries stay as they were, byte for byte, and `modelpass:` keys (one
 * format's internal bookkeeping) are never written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, expect, it } from 'vitest';
import { META_METADATA_PREFIX, readTflite, writeTflite } from '@modelpass/tflite';
import { Model as FbModel } from '../generated/flatbuffers/tflite.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-foreign-metadata-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Metadata entries of a .tflite as the flatbuffer holds them: name → the buffer's bytes. */
function fileMetadata(path: string): Map<string, Buffer> {
  const bytes = readFileSync(path);
  const model = FbModel.getRootAsModel(new ByteBuffer(new Uint8Array(bytes)));
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < model.metadataLength(); i++) {
    const entry = model.metadata(i)!;
    const data = model.buffers(entry.buffer())!.dataArray() ?? new Uint8Array();
    entries.set(entry.name() ?? '', Buffer.from(data));
  }
  return entries;
}

const sparse = models.find((m) => m.id === 'mediapipe-face-detection-full-range-sparse')!;

it('writes other formats’ metadata into modelpass.metadata and reads it back; TFLite’s own entries unchanged', () => {
  const model = readTflite(sparse.path);
  model.metadata.set('author', 'somebody');
  model.metadata.set('torchscript.extra:labels.json', '["face"]');
  model.metadata.set('modelpass:onnx.training_info', 'internal');
  const out = join(dir, 'with-foreign.tflite');
  writeTflite(model, out);

  const entries = fileMetadata(out);
  expect([...entries.keys()]).toEqual(['min_runtime_version', 'modelpass.metadata']);
  expect(entries.get('min_runtime_version')).toEqual(fileMetadata(sparse.path).get('min_runtime_version'));
  expect(JSON.parse(entries.get('modelpass.metadata')!.toString('utf8'))).toEqual({ author: 'somebody', 'torchscript.extra:labels.json': '["face"]' });

  const back = readTflite(out);
  expect(back.metadata.get('author')).toBe('somebody');
  expect(back.metadata.get('torchscript.extra:labels.json')).toBe('["face"]');
  expect(back.metadata.has('modelpass:onnx.training_info')).toBe(false);
  expect(back.metadata.has(`${META_METADATA_PREFIX}modelpass.metadata`)).toBe(false);
  // …and written again, the same buffer (no second copy)
  const again = join(dir, 'again.tflite');
  writeTflite(back, again);
  expect(fileMetadata(again)).toEqual(entries);
});

it('a file without foreign metadata gets no modelpass.metadata buffer; one whose buffer is not modelpass’s JSON keeps it as an entry', () => {
  const plain = join(dir, 'plain.tflite');
  writeTflite(readTflite(sparse.path), plain);
  expect([...fileMetadata(plain).keys()]).toEqual(['min_runtime_version']);

  const model = readTflite(sparse.path);
  model.metadata.set(`${META_METADATA_PREFIX}modelpass.metadata`, Buffer.from('not json').toString('base64'));
  const odd = join(dir, 'odd.tflite');
  writeTflite(model, odd);
  const back = readTflite(odd);
  expect(Buffer.from(back.metadata.get(`${META_METADATA_PREFIX}modelpass.metadata`)!, 'base64').toString()).toBe('not json');
});
