import { attrs, Builder, GraphBuilder, Tensor, type Attribute, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { dimsOf, loweringError, replaceNode, typeWithShape } from '../lowering-tools.js';
import { convRules } from './conv.js';
import { mergedRowsConv } from './conv1d-merged-rows.js';
import { poolRules } from './pool.js';

/**
 * 1-D Conv/MaxPool/AveragePool (`[N, C, L]`) as their 2-D form with a unit height: Unsqueeze to
 * `[N, C, 1, L]`, the 2-D rule, Squeeze back. The Unsqueeze/Squeeze are canonical ops, so the sinking
 * moves the layout transposes through them and a chain of 1-D convolutions keeps none inside.
 * A 1-D Conv over an image with its channels and rows merged by a Reshape is a 2-D Conv over the image
 * as tall as it (`mergedRowsConv`), so no transpose regroups an NHWC image for it.
 * Rank-4 nodes go to the 2-D rule unchanged.
 */

const WINDOW_ATTRIBUTES = ['kernel_shape', 'strides', 'dilations'];

/** The attributes of the 2-D form: a unit first spatial dim (kernel 1, stride 1, dilation 1, pads 0). */
function liftedAttributes(node: Node): Record<string, Attribute> {
  const lifted: Record<string, Attribute> = {};
  for (const [name, attribute] of node.attributes) {
    if (WINDOW_ATTRIBUTES.includes(name) && attribute.kind === 'ints') lifted[name] = attrs.ints([1, ...attribute.value]);
    else if (name === 'pads' && attribute.kind === 'ints') lifted[name] = attrs.ints([0, attribute.value[0]!, 0, attribute.value[1]!]);
    else lifted[name] = attribute;
  }
  return lifted;
}

/** Inserts a unit dim at axis 2 of a dims list. */
function withUnit<T>(dims: readonly T[], unit: T): T[] {
  return [...dims.slice(0, 2), unit, ...dims.slice(2)];
}

/** Builds the 2-D node on 4-D operands (x lifted, weights reshaped), in the model or in a scratch graph. */
function buildLifted(at: Builder | GraphBuilder, node: Node, operands: (Value | null)[]): Node {
  const outType = typeWithShape(node.output(0).type, withUnit(dimsOf(node.outputs[0])!, 1 as number | string | null));
  if (at instanceof Builder) return at.create(node.op, operands, liftedAttributes(node), { types: [outType], name: node.name });
  return at.op(node.op, operands, liftedAttributes(node), { types: [outType], name: node.name })[0]!.producer!;
}

function liftedWeights(node: Node, add: (tensor: Tensor, name: string) => Value): (Value | null)[] {
  return node.inputs.slice(1).map((input, k) => {
    if (!input) return null;
    const tensor = constantOf(input);
    if (!tensor) return null;
    return k === 0 && node.op === 'onnx.Conv' ? add(tensor.reshape(withUnit(tensor.shape, 1)), 'weight_2d') : add(tensor, `operand_${k + 1}`);
  });
}

function withUnitDim(rule: LoweringRule): LoweringRule {
  return {
    ops: rule.ops.filter((op) => op !== 'onnx.ConvTranspose'),
    stage: rule.stage,
    targets: [...rule.targets, 'RESHAPE'],
    check(node, context) {
      const dims = dimsOf(node.inputs[0]);
      if (dims?.length !== 3) return rule.check(node, context);
      if (node.outputs[1]?.hasUses) return 'MaxPool indices output is not supported';
      if (!dimsOf(node.outputs[0])) return 'needs the output shape (run shape inference first)';
      for (const input of node.inputs.slice(1)) if (input && !constantOf(input)) return 'the weights and bias of a 1-D convolution must be constants';
      // The 2-D rule judges the lifted node, built in a scratch graph (the model is not touched).
      const scratch = new GraphBuilder();
      const x = scratch.input('x', typeWithShape(node.input(0).type, withUnit(dims, 1 as number | string | null)));
      const lifted = buildLifted(scratch, node, [x, ...liftedWeights(node, (tensor, name) => scratch.constant(tensor, name))]);
      return rule.check(lifted, context);
    },
    lower(node: Node, context: LoweringContext) {
      const dims = dimsOf(node.inputs[0]);
      if (dims?.length !== 3) return rule.lower(node, context);
      const rows = node.op === 'onnx.Conv' ? mergedRowsConv(node, context) : undefined;
      if (rows && rule.check(rows.conv2d, context) === undefined) {
        rows.commit();
        rule.lower(rows.conv2d, context);
        return;
      }
      rows?.undo();
      const at = Builder.before(node, { registry: context.registry });
      const axes = at.constant(Tensor.fromValues('int64', [1], [2n]), `${node.name}_unit_axis`);
      const x = at.op1('onnx.Unsqueeze', [node.input(0), axes], {}, { types: [typeWithShape(node.input(0).type, withUnit(dims, 1 as number | string | null))] });
      const lifted = buildLifted(at, node, [x, ...liftedWeights(node, (tensor, name) => at.constant(tensor, `${node.name}_${name}`))]);
      const y = Builder.after(lifted, { registry: context.registry }).op1('onnx.Squeeze', [lifted.output(0), axes], {}, { types: [node.output(0).type] });
      const problem = rule.check(lifted, context);
      if (problem) throw loweringError(node, problem);
      rule.lower(lifted, context);
      replaceNode(node, [y, null]);
    },
  };
}

export const unitDimWindowRules: readonly LoweringRule[] = [...convRules, ...poolRules].filter((rule) => rule.ops.includes('onnx.Conv') || rule.ops.includes('onnx.MaxPool')).map(withUnitDim);
