import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, readModelText } from '@modelpass/ir';

const dir = mkdtempSync(join(tmpdir(), 'mpir-not-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = 'model opsets{onnx=17} {\ngraph @main(%x: float32[4]) {\n  %y = onnx.Relu(%x) name="ÿé"\n  return %y\n}\n}\n';

function refusal(name: string, bytes: Uint8Array): ModelpassError {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  try {
    readModelText(path);
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`${name} was read`);
}

describe('a .mpir file that is not UTF-8 text (QA s20 H)', () => {
  it('names a binary model saved as .mpir for what it looks like', () => {
    const onnx = refusal('model.mpir', Uint8Array.from([0x08, 0x07, 0x12, 0x08, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63, 0x68]));
    expect(onnx.reason).toBe(`cannot read '${join(dir, 'model.mpir')}' as textual IR (.mpir): it looks like an ONNX model (a protobuf ModelProto), not text`);
    expect(onnx.diagnostics[0]!.hint).toMatch(/extension of its format/);
    const png = refusal('image.mpir', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    expect(png.reason).toMatch(/it looks like a PNG image, not text$/);
  });

  it('refuses a NUL byte or a byte that is not UTF-8 at its line and column instead of reading U+FFFD', () => {
    const text = new TextEncoder().encode(MODEL);
    const nameAt = MODEL.indexOf('ÿé');
    const latin1 = Uint8Array.from([...text.subarray(0, new TextEncoder().encode(MODEL.slice(0, nameAt)).length), 0xff, 0x22, 0x0a, 0x7d]);
    const bad = refusal('latin1.mpir', latin1);
    expect(bad.reason).toMatch(/it is binary, not text: byte 0xff, which is not UTF-8 at byte \d+$/);
    expect(bad.location).toMatchObject({ line: 3, column: MODEL.split('\n')[2]!.indexOf('ÿé') + 1 });
    const nul = refusal('nul.mpir', Uint8Array.from([...new TextEncoder().encode('model {\n'), 0, 0x41]));
    expect(nul.reason).toMatch(/a NUL byte at byte 8$/);
    expect(nul.location).toMatchObject({ line: 2, column: 1 });
  });

  it('still reads UTF-8 text with characters beyond ASCII', () => {
    const path = join(dir, 'ok.mpir');
    writeFileSync(path, MODEL);
    expect([...readModelText(path).graph.nodes()][0]!.name).toBe('ÿé');
  });
});
