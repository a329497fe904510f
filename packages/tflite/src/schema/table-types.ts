/** Scalar types of the TFLite schema, as the generated tables name them. */
export type FbsScalar = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

/** One field of an options table (generated from tflite.fbs into generated/schema-tables.ts). */
export type OptionsField =
  | { readonly name: string; readonly slot: number; readonly kind: 'scalar'; readonly scalar: FbsScalar; readonly default: number; readonly deprecated?: boolean }
  | { readonly name: string; readonly slot: number; readonly kind: 'enum'; readonly enum: string; readonly scalar: FbsScalar; readonly default: number; readonly deprecated?: boolean }
  | { readonly name: string; readonly slot: number; readonly kind: 'string'; readonly deprecated?: boolean }
  | { readonly name: string; readonly slot: number; readonly kind: 'vector'; readonly element: FbsScalar; readonly deprecated?: boolean }
  | { readonly name: string; readonly slot: number; readonly kind: 'unsupported'; readonly type: string; readonly deprecated?: boolean };

/** A BuiltinOperator: its code, and the options table it takes (in union 1 `builtin_options` or 2 `builtin_options_2`). */
export interface BuiltinOperatorInfo {
  readonly code: number;
  readonly options?: string;
  readonly union?: 1 | 2;
  readonly deprecated?: boolean;
}
