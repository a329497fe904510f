import { attrs, Builder, isTensorType, Tensor, tensorType, type Node, type QuantParams, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

/**
 * An int8 (or uint8) embedding table read by Gather stays int8 in TFLite: GATHER of the int8 rows (TFLite's GATHER
 * runs on int8 and uint8, copying the codes), then DEQUANTIZE of those rows only — not a float32 table four times the
 * size. The two spellings a quantizer writes:
 *
 *   (a) Gather(q, ids) → DequantizeLinear(·, scale, zero point)   quantize-dynamic, quantize-weights{bits=8}, ORT's quantize_dynamic
 *   (b) DequantizeLinear(q, scale, zero point) → Gather(·, ids)   a QDQ table
 *
 * become the table as a quant<> constant and the Gather's result as a quant<> value, read by a DequantizeLinear that
 * lowers to DEQUANTIZE (`quantized/qdq-rules.ts`). Scales per tensor, or per axis along an axis the Gather keeps (the
 * embedding dim): TFLite 2.9's DEQUANTIZE dequantizes per channel (the quantization's `quantized_dimension`), equal to
 * ONNX Runtime. Scales per gathered row (the axis the Gather indexes) have no such spelling — the row's scale would
 * have to be gathered too —: (b) keeps the float32 table it computes; (a) is refused by its DequantizeLinear.
 */

/** A DequantizeLinear's constant scale and zero point as quant<> parameters for `dtype` codes, `axis` normalized for `rank`; undefined otherwise. */
function quantParamsOf(dq: Node, rank: number, dtype: string): QuantParams | undefined {
  if ((dq.optionalAttr('block_size', 'int') ?? 0) !== 0) return undefined;
  const scale = dq.inputs[1] ? constantOf(dq.inputs[1]) : undefined;
  const zeroPoint = dq.inputs[2] ? constantOf(dq.inputs[2]) : undefined;
  if (!scale || scale.dtype !== 'float32' || (dq.inputs[2] && (!zeroPoint || zeroPoint.dtype !== dtype))) return undefined;
  const scales = scale.toNumbers();
  const zeros = zeroPoint ? zeroPoint.toNumbers() : new Array<number>(scales.length).fill(0);
  if (scale.rank === 0 || (scale.rank === 1 && scale.size === 1)) return { scale: [scales[0]!], zeroPoint: [zeros[0]!], bits: 8 };
  if (scale.rank !== 1 || zeros.length !== scales.length) return undefined;
  const given = dq.optionalAttr('axis', 'int') ?? 1;
  const axis = given < 0 ? given + rank : given;
  return axis >= 0 && axis < rank ? { scale: scales, zeroPoint: zeros, axis, bits: 8 } : undefined;
}

/** `value`'s int8/uint8 codes typed with `quant`. */
function quantTyped(value: Value, quant: QuantParams): void {
  const type = value.type;
  if (isTensorType(type)) value.type = tensorType(type.dtype, type.shape, quant);
}

/** The rank of a value whose type says it, else undefined. */
function rankOf(value: Value | null | undefined): number | undefined {
  const type = value?.type;
  return type && isTensorType(type) && type.shape ? type.shape.length : undefined;
}

/** A plain Gather reading `value` as its data, its axis normalized. */
function gatherAxisReading(node: Node, value: Value): number | undefined {
  const rank = rankOf(value);
  if (node.op !== 'onnx.Gather' || node.inputs[0] !== value || node.inputs[1] === value || rank === undefined) return undefined;
  const axis = node.optionalAttr('axis', 'int') ?? 0;
  return axis < 0 ? axis + rank : axis;
}

/** The quant<> table constant for `codes` (a fresh constant: the integer one may have other readers). */
function quantTable(gather: Node, codes: Tensor, quant: QuantParams, name: string): Value {
  return gather.graph!.addConstant(gather.graph!.uniqueName(`${name}_quant`), codes.withQuant(quant));
}

/** Form (a) at its DequantizeLinear. */
function gatheredThenDequantized(dq: Node): boolean {
  const rows = dq.inputs[0];
  const gather = rows?.producer;
  const table = gather?.inputs[0];
  const codes = table ? constantOf(table) : undefined;
  if (!rows || !gather || !table || !codes || (codes.dtype !== 'int8' && codes.dtype !== 'uint8') || codes.quant) return false;
  const gatherAxis = gatherAxisReading(gather, table);
  const rank = rankOf(rows);
  const indicesRank = rankOf(gather.inputs[1]);
  if (gatherAxis === undefined || rank === undefined || indicesRank === undefined || rows.isGraphOutput) return false;
  const quant = quantParamsOf(dq, rank, codes.dtype);
  // Every reader of the rows must dequantize them the same way (they become reals of one quant<> type).
  if (!quant || !rows.users.every((user) => user.op === 'onnx.DequantizeLinear' && user.inputs[0] === rows && sameParams(quantParamsOf(user, rank, codes.dtype), quant))) return false;
  let tableQuant = quant;
  if (quant.axis !== undefined) {
    // The result's axes: the table's before the gathered one, the indices' dims, the table's after it.
    if (quant.axis >= gatherAxis && quant.axis < gatherAxis + indicesRank) return false;
    tableQuant = { ...quant, axis: quant.axis < gatherAxis ? quant.axis : quant.axis - indicesRank + 1 };
  }
  gather.setInput(0, quantTable(gather, codes, tableQuant, table.name));
  quantTyped(rows, quant);
  return true;
}

function sameParams(a: QuantParams | undefined, b: QuantParams): boolean {
  if (!a || a.axis !== b.axis || a.scale.length !== b.scale.length) return false;
  return a.scale.every((s, i) => Math.fround(s) === Math.fround(b.scale[i]!)) && a.zeroPoint.every((z, i) => z === b.zeroPoint[i]);
}

/** Form (b) at its DequantizeLinear: every reader a Gather along an axis the scales do not run along. */
function dequantizedThenGathered(dq: Node): boolean {
  const codes = dq.inputs[0] ? constantOf(dq.inputs[0]) : undefined;
  const reals = dq.outputs[0];
  const rank = codes?.rank;
  if (!codes || !reals || rank === undefined || (codes.dtype !== 'int8' && codes.dtype !== 'uint8') || codes.quant || reals.isGraphOutput || !reals.hasUses) return false;
  const quant = quantParamsOf(dq, rank, codes.dtype);
  if (!quant) return false;
  const gathers = reals.users.map((user) => ({ user, axis: gatherAxisReading(user, reals), indicesRank: rankOf(user.inputs[1]) }));
  if (!gathers.every(({ axis, indicesRank }) => axis !== undefined && indicesRank !== undefined && axis !== quant.axis)) return false;
  const table = quantTable(dq, codes, quant, dq.inputs[0]!.name);
  for (const { user, axis, indicesRank } of gathers) {
    const rows = user.outputs[0]!;
    const rowsQuant = quant.axis === undefined || quant.axis < axis! ? quant : { ...quant, axis: quant.axis + indicesRank! - 1 };
    const shape = isTensorType(rows.type) ? rows.type.shape : null;
    const at = Builder.before(user);
    const codesRows = at.op1('onnx.Gather', [table, user.input(1)], { axis: attrs.int(axis!) }, { types: [tensorType(codes.dtype, shape, rowsQuant)], name: `${user.name}_int8` });
    const operands = [codesRows, dq.input(1), ...(dq.inputs[2] ? [dq.input(2)] : [])];
    const dequantized = at.op1('onnx.DequantizeLinear', operands, rowsQuant.axis === undefined ? {} : { axis: attrs.int(rowsQuant.axis) }, { types: [rows.type], name: `${user.name}_dequantize` });
    rows.replaceAllUsesWith(dequantized);
    user.erase();
  }
  dq.erase();
  return true;
}

/** Rewrites the int8 table Gather around DequantizeLinear `dq` (forms (a) and (b) above); true when done. */
export function int8TableGather(dq: Node): boolean {
  if (dq.op !== 'onnx.DequantizeLinear') return false;
  return dq.inputs[0]?.isConstant ? dequantizedThenGathered(dq) : gatheredThenDequantized(dq);
}
