import type { DType } from './dtype.js';

/**
 * A dimension: a static size, a symbolic name (`'N'`, `'batch'`), or `null` when unknown.
 */
export type Dim = number | string | null;

/**
 * Quantization as type information: `real = scale * (q - zeroPoint)`.
 * Per-tensor when `axis` is undefined (one scale and zero point), per-channel along `axis` otherwise.
 */
export interface QuantParams {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis?: number;
  /** Storage bit width (8 for int8/uint8, 4 for int4, ...). */
  readonly bits: number;
}

export interface TensorType {
  readonly kind: 'tensor';
  readonly dtype: DType;
  /** `null` means unranked. */
  readonly shape: readonly Dim[] | null;
  readonly quant?: QuantParams;
}

export interface SparseTensorType {
  readonly kind: 'sparse-tensor';
  readonly dtype: DType;
  readonly shape: readonly Dim[] | null;
}

export interface SequenceType {
  readonly kind: 'sequence';
  readonly element: Type;
}

export interface OptionalType {
  readonly kind: 'optional';
  readonly element: Type;
}

export interface MapType {
  readonly kind: 'map';
  readonly key: DType;
  readonly value: Type;
}

/** A value whose type nobody has inferred yet. */
export interface UnknownType {
  readonly kind: 'unknown';
}

export type Type = TensorType | SparseTensorType | SequenceType | OptionalType | MapType | UnknownType;

export const UNKNOWN_TYPE: UnknownType = Object.freeze({ kind: 'unknown' });

export function tensorType(dtype: DType, shape: readonly Dim[] | null, quant?: QuantParams): TensorType {
  return quant ? { kind: 'tensor', dtype, shape, quant } : { kind: 'tensor', dtype, shape };
}

/**
 * The type of the reals a quantized tensor stands for: float32 of the same shape (a `quant<>` type's
 * dtype is its storage integer type). Any other type is returned as is. An op that computes on a
 * quantized operand sees this type; DequantizeLinear and other integer readers see the storage type.
 */
export function expressedType(type: Type): Type {
  return type.kind === 'tensor' && type.quant ? tensorType('float32', type.shape) : type;
}

export function isTensorType(type: Type): type is TensorType {
  return type.kind === 'tensor';
}

/** True when every dimension is a known number. */
export function isStaticShape(shape: readonly Dim[] | null): shape is readonly number[] {
  return shape !== null && shape.every((dim) => typeof dim === 'number');
}

export function elementCount(shape: readonly number[]): number {
  // An indexed loop: shapes are mostly frozen arrays, whose iterator V8 runs on a slower path than their elements.
  let count = 1;
  for (let i = 0; i < shape.length; i++) count *= shape[i]!;
  return count;
}

function dimsEqual(a: readonly Dim[] | null, b: readonly Dim[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function quantEqual(a: QuantParams | undefined, b: QuantParams | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.bits === b.bits &&
    a.axis === b.axis &&
    a.scale.length === b.scale.length &&
    a.scale.every((s, i) => Object.is(s, b.scale[i])) &&
    a.zeroPoint.length === b.zeroPoint.length &&
    a.zeroPoint.every((z, i) => z === b.zeroPoint[i])
  );
}

export function typesEqual(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'unknown':
      return true;
    case 'tensor': {
      const other = b as TensorType;
      return a.dtype === other.dtype && dimsEqual(a.shape, other.shape) && quantEqual(a.quant, other.quant);
    }
    case 'sparse-tensor': {
      const other = b as SparseTensorType;
      return a.dtype === other.dtype && dimsEqual(a.shape, other.shape);
    }
    case 'sequence':
    case 'optional':
      return typesEqual(a.element, (b as SequenceType | OptionalType).element);
    case 'map': {
      const other = b as MapType;
      return a.key === other.key && typesEqual(a.value, other.value);
    }
  }
}

export function formatDim(dim: Dim): string {
  return dim === null ? '?' : String(dim);
}

/** A short human form, e.g. `float32[1,3,N,?]`, used in diagnostics. */
export function formatType(type: Type): string {
  switch (type.kind) {
    case 'unknown':
      return '?';
    case 'tensor':
    case 'sparse-tensor': {
      const prefix = type.kind === 'sparse-tensor' ? 'sparse ' : '';
      const dims = type.shape === null ? '[*]' : `[${type.shape.map(formatDim).join(',')}]`;
      return `${prefix}${type.dtype}${dims}`;
    }
    case 'sequence':
      return `seq<${formatType(type.element)}>`;
    case 'optional':
      return `optional<${formatType(type.element)}>`;
    case 'map':
      return `map<${type.key},${formatType(type.value)}>`;
  }
}
