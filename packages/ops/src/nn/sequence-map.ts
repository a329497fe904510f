/**
 * SequenceMap: runs a body graph once per element of the input sequence. Additional inputs that are
 * sequences are walked in step (same length); tensors are passed whole to every call. Each body
 * output becomes one output sequence.
 */
import { Tensor, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type RuntimeValue } from '../op-definition.js';
import { opError } from '../util/kernel-io.js';

export const sequenceMapOp = defineCanonicalOp({
  op: 'onnx.SequenceMap',
  summary: 'Applies body to each element of a sequence (and of further sequences in step); outputs sequences',
  inputs: [{ name: 'input_sequence' }, { name: 'additional_inputs', variadic: true, minCount: 0 }],
  outputs: [{ name: 'out_sequence', variadic: true }],
  attributes: { body: { kind: 'graph', required: true } },
  inferTypes(context) {
    const body = context.node.attr('body', 'graph');
    return context.node.outputs.map((_, k): Type | undefined => {
      const element = body.outputs[k]?.type;
      return element && element.kind !== 'unknown' ? { kind: 'sequence', element } : undefined;
    });
  },
  kernel(inputs, context) {
    const { node } = context;
    const body = node.attr('body', 'graph');
    const sequence = inputs[0];
    if (!Array.isArray(sequence)) throw opError(node, 'input #0 must be a sequence of tensors');
    const length = sequence.length;
    inputs.forEach((value, i) => {
      if (Array.isArray(value) && value.length !== length) throw opError(node, `sequence input #${i} has ${value.length} elements`, { expected: `${length}, as input #0` });
      if (!Array.isArray(value) && !(value instanceof Tensor)) throw opError(node, `input #${i} must be a sequence or a tensor`, { actual: 'no value' });
    });
    if (body.inputs.length !== inputs.length) throw opError(node, `body takes ${body.inputs.length} inputs`, { expected: String(inputs.length) });
    const results: Tensor[][] = body.outputs.map(() => []);
    for (let i = 0; i < length; i++) {
      const args = inputs.map((value): RuntimeValue => (Array.isArray(value) ? (value as readonly Tensor[])[i]! : value));
      context.runSubgraph(body, args).forEach((value, k) => {
        if (!(value instanceof Tensor)) throw opError(node, `body output #${k} must be a tensor`);
        results[k]!.push(value);
      });
    }
    return results;
  },
});
