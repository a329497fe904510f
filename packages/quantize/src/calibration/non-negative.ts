/**
 * Which values are ≥ 0 (or NaN) by the ops that make them, so that the in-graph histogram can take
 * Cast's truncation as its floor and skip the Floor pass over every element (`StatisticsGraph`).
 * A value is non-negative when its producer always makes non-negative values (Relu, Sigmoid, …),
 * or keeps the sign of its inputs (pooling, reshaping, Add/Mul/Concat/Max/Min of non-negative
 * inputs). -0 counts as non-negative: trunc(-0) = floor(-0) = 0. A NaN or ±Infinity produced anyway
 * has its part read again from the values (the summary's sum is not finite), as everywhere.
 */
import type { Value } from '@modelpass/ir';

/** Ops whose first output is ≥ 0 (or NaN) whatever their inputs. */
const ALWAYS_NON_NEGATIVE = new Set(['onnx.Relu', 'onnx.Sigmoid', 'onnx.Softmax', 'onnx.Abs', 'onnx.Exp', 'onnx.HardSigmoid', 'onnx.Softplus', 'onnx.ReduceL1', 'onnx.ReduceL2', 'onnx.ReduceSumSquare']);
/** Ops whose first output is ≥ 0 when their first (data) input is: values are moved, averaged or maxed, never negated. */
const KEEPS_FIRST_INPUT_SIGN = new Set([
  'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.GlobalMaxPool', 'onnx.Reshape', 'onnx.Flatten', 'onnx.Transpose',
  'onnx.Squeeze', 'onnx.Unsqueeze', 'onnx.Identity', 'onnx.Slice', 'onnx.Gather', 'onnx.ReduceMax', 'onnx.ReduceMin', 'onnx.ReduceMean', 'onnx.ReduceSum',
  'onnx.DepthToSpace', 'onnx.SpaceToDepth', 'onnx.Expand', 'onnx.Tile',
]);
/** Ops whose output is ≥ 0 when every input is. */
const KEEPS_ALL_INPUTS_SIGN = new Set(['onnx.Add', 'onnx.Mul', 'onnx.Concat', 'onnx.Max', 'onnx.Min', 'onnx.Sum', 'onnx.Mean']);

/** Whether every value of `value` is ≥ 0 or NaN by the ops that produce it (`depth` bounds the walk up the graph). */
export function nonNegative(value: Value, depth = 16): boolean {
  const producer = value.producer;
  if (!producer || depth === 0 || producer.outputs[0] !== value) return false;
  if (ALWAYS_NON_NEGATIVE.has(producer.op)) return true;
  if (KEEPS_FIRST_INPUT_SIGN.has(producer.op)) {
    const data = producer.inputs[0];
    return data !== undefined && data !== null && nonNegative(data, depth - 1);
  }
  if (KEEPS_ALL_INPUTS_SIGN.has(producer.op)) {
    const inputs = producer.inputs.filter((input): input is Value => input !== undefined && input !== null);
    return inputs.length > 0 && inputs.every((input) => nonNegative(input, depth - 1));
  }
  return false;
}
