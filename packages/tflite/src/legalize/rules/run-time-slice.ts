/**
 * Slice whose starts/ends are run-time values (a loop body slicing at its iteration number, as
 * ONNX's test_loop11 does) → one SLICE with begin and size computed at run time, ONNX's way:
 * a negative start/end counts from the end of the axis, both are clamped to [0, dim], and the size
 * is max(end − start, 0). Axes and steps must be constants, steps 1, the input's shape static. The
 * output's length is data-dependent: its bound (META_SHAPE_BOUND) is the input's shape.
 */
import { isTensorType, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { META_SHAPE_BOUND } from '../../io/metadata-keys.js';
import { numbersOf } from '../constant-values.js';
import type { LoweringContext } from '../lowering-rule.js';
import { loweringError, normalizeAxis, replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

const POSITION_DTYPES = ['int32', 'int64'];

function listedAxes(node: Node, rank: number, count: number): number[] | string {
  const given = node.inputs[3] ? numbersOf(node.inputs[3]) : Array.from({ length: count }, (_, i) => i);
  if (!given) return 'a Slice with run-time starts/ends needs constant axes';
  const axes = given.map((axis) => normalizeAxis(axis, rank));
  if (axes.some((axis) => axis === undefined)) return `Slice axes ${given.join(',')} are out of range`;
  if (new Set(axes).size !== axes.length) return 'Slice axes repeat';
  return axes as number[];
}

/** Why this run-time Slice cannot be lowered, or undefined. */
export function runTimeSliceProblem(node: Node): string | undefined {
  const dims = staticDims(node.inputs[0]);
  if (!dims) return 'a Slice with run-time starts/ends needs a static input shape';
  if (dims.length < 1 || dims.length > 5) return 'TFLite 2.9 SLICE takes inputs of rank 1 to 5';
  const starts = staticDims(node.inputs[1]);
  const ends = staticDims(node.inputs[2]);
  if (!starts || !ends || starts.length !== 1 || ends.length !== 1 || starts[0] !== ends[0]) return 'Slice starts and ends must be 1-D of one static length';
  for (const index of [1, 2]) if (!POSITION_DTYPES.includes(tensorTypeOf(node.inputs[index])?.dtype ?? '')) return 'Slice starts and ends must be int32 or int64';
  const axes = listedAxes(node, dims.length, starts[0]!);
  if (typeof axes === 'string') return axes;
  if (axes.length !== starts[0]) return 'Slice axes and starts differ in length';
  const steps = node.inputs[4] ? numbersOf(node.inputs[4]) : undefined;
  if (node.inputs[4] && (!steps || steps.some((step) => step !== 1))) return 'a Slice with run-time starts/ends is lowered with steps of 1 only (constant)';
  return undefined;
}

/** Lowers a run-time Slice (`runTimeSliceProblem` said yes) to SLICE. */
export function lowerRunTimeSlice(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const dims = staticDims(node.inputs[0])!;
  const rank = dims.length;
  const count = staticDims(node.inputs[1])![0]!;
  // Checked before lowering began, but an earlier node's lowering can turn the axes' producer into a
  // tflite op that no longer reads as a constant (a shared Reshape of a constant): refuse, naming the node.
  const listed = listedAxes(node, rank, count);
  if (typeof listed === 'string') throw loweringError(node, `${listed} (its axes input '${node.inputs[3]?.name ?? ''}' is no longer a constant once the nodes before it are lowered)`);
  const axes = listed;
  const vector = tensorType('int64', [count]);
  const flags = tensorType('bool', [count]);
  const asInt64 = (value: Value): Value => (tensorTypeOf(value)?.dtype === 'int64' ? value : emit.op1('CAST', [value], {}, vector));
  const axisDims = emit.constant(Tensor.fromValues('int64', [count], axes.map((axis) => BigInt(dims[axis]!))), 'axis_dims');
  const zero = emit.constant(Tensor.fromValues('int64', [1], [0n]), 'zero');
  // ONNX: a negative position counts from the end; then clamped to [0, dim].
  const position = (value: Value): Value => {
    const raw = asInt64(value);
    const fromEnd = emit.op1('ADD', [raw, axisDims], { fused_activation_function: 'NONE' }, vector);
    const negative = emit.op1('LESS', [raw, zero], {}, flags);
    const absolute = emit.op1('SELECT_V2', [negative, fromEnd, raw], {}, vector);
    return emit.op1('MINIMUM', [emit.op1('MAXIMUM', [absolute, zero], {}, vector), axisDims], {}, vector);
  };
  const begin = position(node.input(1));
  const end = position(node.input(2));
  const size = emit.op1('MAXIMUM', [emit.op1('SUB', [end, begin], { fused_activation_function: 'NONE' }, vector), zero], {}, vector);
  // Full-rank begin and size: the listed axes' values, 0 and the whole dim elsewhere (GATHER from [values…, defaults…]).
  const fullRank = (values: Value, defaults: readonly number[], name: string): Value => {
    const pool = emit.op1('CONCATENATION', [emit.op1('CAST', [values], {}, tensorType('int32', [count])), emit.int32(defaults, [rank], `${name}_defaults`)], { axis: 0, fused_activation_function: 'NONE' }, tensorType('int32', [count + rank]));
    const picks = Array.from({ length: rank }, (_, d) => (axes.includes(d) ? axes.indexOf(d) : count + d));
    return emit.op1('GATHER', [pool, emit.int32(picks, [rank], `${name}_picks`)], { axis: 0, batch_dims: 0 }, tensorType('int32', [rank]));
  };
  const output = node.output(0);
  const type = isTensorType(output.type) && output.type.shape && output.type.shape.length === rank ? output.type : tensorType(tensorTypeOf(node.inputs[0])!.dtype, dims.map((d, i) => (axes.includes(i) ? `${node.name}_d${i}` : d)));
  const sliced = emit.op1('SLICE', [node.input(0), fullRank(begin, new Array<number>(rank).fill(0), 'begin'), fullRank(size, dims, 'size')], {}, type);
  if (!staticDims(sliced)) sliced.metadata.set(META_SHAPE_BOUND, dims.join(','));
  replaceNode(node, [sliced]);
}
