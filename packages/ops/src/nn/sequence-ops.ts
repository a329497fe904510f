/**
 * Sequences of tensors: SequenceEmpty, SequenceConstruct, SequenceAt, SequenceInsert, SequenceErase,
 * SequenceLength, SplitToSequence, ConcatFromSequence. A sequence is a `readonly Tensor[]` at run time.
 */
import { tensorType, type DType, type Node, type Tensor, type Type } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { concatTensors, splitTensor } from './slice-ops.js';
import { readInts } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputSequence, inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { normalizeAxis } from '../util/shape.js';
import { int64Tensor } from './kernel-helpers.js';

function sequenceOf(element: Type | undefined): Type | undefined {
  return element ? { kind: 'sequence', element } : undefined;
}

function elementOf(type: Type | undefined): Type | undefined {
  return type?.kind === 'sequence' ? type.element : undefined;
}

function position(node: Node, tensor: Tensor | undefined, length: number, inclusiveEnd: boolean): number {
  if (!tensor) return inclusiveEnd ? length : length - 1;
  const raw = readInts(tensor)[0]!;
  const p = raw < 0 ? raw + length : raw;
  if (p < 0 || p > (inclusiveEnd ? length : length - 1)) throw opError(node, `position ${raw} is out of range for a sequence of ${length}`);
  return p;
}

const ONNX_DTYPE_BY_CODE: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

export const sequenceEmptyOp = defineCanonicalOp({
  op: 'onnx.SequenceEmpty',
  summary: 'An empty sequence of tensors of a dtype (float32 by default)',
  inputs: [],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int', default: 1 } },
  inferTypes: (context) => [sequenceOf(tensorType(ONNX_DTYPE_BY_CODE[context.node.attr('dtype', 'int', 1)] ?? 'float32', null))],
  kernel: () => [[]],
});

export const sequenceConstructOp = defineCanonicalOp({
  op: 'onnx.SequenceConstruct',
  summary: 'A sequence of the input tensors',
  inputs: [{ name: 'inputs', variadic: true }],
  outputs: [{ name: 'output_sequence' }],
  inferTypes(context) {
    const first = inputTensorType(context, 0);
    const sameShape = context.node.inputs.every((_, i) => JSON.stringify(inputTensorType(context, i)?.shape) === JSON.stringify(first?.shape));
    return [sequenceOf(first ? tensorType(first.dtype, sameShape ? first.shape : null) : undefined)];
  },
  kernel: (inputs, { node }) => [inputs.map((_, i) => inputTensor(inputs, i, node))],
});

export const sequenceAtOp = defineCanonicalOp({
  op: 'onnx.SequenceAt',
  summary: 'The tensor at a (possibly negative) position of a sequence',
  inputs: [{ name: 'input_sequence' }, { name: 'position' }],
  outputs: [{ name: 'tensor' }],
  inferTypes: (context) => [elementOf(context.inputType(0))],
  kernel(inputs, { node }) {
    const sequence = inputSequence(inputs, 0, node);
    return [sequence[position(node, inputTensor(inputs, 1, node), sequence.length, false)]!];
  },
});

export const sequenceInsertOp = defineCanonicalOp({
  op: 'onnx.SequenceInsert',
  summary: 'A copy of the sequence with a tensor inserted at a position (the end by default)',
  inputs: [{ name: 'input_sequence' }, { name: 'tensor' }, { name: 'position', optional: true }],
  outputs: [{ name: 'output_sequence' }],
  inferTypes: (context) => [context.inputType(0)],
  kernel(inputs, { node }) {
    const sequence = [...inputSequence(inputs, 0, node)];
    sequence.splice(position(node, optionalInputTensor(inputs, 2, node), sequence.length, true), 0, inputTensor(inputs, 1, node));
    return [sequence];
  },
});

export const sequenceEraseOp = defineCanonicalOp({
  op: 'onnx.SequenceErase',
  summary: 'A copy of the sequence without the tensor at a position (the last by default)',
  inputs: [{ name: 'input_sequence' }, { name: 'position', optional: true }],
  outputs: [{ name: 'output_sequence' }],
  inferTypes: (context) => [context.inputType(0)],
  kernel(inputs, { node }) {
    const sequence = [...inputSequence(inputs, 0, node)];
    sequence.splice(position(node, optionalInputTensor(inputs, 1, node), sequence.length, false), 1);
    return [sequence];
  },
});

export const sequenceLengthOp = defineCanonicalOp({
  op: 'onnx.SequenceLength',
  summary: 'The number of tensors in a sequence, as an int64 scalar',
  inputs: [{ name: 'input_sequence' }],
  outputs: [{ name: 'length' }],
  inferTypes: () => [tensorType('int64', [])],
  kernel: (inputs, { node }) => [int64Tensor([], [inputSequence(inputs, 0, node).length])],
});

export const splitToSequenceOp = defineCanonicalOp({
  op: 'onnx.SplitToSequence',
  summary: 'Splits a tensor into a sequence (equal chunks of `split`, given sizes, or single slices)',
  inputs: [{ name: 'input' }, { name: 'split', optional: true }],
  outputs: [{ name: 'output_sequence' }],
  attributes: { axis: { kind: 'int', default: 0 }, keepdims: { kind: 'int', default: 1 } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    return [sequenceOf(type ? tensorType(type.dtype, null) : undefined)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const axis = normalizeAxis(node.attr('axis', 'int', 0), x.rank, node);
    const splitT = optionalInputTensor(inputs, 1, node);
    const dim = x.shape[axis]!;
    if (!splitT) {
      const parts = splitTensor(node, x, axis, new Array<number>(dim).fill(1));
      if (node.attr('keepdims', 'int', 1) === 1) return [parts];
      return [parts.map((p) => p.reshape(p.shape.filter((_, i) => i !== axis)))];
    }
    const split = readInts(splitT);
    if (splitT.rank === 0) {
      const chunk = split[0]!;
      const sizes = Array.from({ length: Math.ceil(dim / chunk) }, (_, i) => Math.min(chunk, dim - i * chunk));
      return [splitTensor(node, x, axis, sizes)];
    }
    return [splitTensor(node, x, axis, split)];
  },
});

export const concatFromSequenceOp = defineCanonicalOp({
  op: 'onnx.ConcatFromSequence',
  summary: 'Concatenates the tensors of a sequence along an axis (or stacks them on a new axis)',
  inputs: [{ name: 'input_sequence' }],
  outputs: [{ name: 'concat_result' }],
  attributes: { axis: { kind: 'int', required: true }, new_axis: { kind: 'int', default: 0 } },
  inferTypes(context) {
    const element = elementOf(context.inputType(0));
    return [element?.kind === 'tensor' ? tensorType(element.dtype, null) : undefined];
  },
  kernel(inputs, { node }) {
    const sequence = inputSequence(inputs, 0, node);
    if (sequence.length === 0) throw opError(node, 'cannot concatenate an empty sequence');
    const newAxis = node.attr('new_axis', 'int', 0) === 1;
    const rank = sequence[0]!.rank + (newAxis ? 1 : 0);
    const raw = node.attr('axis', 'int');
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= Math.max(rank, 1)) throw opError(node, `axis ${raw} is out of range for rank ${rank}`);
    const parts = newAxis ? sequence.map((t) => t.reshape([...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)])) : sequence;
    return [concatTensors(node, parts, axis)];
  },
});

export const sequenceOps = [
  sequenceEmptyOp,
  sequenceConstructOp,
  sequenceAtOp,
  sequenceInsertOp,
  sequenceEraseOp,
  sequenceLengthOp,
  splitToSequenceOp,
  concatFromSequenceOp,
];

