/**
 * QA s17 round 14, item 3: sparse constants are densified at import and no writer here has a sparse form, so
 * `.tflite → .tflite` of MediaPipe's face_detection_full_range_sparse grew 680,736 → 1,115,120 bytes without a word.
 * The reader now tells `onNote` how many sparse constants it read dense, with their bytes stored and dense; the
 * expected figures come from the file through flatc's generated classes, not from the reader.
 */
import { readFileSync } from 'node:fs';
import { ByteBuffer } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { readTflite } from '@modelpass/tflite';
import { Model as FbModel, TensorType } from '../generated/flatbuffers/tflite.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const ELEMENT_BYTES: Partial<Record<TensorType, number>> = { [TensorType.FLOAT32]: 4, [TensorType.FLOAT16]: 2, [TensorType.INT8]: 1 };

/** Count, stored value bytes and dense bytes of the file's sparse tensors that hold data. */
function sparseTensorsOf(path: string): { count: number; stored: number; dense: number } {
  const file = FbModel.getRootAsModel(new ByteBuffer(new Uint8Array(readFileSync(path))));
  const totals = { count: 0, stored: 0, dense: 0 };
  for (let s = 0; s < file.subgraphsLength(); s++) {
    const subgraph = file.subgraphs(s)!;
    for (let t = 0; t < subgraph.tensorsLength(); t++) {
      const tensor = subgraph.tensors(t)!;
      const stored = file.buffers(tensor.buffer())?.dataLength() ?? 0;
      if (!tensor.sparsity() || stored === 0) continue;
      const elements = [...tensor.shapeArray()!].reduce((a, b) => a * b, 1);
      totals.count += 1;
      totals.stored += stored;
      totals.dense += elements * ELEMENT_BYTES[tensor.type()]!;
    }
  }
  return totals;
}

describe('sparse constants read dense', () => {
  it('face_detection_full_range_sparse: one note with the count and the bytes stored and dense', () => {
    const entry = models.find((m) => m.id === 'mediapipe-face-detection-full-range-sparse')!;
    const expected = sparseTensorsOf(entry.path);
    expect(expected.count).toBeGreaterThan(0);
    const notes: string[] = [];
    readTflite(entry.path, { onNote: (note) => notes.push(note) });
    expect(notes).toEqual([
      `'${entry.path}': ${expected.count} sparse constants (${expected.stored} bytes of stored values, their indices aside) read dense (${expected.dense} bytes): no writer here has a sparse form, so a written model stores them dense`,
    ]);
  });

  it('a model without sparse tensors says nothing', () => {
    const entry = models.find((m) => m.id === 'mediapipe-face-detection-full-range')!;
    expect(sparseTensorsOf(entry.path).count).toBe(0);
    const notes: string[] = [];
    readTflite(entry.path, { onNote: (note) => notes.push(note) });
    expect(notes).toEqual([]);
  });
});
