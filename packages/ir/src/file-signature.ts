/**
 * What a file looks like from its first bytes, for the error a reader gives when the file is not its format: a model
 * saved under the wrong extension (an .onnx named .tflite, a .tflite named .pt) is named for what it is. One table
 * for every reader; each leaves out its own format (a file that looks like it but failed to parse is damaged, not
 * misnamed).
 */
/** The formats whose readers ask; 'mpir' (the textual IR) has no binary signature of its own, so every entry applies. */
export type ModelFileFormat = 'onnx' | 'tflite' | 'torchscript' | 'mpir';

interface Signature {
  readonly name: string;
  /** The model format this signature is, which that format's reader does not report. */
  readonly format?: ModelFileFormat;
  readonly test: (bytes: Uint8Array) => boolean;
}

const SIGNATURES: readonly Signature[] = [
  { name: 'a PNG image', test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { name: 'a JPEG image', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { name: 'a TFLite model (FlatBuffer "TFL3")', format: 'tflite', test: (b) => ascii(b, 4, 4) === 'TFL3' },
  { name: 'a ZIP archive (a PyTorch .pt file?)', format: 'torchscript', test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 },
  { name: 'an ONNX model (a protobuf ModelProto)', format: 'onnx', test: looksLikeOnnxModel },
  { name: 'a gzip file', test: (b) => b[0] === 0x1f && b[1] === 0x8b },
  { name: 'a Python pickle (a bare torch.save of Python objects?)', test: (b) => b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5 },
  { name: 'JSON', test: (b) => b[0] === 0x7b || (b[0] === 0x5b && (b[1] === 0x7b || b[1] === 0x0a)) },
  { name: 'XML or HTML', test: (b) => b[0] === 0x3c && (b[1] === 0x3f || b[1] === 0x21 || b[1] === 0x68 || b[1] === 0x48) },
  { name: 'an HDF5 file (a Keras .h5 model?)', test: (b) => b[0] === 0x89 && ascii(b, 1, 3) === 'HDF' },
  { name: 'a GGUF file', test: (b) => ascii(b, 0, 4) === 'GGUF' },
];

/** ONNX ModelProto as exporters write it: ir_version (field 1, varint) first, then another ModelProto field. */
function looksLikeOnnxModel(b: Uint8Array): boolean {
  const nextTags = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72];
  return b[0] === 0x08 && b[1] !== undefined && b[1] >= 1 && b[1] <= 30 && b[2] !== undefined && nextTags.includes(b[2]);
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return '';
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** 'an ONNX model (…)', 'a PNG image' and the like for a file `reader` could not read, or undefined when nothing fits. */
export function describeFileSignature(head: Uint8Array, reader: ModelFileFormat): string | undefined {
  return SIGNATURES.find((signature) => signature.format !== reader && signature.test(head))?.name;
}
