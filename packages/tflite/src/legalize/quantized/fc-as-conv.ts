import { attrs, Builder, Tensor, tensorType, type Graph, type Node, type TensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { quantOf } from './quant-values.js';

/**
 * TFLite 2.9's int8 (and 16x8) FULLY_CONNECTED takes one weight scale only (per-channel weights give wrong
 * results there, silently). An int8 FULLY_CONNECTED with per-output-channel weights and a rank-2
 * input becomes RESHAPE [N,1,1,K] → 1×1 CONV_2D (per-channel int8, the same integer arithmetic) →
 * RESHAPE [N,units]. Returns the ops rewritten.
 */
export function perChannelFullyConnectedAsConv(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op !== 'tflite.FULLY_CONNECTED') continue;
    const input = node.inputs[0];
    const weightQuant = quantOf(node.inputs[1]);
    const inputType = input?.type as TensorType | undefined;
    if (!input || !weightQuant || weightQuant.axis === undefined || !quantOf(input) || (inputType?.dtype !== 'int8' && inputType?.dtype !== 'int16')) continue;
    if (weightQuant.scale.every((s) => s === weightQuant.scale[0])) continue;
    if (!inputType.shape || inputType.shape.length !== 2 || (node.optionalAttr('keep_num_dims', 'int') ?? 0) !== 0) {
      throw node.error('int8 FULLY_CONNECTED with per-channel weights needs a rank-2 input here (it becomes a 1x1 CONV_2D for TFLite 2.9)');
    }
    rewrite(node, inputType);
    count++;
  }
  return count;
}

function rewrite(node: Node, inputType: TensorType): void {
  const at = Builder.before(node, {});
  const weight = constantOf(node.inputs[1])!;
  const [units, depth] = weight.shape as [number, number];
  const batch = inputType.shape![0]!;
  const output = node.output(0);
  const outputType = output.type as TensorType;
  const shape4 = at.constant(Tensor.fromValues('int32', [4], [-1, 1, 1, depth]), `${node.name}_as_nhwc_shape`);
  const x4 = at.create('tflite.RESHAPE', [node.input(0), shape4], {}, { types: [tensorType(inputType.dtype, [batch, 1, 1, depth], inputType.quant)], name: `${node.name}_as_nhwc` }).output(0);
  const filter = at.constant(weight.reshape([units, 1, 1, depth]), `${node.name}_filter`);
  const conv = at.create(
    'tflite.CONV_2D',
    [x4, filter, node.inputs[2] ?? null],
    {
      padding: attrs.string('VALID'),
      stride_w: attrs.int(1),
      stride_h: attrs.int(1),
      dilation_w_factor: attrs.int(1),
      dilation_h_factor: attrs.int(1),
      fused_activation_function: attrs.string(node.optionalAttr('fused_activation_function', 'string') ?? 'NONE'),
    },
    { types: [tensorType(outputType.dtype, [batch, 1, 1, units], outputType.quant)], name: `${node.name}_as_conv` },
  );
  const shape2 = at.constant(Tensor.fromValues('int32', [2], [-1, units]), `${node.name}_units_shape`);
  const y = at.create('tflite.RESHAPE', [conv.output(0), shape2], {}, { types: [outputType], name: `${node.name}_units` }).output(0);
  output.replaceAllUsesWith(y);
  node.erase();
}
