import { Builder, type Node, type Tensor, type Value } from '@modelpass/ir';
import { constantOf, intsOf, shapeOf } from '../util/constants.js';
import { invertPermutation, transposeTensor, type Permutation } from './permutation.js';

/**
 * Whether Flatten(Transpose(a, perm)) = Flatten(a) (batch axis first): the dims of more than one
 * element keep their order under `perm`, so no feature moves (e.g. only size-1 dims moved).
 */
function flattenKeepsOrder(dims: readonly number[], perm: Permutation): boolean {
  if (dims.slice(1).some((d) => d === 0)) return true;
  let last = -1;
  for (let i = 1; i < perm.length; i++) {
    const axis = perm[i]!;
    if (dims[axis] === 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

/**
 * The weight with its input features in `a`'s order, as a transpose of the weight viewed with the
 * transposed feature dims (`transposed`, axis 0 of `perm` being the batch): a batched matrix
 * transpose, which stays lazy for a weight still in its file (the writer moves the data as it
 * streams it) instead of a gather of every column in memory.
 */
function weightInSourceOrder(weight: Tensor, featureAxis: number, transposed: readonly number[], perm: Permutation): Tensor {
  const featureOrder = invertPermutation(perm).slice(1).map((axis) => axis - 1);
  const other = weight.shape[1 - featureAxis]!;
  // Per-channel parameters sit on the other axis, which keeps its place: set aside while the features move.
  const plain = weight.withQuant(undefined);
  const view = featureAxis === 1 ? plain.reshape([other, ...transposed]) : plain.reshape([...transposed, other]);
  const order = featureAxis === 1 ? [0, ...featureOrder.map((axis) => axis + 1)] : [...featureOrder, transposed.length];
  return transposeTensor(view, order).reshape(weight.shape).withQuant(weight.quant);
}

/** Whether `node` flattens its input to `[batch, rest]` the way Flatten(axis=1) does. */
function flattensFromAxisOne(node: Node, batch: number | string | null, features: number): boolean {
  if (node.op === 'onnx.Flatten') return (node.optionalAttr('axis', 'int') ?? 1) === 1;
  if (node.op !== 'onnx.Reshape' || (node.optionalAttr('allowzero', 'int') ?? 0) !== 0) return false;
  const shape = intsOf(node.inputs[1]);
  if (!shape || shape.length !== 2) return false;
  const [first, second] = shape as [number, number];
  const firstIsBatch = first === 0 || (typeof batch === 'number' && first === batch) || (first === -1 && second === features);
  return firstIsBatch && (second === -1 || second === features);
}

/** The weight operand of a Gemm/MatMul reading `value` as its left input, and the axis of its input features. */
function weightReading(user: Node, value: Value): { index: number; axis: number } | undefined {
  if (user.inputs[0] !== value || user.inputs[1] === value) return undefined;
  const weight = constantOf(user.inputs[1]);
  if (!weight || weight.rank !== 2 || user.inputs[1]!.isGraphInput) return undefined;
  if (user.op === 'onnx.MatMul') return { index: 1, axis: 0 };
  if (user.op === 'onnx.Gemm' && (user.optionalAttr('transA', 'int') ?? 0) === 0) return { index: 1, axis: (user.optionalAttr('transB', 'int') ?? 0) === 1 ? 1 : 0 };
  return undefined;
}

/**
 * `Gemm(Flatten(Transpose(a, perm)), W)` = `Gemm(Flatten(a), W')` where W' has its input-feature
 * rows (or columns) in `a`'s order: the transpose before a classifier head disappears into the
 * weights (how an NHWC feature map feeds a fully connected layer trained on NCHW). Needs the
 * batch axis to stay first and the other dims of `a` static; every reader of the Flatten must be
 * a Gemm/MatMul with constant weights.
 */
export function absorbTransposeIntoFlatten(transpose: Node, perm: Permutation, counts: { absorbed: number }, debug: (message: string) => void): boolean {
  const output = transpose.outputs[0];
  const source = transpose.inputs[0];
  if (!output || !source || perm[0] !== 0 || output.isGraphOutput || !output.hasUses) return false;
  const dims = shapeOf(source);
  if (!dims || dims.length !== perm.length || !dims.slice(1).every((d) => typeof d === 'number')) return false;
  const features = (dims.slice(1) as number[]).reduce((n, d) => n * d, 1);
  const flattens = output.users;
  for (const flatten of flattens) {
    if (!flattensFromAxisOne(flatten, dims[0]!, features) || flatten.inputs[0] !== output) return false;
    const flat = flatten.outputs[0];
    if (!flat || flat.isGraphOutput || !flat.hasUses) return false;
    if (!flat.users.every((user) => weightReading(user, flat) !== undefined)) {
      debug(`sink-transposes: transpose '${transpose.name}' stays: '${flatten.name}' feeds something other than a Gemm/MatMul with constant weights`);
      return false;
    }
  }
  for (const flatten of flattens) {
    const flat = flatten.outputs[0]!;
    for (const user of flat.users) {
      const reading = weightReading(user, flat)!;
      const weight = constantOf(user.inputs[reading.index])!;
      if (weight.shape[reading.axis] !== features) return false;
    }
  }
  const identity = flattenKeepsOrder(dims.map((d) => (typeof d === 'number' ? d : 1)), perm);
  const transposedDims = perm.slice(1).map((axis) => dims[axis] as number);
  for (const flatten of flattens) {
    const flat = flatten.outputs[0]!;
    // Only size-1 dims moved (a global pool before the head): the weights stay as they are.
    if (!identity) {
      for (const user of flat.users) {
        const reading = weightReading(user, flat)!;
        const weightValue = user.inputs[reading.index]!;
        const permuted = weightInSourceOrder(constantOf(weightValue)!, reading.axis, transposedDims, perm);
        user.setInput(reading.index, Builder.before(user).constant(permuted, `${weightValue.name}_permuted`));
      }
    }
    flatten.setInput(0, source);
  }
  counts.absorbed++;
  return true;
}
