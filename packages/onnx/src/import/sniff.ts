/** Recognizes common non-ONNX files by their magic bytes, to say what a wrong file is. */
const SIGNATURES: readonly { readonly name: string; readonly test: (bytes: Uint8Array) => boolean }[] = [
  { name: 'a PNG image', test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { name: 'a JPEG image', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { name: 'a TFLite model (FlatBuffer "TFL3")', test: (b) => ascii(b, 4, 4) === 'TFL3' },
  { name: 'a ZIP archive (a PyTorch .pt file?)', test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 },
  { name: 'a gzip file', test: (b) => b[0] === 0x1f && b[1] === 0x8b },
  { name: 'a Python pickle', test: (b) => b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5 },
  { name: 'JSON', test: (b) => b[0] === 0x7b || (b[0] === 0x5b && (b[1] === 0x7b || b[1] === 0x0a)) },
  { name: 'XML or HTML', test: (b) => b[0] === 0x3c && (b[1] === 0x3f || b[1] === 0x21 || b[1] === 0x68 || b[1] === 0x48) },
  { name: 'an HDF5 file (a Keras .h5 model?)', test: (b) => b[0] === 0x89 && ascii(b, 1, 3) === 'HDF' },
  { name: 'a GGUF file', test: (b) => ascii(b, 0, 4) === 'GGUF' },
];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return '';
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

export function sniffForeignFormat(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'an empty file';
  return SIGNATURES.find((s) => s.test(bytes))?.name;
}
