/** ArgMax/ArgMin, elementwise Max/Min and the IsNaN/IsInf predicates as `torch.*` calls. */
import type { OpEmitter } from './emit-context.js';

function argExtremum(call: 'argmax' | 'argmin'): OpEmitter {
  return (e, node) => {
    if (node.attr('select_last_index', 'int', 0) !== 0) e.fail(node, 'select_last_index=1 (torch returns the first index)');
    const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
    e.assign(node, `torch.${call}(${e.name(node.inputs[0] ?? null)}, ${node.attr('axis', 'int', 0)}, ${keep})`);
  };
}

/** Variadic ONNX Max/Min as a chain of torch.maximum/minimum. */
function elementwise(call: 'maximum' | 'minimum'): OpEmitter {
  return (e, node) => {
    const operands = node.inputs.map((value) => e.name(value ?? null));
    if (operands.length === 0) e.fail(node, 'no inputs');
    e.assign(node, operands.slice(1).reduce((acc, next) => `torch.${call}(${acc}, ${next})`, operands[0]!));
  };
}

export const reductionEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.ArgMax', argExtremum('argmax')],
  ['onnx.ArgMin', argExtremum('argmin')],
  ['onnx.Max', elementwise('maximum')],
  ['onnx.Min', elementwise('minimum')],
  ['onnx.IsNaN', (e, node) => e.assign(node, `torch.isnan(${e.name(node.inputs[0] ?? null)})`)],
  ['onnx.IsInf', (e, node) => {
    const negative = node.attr('detect_negative', 'int', 1) === 1;
    const positive = node.attr('detect_positive', 'int', 1) === 1;
    const x = e.name(node.inputs[0] ?? null);
    e.assign(node, negative && positive ? `torch.isinf(${x})` : negative ? `torch.isneginf(${x})` : positive ? `torch.isposinf(${x})` : `torch.zeros_like(${x}, dtype=11)`);
  }],
];
