/**
 * Optionals: Optional, OptionalHasElement, OptionalGetElement. At run time an empty optional is
 * `null` and a full one is its element (a tensor or a sequence).
 */
import { Tensor, tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { opError } from '../util/kernel-io.js';

export const optionalOp = defineCanonicalOp({
  op: 'onnx.Optional',
  summary: 'An optional holding the input, or an empty optional of the given type',
  inputs: [{ name: 'input', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: { type: { kind: 'type' } },
  inferTypes(context) {
    const element = context.node.inputs[0] ? context.inputType(0) : context.node.optionalAttr('type', 'type');
    return [element && element.kind !== 'unknown' ? { kind: 'optional', element } : undefined];
  },
  kernel: (inputs) => [inputs[0] ?? null],
});

export const optionalHasElementOp = defineCanonicalOp({
  op: 'onnx.OptionalHasElement',
  summary: 'Whether an optional (or an omitted input) holds a value, as a bool scalar',
  inputs: [{ name: 'input', optional: true }],
  outputs: [{ name: 'output' }],
  inferTypes: () => [tensorType('bool', [])],
  kernel: (inputs) => [Tensor.scalar('bool', inputs[0] !== null && inputs[0] !== undefined)],
});

export const optionalGetElementOp = defineCanonicalOp({
  op: 'onnx.OptionalGetElement',
  summary: 'The value inside an optional (a plain tensor or sequence passes through)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  inferTypes(context) {
    const type = context.inputType(0);
    return [type?.kind === 'optional' ? type.element : type];
  },
  kernel(inputs, { node }) {
    const value = inputs[0];
    if (value === null || value === undefined) throw opError(node, 'the optional is empty');
    return [value];
  },
});

export const optionalOps = [optionalOp, optionalHasElementOp, optionalGetElementOp];
