import { tensorType } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, tensorTypeName, TfliteEmitter } from '../lowering-tools.js';

/**
 * An `onnx.Constant` that is a graph output (the preparation turns the others into initializers;
 * fold-shapes leaves a Size or Shape of static dims this way): a RESHAPE copy of the constant, since
 * a TFLite output must be produced by an operator.
 */
const constantOutput: LoweringRule = {
  ops: ['onnx.Constant'],
  stage: 'lower',
  targets: ['RESHAPE'],
  check(node) {
    const value = node.getAttribute('value');
    if (value?.kind !== 'tensor') return 'only a Constant with a tensor `value` reaches the lowering as an op (the others become initializers)';
    const dtype = value.value.dtype;
    if (dtype === 'string' || !tensorTypeName(dtype)) return `a constant of dtype ${dtype} has no TFLite tensor type here`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const tensor = node.attr('value', 'tensor');
    const y = emit.op1('RESHAPE', [emit.constant(tensor, 'value'), emit.int32([...tensor.shape], [tensor.rank], 'shape')], {}, tensorType(tensor.dtype, tensor.shape));
    replaceNode(node, [y]);
  },
};

export const constantOutputRules: readonly LoweringRule[] = [constantOutput];
