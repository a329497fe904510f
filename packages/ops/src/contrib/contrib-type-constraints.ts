/**
 * Type constraints of the ONNX Runtime contrib ops (domain `com.microsoft`) that modelpass's passes
 * write, in the same form as the generated ONNX table (`../verify/generated/`), transcribed from
 * ONNX Runtime's `docs/ContribOperators.md` (each op is version 1 of the `com.microsoft` opset).
 * Params read `name[?*+]:Var` (`?` optional, `+` heterogeneous variadic); constraints index `sets`.
 */
import type { OnnxSignatureTable } from '../verify/type-signature.js';
import { TypeSignatures } from '../verify/type-signature.js';

const FLOAT = 0; // tensor(float)
const INT8_OR_UINT8 = 1;
const INT32 = 2;
const FLOAT16_OR_FLOAT = 3;
const FLOATS = 4; // float, float16, bfloat16
const UINT8 = 5;
const UINT8_OR_FLOATS = 6;
const FLOAT_OR_8BIT = 7;
const PACKED_CODES = 8; // int4, uint4, uint8
const INT32_OR_INT64 = 9;

/** Unary QLinear ops: X, X_scale, X_zero_point?, Y_scale, Y_zero_point? → Y (all 8-bit T). */
const unaryQLinear = (yZeroOptional: boolean, xZeroOptional = true) =>
  [[1, ['X:T', 'X_scale:tensor(float)', `X_zero_point${xZeroOptional ? '?' : ''}:T`, 'Y_scale:tensor(float)', `Y_zero_point${yZeroOptional ? '?' : ''}:T`], ['Y:T'], { T: INT8_OR_UINT8, 'tensor(float)': FLOAT }]] as const;

const binaryQLinear = [
  [
    1,
    ['A:T', 'A_scale:tensor(float)', 'A_zero_point?:T', 'B:T', 'B_scale:tensor(float)', 'B_zero_point?:T', 'C_scale:tensor(float)', 'C_zero_point?:T'],
    ['C:T'],
    { T: INT8_OR_UINT8, 'tensor(float)': FLOAT },
  ],
] as const;

export const CONTRIB_TYPE_SIGNATURES: OnnxSignatureTable = {
  sets: ['float32', 'int8 uint8', 'int32', 'float16 float32', 'bfloat16 float16 float32', 'uint8', 'bfloat16 float16 float32 uint8', 'float32 int8 uint8', 'int4 uint4 uint8', 'int32 int64'],
  completeThrough: 1,
  MatMulNBits: [[1, ['A:T1', 'B:T2', 'scales:T1', 'zero_points?:T3', 'g_idx?:T4', 'bias?:T1'], ['Y:T1'], { T1: FLOATS, T2: UINT8, T3: UINT8_OR_FLOATS, T4: INT32 }]],
  GatherBlockQuantized: [[1, ['data:T1', 'indices:Tind', 'scales:T2', 'zero_points?:T1'], ['output:T2'], { T1: PACKED_CODES, T2: FLOATS, Tind: INT32_OR_INT64 }]],
  MatMulIntegerToFloat: [
    [1, ['A:T1', 'B:T2', 'a_scale:T3', 'b_scale:T3', 'a_zero_point?:T1', 'b_zero_point?:T2', 'bias?:T3'], ['Y:T3'], { T1: INT8_OR_UINT8, T2: INT8_OR_UINT8, T3: FLOAT16_OR_FLOAT }],
  ],
  DynamicQuantizeMatMul: [[1, ['A:T1', 'B:T2', 'b_scale:T1', 'b_zero_point?:T2', 'bias?:T1'], ['Y:T1'], { T1: FLOAT, T2: INT8_OR_UINT8 }]],
  QGemm: [
    [
      1,
      ['A:TA', 'a_scale:T', 'a_zero_point:TA', 'B:TB', 'b_scale:T', 'b_zero_point:TB', 'C?:TC', 'y_scale?:T', 'y_zero_point?:TYZ'],
      ['Y:TY'],
      { T: FLOAT, TA: INT8_OR_UINT8, TB: INT8_OR_UINT8, TC: INT32, TYZ: INT8_OR_UINT8, TY: FLOAT_OR_8BIT },
    ],
  ],
  QLinearAdd: binaryQLinear,
  QLinearMul: binaryQLinear,
  QLinearAveragePool: unaryQLinear(true),
  QLinearGlobalAveragePool: unaryQLinear(false, false),
  QLinearLeakyRelu: unaryQLinear(true),
  QLinearSigmoid: unaryQLinear(true),
  QLinearSoftmax: unaryQLinear(false),
  QLinearConcat: [[1, ['Y_scale:TF', 'Y_zero_point:T8', 'inputs+:TV'], ['Y:T8'], { TF: FLOAT, T8: INT8_OR_UINT8, TV: FLOAT_OR_8BIT }]],
};

/** The contrib table, decoded lazily per op. */
export const contribTypeSignatures = new TypeSignatures(CONTRIB_TYPE_SIGNATURES);
