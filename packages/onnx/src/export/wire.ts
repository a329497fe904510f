/** Protobuf wire helpers for the hand-streamed parts of a ModelProto (tags and lengths). */
export function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

export function varintLength(value: number): number {
  let length = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    length++;
  }
  return length;
}

/** The key of a length-delimited field. */
export function lengthDelimitedTag(field: number): Uint8Array {
  return varint(field * 8 + 2);
}
