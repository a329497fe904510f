/**
 * A model saved under the wrong extension: an .onnx file or a .pt archive named .tflite was refused as 'expected the
 * file identifier "TFL3" at bytes 4..8, got "pyto"' (QA s19); the error now also says what the file looks like.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTflite } from '@modelpass/tflite';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-misnamed-tflite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, head: number[]): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.from(head), Buffer.alloc(200)]));
  return path;
}

describe('a file named .tflite that is no TFLite flatbuffer', () => {
  it('an ONNX model (ir_version then producer_name, as torch.onnx writes it)', () => {
    const path = fileOf('onnx.tflite', [0x08, 0x07, 0x12, 0x07, ...Buffer.from('pytorch')]);
    expect(() => readTflite(path)).toThrow(/is not a TFLite model: the data looks like an ONNX model/);
  });

  it('a PyTorch .pt (a zip archive)', () => {
    const path = fileOf('archive.tflite', [0x50, 0x4b, 0x03, 0x04]);
    expect(() => readTflite(path)).toThrow(/is not a TFLite model: the data looks like a ZIP archive \(a PyTorch \.pt file\?\)/);
  });

  it('anything else says only that it is not TFLite', () => {
    const path = fileOf('other.tflite', [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);
    expect(() => readTflite(path)).toThrow(/is not a TFLite model$|is not a TFLite model \(/m);
  });
});
