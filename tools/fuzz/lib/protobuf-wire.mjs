/**
 * A small protobuf wire-format reader/writer for structure-aware mutation: a message is a list of
 * fields `{ number, wireType, value }` where value is a BigInt (varint, fixed64), a number
 * (fixed32) or bytes (length-delimited). Nested messages stay bytes until a mutator descends into
 * them with the schema in `onnx-schema.mjs`. Writing never validates, so wrong wire types, lengths
 * and numbers survive into the output on purpose.
 */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 };

/** Parses one message level; undefined when the bytes are not a well-formed message. */
export function parseFields(bytes) {
  const fields = [];
  let at = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (at >= bytes.length) return undefined;
      const b = bytes[at++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
    return undefined;
  };
  while (at < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) return undefined;
    if (wireType === WIRE.varint) {
      const value = varint();
      if (value === undefined) return undefined;
      fields.push({ number, wireType, value });
    } else if (wireType === WIRE.fixed64) {
      if (at + 8 > bytes.length) return undefined;
      fields.push({ number, wireType, value: view.getBigUint64(at, true) });
      at += 8;
    } else if (wireType === WIRE.fixed32) {
      if (at + 4 > bytes.length) return undefined;
      fields.push({ number, wireType, value: view.getUint32(at, true) });
      at += 4;
    } else if (wireType === WIRE.bytes) {
      const length = varint();
      if (length === undefined || length > BigInt(bytes.length - at)) return undefined;
      fields.push({ number, wireType, value: bytes.subarray(at, at + Number(length)) });
      at += Number(length);
    } else {
      return undefined;
    }
  }
  return fields;
}

export function encodeVarint(value, out) {
  let v = BigInt.asUintN(64, BigInt(value));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}

/**
 * Writes fields back. A field may carry `lengthOverride` (a length prefix that lies) or
 * `rawValue` (bytes written after the key as they are).
 */
export function encodeFields(fields) {
  const chunks = [];
  let total = 0;
  for (const field of fields) {
    const head = [];
    encodeVarint((BigInt(field.number) << 3n) | BigInt(field.wireType & 7), head);
    let body;
    const isBytes = field.value instanceof Uint8Array;
    if (field.wireType !== WIRE.bytes && isBytes) throw new Error(`field ${field.number}: bytes value with wire type ${field.wireType}`);
    if (field.rawValue) {
      body = field.rawValue;
    } else if (field.wireType === WIRE.varint) {
      const tmp = [];
      encodeVarint(field.value, tmp);
      body = Uint8Array.from(tmp);
    } else if (field.wireType === WIRE.fixed64) {
      body = new Uint8Array(8);
      new DataView(body.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(field.value)), true);
    } else if (field.wireType === WIRE.fixed32) {
      body = new Uint8Array(4);
      new DataView(body.buffer).setUint32(0, Number(field.value) >>> 0, true);
    } else {
      const value = field.value instanceof Uint8Array ? field.value : new Uint8Array(0);
      encodeVarint(field.lengthOverride ?? value.length, head);
      body = value;
    }
    const headBytes = Uint8Array.from(head);
    chunks.push(headBytes, body);
    total += headBytes.length + body.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Packs varints (a packed repeated int field's payload). */
export function packVarints(values) {
  const out = [];
  for (const v of values) encodeVarint(v, out);
  return Uint8Array.from(out);
}
