/** readOnnx/decodeOnnx called from JavaScript with the other one's argument: a short error, never the model's bytes. */
import { describe, expect, it } from 'vitest';
import { decodeOnnx, readOnnx } from '../index.js';

const bytes = new Uint8Array(200_000).fill(7);

function messageOf(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    return String((error as Error).message) + String((error as { hint?: string }).hint ?? '');
  }
  throw new Error('expected an error');
}

describe('wrongly typed arguments', () => {
  it('readOnnx given bytes says to call decodeOnnx, in a few words', () => {
    const message = messageOf(() => readOnnx(bytes as unknown as string));
    expect(message).toMatch(/readOnnx takes a file path \(a string\), not a Uint8Array of 200000 bytes/);
    expect(message).toMatch(/decodeOnnx\(bytes\)/);
    expect(message.length).toBeLessThan(400);
  });

  it('decodeOnnx given a path says to call readOnnx', () => {
    const message = messageOf(() => decodeOnnx('model.onnx' as unknown as Uint8Array));
    expect(message).toMatch(/decodeOnnx takes the model's bytes .* not a string/);
    expect(message).toMatch(/readOnnx\(path\)/);
  });

  it('undefined or an object is named, not printed', () => {
    expect(messageOf(() => readOnnx(undefined as unknown as string))).toMatch(/not undefined$/);
    expect(messageOf(() => decodeOnnx({ length: 3 } as unknown as Uint8Array))).toMatch(/not an object \(Object\)/);
  });
});
