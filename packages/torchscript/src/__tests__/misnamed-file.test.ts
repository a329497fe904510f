/**
 * A model saved under the wrong extension: an .onnx or .tflite file named .pt was "not a zip archive, or a truncated
 * one" (QA s19), which sends a stranger looking for damage; the error now says what the file looks like.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-misnamed-pt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, head: number[]): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.from(head), Buffer.alloc(200)]));
  return path;
}

describe('a file named .pt that is no zip archive', () => {
  it('an ONNX model (ir_version then producer_name, as torch.onnx writes it)', () => {
    const path = fileOf('onnx.pt', [0x08, 0x07, 0x12, 0x07, ...Buffer.from('pytorch')]);
    expect(() => readTorchScript(path)).toThrow(/not a TorchScript archive: the data looks like an ONNX model/);
  });

  it('a TFLite model', () => {
    const path = fileOf('tflite.pt', [0x1c, 0, 0, 0, ...Buffer.from('TFL3')]);
    expect(() => readTorchScript(path)).toThrow(/not a TorchScript archive: the data looks like a TFLite model/);
  });

  it('anything else is still a damaged or truncated zip', () => {
    const path = fileOf('other.pt', [0x01, 0x02, 0x03]);
    expect(() => readTorchScript(path)).toThrow(/not a zip archive, or a truncated one/);
  });
});
