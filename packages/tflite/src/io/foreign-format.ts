/**
 * What a file that is no TFLite flatbuffer looks like, from its first bytes, so that a model saved under the wrong
 * extension (an .onnx file or a .pt archive named .tflite) is named for what it is (QA s19: 'expected the file
 * identifier "TFL3" at bytes 4..8, got "pyto"'). Format packages do not import each other: @modelpass/onnx and
 * @modelpass/torchscript keep their own such tables.
 */
const SIGNATURES: readonly { readonly name: string; readonly test: (bytes: Uint8Array) => boolean }[] = [
  { name: 'a ZIP archive (a PyTorch .pt file?)', test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 },
  { name: 'an ONNX model (a protobuf ModelProto)', test: looksLikeOnnxModel },
  { name: 'a gzip file', test: (b) => b[0] === 0x1f && b[1] === 0x8b },
];

/** ONNX ModelProto as exporters write it: ir_version (field 1, varint) first, then another ModelProto field. */
function looksLikeOnnxModel(b: Uint8Array): boolean {
  const nextTags = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72];
  return b[0] === 0x08 && b[1] !== undefined && b[1] >= 1 && b[1] <= 30 && b[2] !== undefined && nextTags.includes(b[2]);
}

/** 'an ONNX model (…)' and the like, or undefined when the bytes look like nothing known. */
export function describeForeignFormat(head: Uint8Array): string | undefined {
  return SIGNATURES.find((signature) => signature.test(head))?.name;
}
