import { describeFileSignature } from '@modelpass/ir';

/** What a file that is not ONNX looks like (its magic bytes), to say what a wrong file is. */
export function sniffForeignFormat(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'an empty file';
  return describeFileSignature(bytes, 'onnx');
}
