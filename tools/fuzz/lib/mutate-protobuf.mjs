/**
 * Structure-aware ONNX mutation: descends the ModelProto tree with the schema of
 * `onnx-schema.mjs`, picks one message on the way and changes it at the protobuf level. The output
 * is valid wire format (unless a lying length is the point): wrong field values, wrong wire types,
 * huge dims and data types, negative lengths and counts, dropped/duplicated/foreign fields.
 */
import { ONNX_DOMAINS, ONNX_MESSAGES, ONNX_OP_TYPES } from './onnx-schema.mjs';
import { WIRE, encodeFields, packVarints, parseFields } from './protobuf-wire.mjs';

const HUGE_INTS = [0n, 1n, -1n, 2n, 3n, 7n, 16n, 17n, 255n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n), -2n, 1000000n, 2n ** 40n];
const STRINGS = ['', 'x', 'input', 'output', '..', '../../etc/passwd', '/dev/zero', 'a'.repeat(300), '\u0000', '\ud800', 'é', '__proto__', 'constructor', 'toString', '%s%n', 'data.bin'];
const encoder = new TextEncoder();

function asInt64(value) {
  return BigInt.asUintN(64, value);
}

function mutateValueField(rng, field, kind) {
  switch (kind) {
    case 'int':
      return { ...field, wireType: WIRE.varint, value: asInt64(rng.pick(HUGE_INTS)) };
    case 'ints': {
      const n = rng.smallSize(8);
      const values = Array.from({ length: n }, () => asInt64(rng.pick(HUGE_INTS)));
      return rng.chance(0.5) ? { ...field, wireType: WIRE.bytes, value: packVarints(values) } : { ...field, wireType: WIRE.varint, value: values[0] ?? 0n };
    }
    case 'float':
      return { ...field, wireType: WIRE.fixed32, value: rng.pick([0, 0x7fc00000, 0x7f800000, 0xff800000, 0x80000000, rng.u32()]) };
    case 'floats':
    case 'doubles': {
      const n = rng.smallSize(16);
      return { ...field, wireType: WIRE.bytes, value: rng.bytes(rng.chance(0.7) ? n * (kind === 'floats' ? 4 : 8) : n) };
    }
    case 'string':
      return { ...field, wireType: WIRE.bytes, value: encoder.encode(rng.weighted([[3, rng.pick(STRINGS)], [2, rng.pick(ONNX_OP_TYPES)], [1, rng.pick(ONNX_DOMAINS)]])) };
    case 'bytes':
      return { ...field, wireType: WIRE.bytes, value: rng.chance(0.5) ? rng.bytes(rng.smallSize(64)) : encoder.encode(rng.pick(STRINGS)) };
    default:
      return field;
  }
}

/** Changes one field of a parsed message (`fields`, of message type `name`). */
function mutateMessageLevel(rng, fields, name) {
  const layout = ONNX_MESSAGES[name] ?? {};
  const numbers = Object.keys(layout).map(Number);
  const out = fields.slice();
  const action = rng.weighted([[5, 'value'], [2, 'add'], [2, 'drop'], [2, 'duplicate'], [1, 'wire-type'], [1, 'lying-length'], [1, 'unknown-field'], [1, 'swap']]);
  const index = out.length ? rng.below(out.length) : -1;
  switch (action) {
    case 'value': {
      if (index < 0) break;
      const kind = layout[out[index].number];
      if (kind && !kind.startsWith('msg:')) out[index] = mutateValueField(rng, out[index], kind);
      else out[index] = { number: out[index].number, wireType: WIRE.bytes, value: rng.bytes(rng.smallSize(32)) };
      break;
    }
    case 'add': {
      const number = numbers.length ? rng.pick(numbers) : 1;
      const kind = layout[number] ?? 'bytes';
      const field = kind.startsWith('msg:') ? { number, wireType: WIRE.bytes, value: new Uint8Array(0) } : mutateValueField(rng, { number }, kind);
      out.splice(rng.below(out.length + 1), 0, field);
      break;
    }
    case 'drop':
      if (index >= 0) out.splice(index, 1);
      break;
    case 'duplicate':
      if (index >= 0) for (let i = rng.range(1, rng.chance(0.1) ? 200 : 3); i > 0; i--) out.splice(index, 0, out[index]);
      break;
    case 'wire-type':
      if (index >= 0) {
        const wireType = rng.pick([WIRE.varint, WIRE.fixed64, WIRE.bytes, WIRE.fixed32]);
        const value = wireType === WIRE.bytes ? rng.bytes(rng.smallSize(8)) : wireType === WIRE.fixed32 ? rng.u32() : BigInt(rng.u32());
        out[index] = { number: out[index].number, wireType, value };
      }
      break;
    case 'lying-length':
      if (index >= 0 && out[index].wireType === WIRE.bytes) {
        const len = out[index].value.length;
        out[index] = { ...out[index], lengthOverride: rng.pick([len + 1, len + 1000, 2n ** 31n, 2n ** 63n, asInt64(-1n), Math.max(0, len - 1)]) };
        out.length = index + 1; // a lying length only makes sense at the end
      }
      break;
    case 'unknown-field':
      out.splice(rng.below(out.length + 1), 0, rng.chance(0.5)
        ? { number: rng.pick([99, 1000, 536870911, 19000]), wireType: WIRE.varint, value: 5n }
        : { number: rng.pick([99, 1000, 536870911, 19000]), wireType: WIRE.bytes, value: rng.bytes(4) });
      break;
    case 'swap':
      if (out.length > 1) {
        const j = rng.below(out.length);
        [out[index], out[j]] = [out[j], out[index]];
      }
      break;
  }
  return out;
}

/**
 * Mutates `bytes` (a message of type `name`): with probability `descend` goes into a random
 * sub-message of a known message type and mutates there, re-encoding the path back up.
 */
export function mutateProtobuf(rng, bytes, name, depth = 0) {
  const fields = parseFields(bytes);
  if (!fields) return undefined;
  const layout = ONNX_MESSAGES[name] ?? {};
  const children = fields.map((f, i) => [f, i]).filter(([f]) => f.wireType === WIRE.bytes && (layout[f.number] ?? '').startsWith('msg:'));
  if (children.length && depth < 12 && rng.chance(0.75)) {
    const [field, index] = rng.pick(children);
    const childName = layout[field.number].slice(4);
    const mutated = mutateProtobuf(rng, field.value, childName, depth + 1);
    if (mutated) {
      const out = fields.slice();
      out[index] = { ...field, value: mutated };
      return encodeFields(out);
    }
  }
  return encodeFields(mutateMessageLevel(rng, fields, name));
}

/** Applies 1–3 structure-aware mutations to a serialized message of type `name`. */
export function mutateOnnxStructure(rng, bytes, name = 'ModelProto') {
  let out = bytes;
  for (let i = rng.weighted([[6, 1], [3, 2], [1, 3]]); i > 0; i--) {
    const next = mutateProtobuf(rng, out, name);
    if (!next) break;
    out = next;
  }
  return out;
}
