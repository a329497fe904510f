import type { FlatBuilder } from './flat-builder.js';
import type { FbsScalar } from '../schema/table-types.js';

const SIZES: Readonly<Record<FbsScalar, number>> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

/** A vector of scalars of one schema type (the generated helpers exist per field; this one serves every table). */
export function scalarVector(builder: FlatBuilder, kind: FbsScalar, values: readonly number[]): number {
  const size = SIZES[kind];
  builder.startVector(size, values.length, size);
  for (let i = values.length - 1; i >= 0; i--) addScalar(builder, kind, values[i]!);
  return builder.endVector();
}

export function addScalar(builder: FlatBuilder, kind: FbsScalar, value: number): void {
  switch (kind) {
    case 'bool':
    case 'int8':
    case 'uint8':
      builder.addInt8(value);
      break;
    case 'int16':
    case 'uint16':
      builder.addInt16(value);
      break;
    case 'int32':
    case 'uint32':
      builder.addInt32(value | 0);
      break;
    case 'int64':
    case 'uint64':
      builder.addInt64(BigInt(value));
      break;
    case 'float32':
      builder.addFloat32(value);
      break;
    case 'float64':
      builder.addFloat64(value);
      break;
  }
}

/** A vector of table offsets (a table's vector of tables): the bytes of flatc's `create<Field>Vector` for them. */
export function offsetVector(builder: FlatBuilder, offsets: readonly number[]): number {
  return builder.offsetVector(offsets);
}

/** A vector of float32 (quantization scales), as flatc's `create<Field>Vector` writes it. */
export function float32Vector(builder: FlatBuilder, values: ArrayLike<number>): number {
  builder.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) builder.addFloat32(values[i]!);
  return builder.endVector();
}

/** A vector of int64 (quantization zero points), as flatc's `create<Field>Vector` writes it. */
export function int64Vector(builder: FlatBuilder, values: readonly number[]): number {
  builder.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) builder.addInt64(BigInt(values[i]!));
  return builder.endVector();
}

/** A table field of scalar type `kind` at `slot` (skipped when it equals the default). */
export function addScalarField(builder: FlatBuilder, kind: FbsScalar, slot: number, value: number, fallback: number): void {
  switch (kind) {
    case 'bool':
    case 'int8':
    case 'uint8':
      builder.addFieldInt8(slot, value, fallback);
      break;
    case 'int16':
    case 'uint16':
      builder.addFieldInt16(slot, value, fallback);
      break;
    case 'int32':
    case 'uint32':
      builder.addFieldInt32(slot, value | 0, fallback | 0);
      break;
    case 'int64':
    case 'uint64':
      builder.addFieldInt64(slot, BigInt(value), BigInt(fallback));
      break;
    case 'float32':
      builder.addFieldFloat32(slot, value, fallback);
      break;
    case 'float64':
      builder.addFieldFloat64(slot, value, fallback);
      break;
  }
}

/** A byte vector whose first byte is 16-byte aligned in the finished file (TFLite's `force_align: 16`). */
export function alignedByteVector(builder: FlatBuilder, bytes: Uint8Array): number {
  // prep(16, n) pads so that after n more bytes the offset from the buffer's end is a multiple of 16;
  // the finished buffer's size is a multiple of its largest alignment, so the start is aligned too.
  builder.prep(16, bytes.byteLength);
  return builder.createByteVector(bytes);
}
