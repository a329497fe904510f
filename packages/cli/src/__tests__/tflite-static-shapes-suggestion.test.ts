/**
 * The `--input-shape` convert suggests for symbolic input dims puts 1 at the batch: QA s16 found a sequence-first
 * `src[seq, batch, 32]` told `src=1,SIZE,32` (a sequence of 1 and a batch to guess).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Dim } from '@modelpass/ir';
import { staticShapeNotes } from '../tflite-static-shapes.js';

function noteFor(shape: Dim[]): string {
  const b = new GraphBuilder();
  const x = b.input('src', tensorType('float32', shape));
  b.output(b.op1('onnx.Relu', [x]));
  return staticShapeNotes(b.model({ onnx: 17 })).join('\n');
}

describe('suggested --input-shape', () => {
  it('sequence first: the length SIZE, the batch 1', () => {
    expect(noteFor(['seq', 'batch', 32])).toContain('--input-shape src=SIZE,1,32');
    expect(noteFor(['S', 'N', 32])).toContain('--input-shape src=SIZE,1,32');
  });

  it('batch first and images: the batch 1, the rest SIZE', () => {
    expect(noteFor(['batch', 'seq', 32])).toContain('--input-shape src=1,SIZE,32');
    expect(noteFor(['N', 3, 'H', 'W'])).toContain('--input-shape src=1,3,SIZE,SIZE');
    expect(noteFor([null, 3, null, null])).toContain('--input-shape src=1,3,SIZE,SIZE');
    expect(noteFor(['src_dynamic_axes_1', 'src_dynamic_axes_2', 8])).toContain('--input-shape src=1,SIZE,8');
  });
});
