import { attrs, Builder, Tensor, tensorType, type Dim, type Graph, type Node, type TensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { quantOf } from './quant-values.js';

/**
 * TFLite 2.9's int8 (and 16x8) FULLY_CONNECTED takes one weight scale only (per-channel weights give wrong
 * results there, silently). An int8 FULLY_CONNECTED with per-output-channel weights becomes RESHAPE
 * [N,1,1,K] → 1×1 CONV_2D (per-channel int8, the same integer arithmetic) → RESHAPE [N,units] (a rank-3
 * input [B,T,K]: N = B·T rows, reshaped back to the FULLY_CONNECTED's output dims). Returns the ops rewritten.
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
    const rank = inputType.shape?.length ?? 0;
    if (rank === 2 && (node.optionalAttr('keep_num_dims', 'int') ?? 0) === 0) rewrite(node, inputType);
    else {
      // Higher rank (a transformer's [batch, tokens, features]): the rows are the leading dims, the output dims restored after.
      const outputShape = fullyConnectedResultShape(node);
      if (rank < 2 || !outputShape) throw node.error('int8 FULLY_CONNECTED with per-channel weights needs an input of rank ≥ 2 and an output with at most one unknown dim here (it becomes a 1x1 CONV_2D for TFLite 2.9)');
      rewriteFullyConnectedAsConv(node, { rows: fullyConnectedRows(inputType.shape!), input: inputType, output: node.output(0).type as TensorType, unitsShape: outputShape });
    }
    count++;
  }
  return count;
}

/** The rows a FULLY_CONNECTED input feeds (its leading dims multiplied), or null when one is unknown. */
export function fullyConnectedRows(shape: readonly (number | string | null)[]): number | null {
  const leading = shape.slice(0, -1);
  return leading.every((d) => typeof d === 'number') ? (leading as number[]).reduce((n, d) => n * d, 1) : null;
}

/** The FULLY_CONNECTED output's dims for a RESHAPE (one unknown dim as −1), or undefined with two unknown. */
export function fullyConnectedResultShape(node: Node): number[] | undefined {
  const shape = (node.output(0).type as TensorType).shape;
  if (!shape) return undefined;
  const dims = shape.map((d) => (typeof d === 'number' ? d : -1));
  return dims.filter((d) => d === -1).length <= 1 ? dims : undefined;
}

function rewrite(node: Node, inputType: TensorType): void {
  const [units] = constantOf(node.inputs[1])!.shape as [number, number];
  const outputType = node.output(0).type as TensorType;
  rewriteFullyConnectedAsConv(node, { rows: inputType.shape![0]!, input: inputType, output: outputType, unitsShape: [-1, units] });
}

/** What the RESHAPE → 1×1 CONV_2D → RESHAPE spelling of a FULLY_CONNECTED needs besides the node. */
export interface FullyConnectedAsConvShape {
  /** The input's rows (its leading dims multiplied): the CONV_2D's batch. */
  readonly rows: Dim;
  /** The element type and quantization of the NHWC RESHAPE's output. */
  readonly input: Pick<TensorType, 'dtype' | 'quant'>;
  /** The element type and quantization of the CONV_2D's output. */
  readonly output: Pick<TensorType, 'dtype' | 'quant'>;
  /** The dims the CONV_2D's output is reshaped to (one unknown as −1). */
  readonly unitsShape: readonly number[];
  /** A zero bias for a FULLY_CONNECTED without one (the hybrid CONV_2D needs one); else none is given. */
  readonly zeroBiasIfMissing?: boolean;
}

/**
 * Replaces a FULLY_CONNECTED whose weights are a constant [units, depth] by RESHAPE [rows,1,1,depth] →
 * 1×1 CONV_2D (filter [units,1,1,depth], same bias and fused activation) → RESHAPE `unitsShape` (typed as
 * the FULLY_CONNECTED output, whose uses it takes). Shared by the int8
 * rewrite here and the hybrid one (dynamic-range.ts).
 */
export function rewriteFullyConnectedAsConv(node: Node, shape: FullyConnectedAsConvShape): void {
  const at = Builder.before(node);
  const weight = constantOf(node.inputs[1])!;
  const [units, depth] = weight.shape as [number, number];
  const output = node.output(0);
  const shape4 = at.constant(Tensor.fromValues('int32', [4], [-1, 1, 1, depth]), `${node.name}_as_nhwc_shape`);
  const x4 = at.create('tflite.RESHAPE', [node.input(0), shape4], {}, { types: [tensorType(shape.input.dtype, [shape.rows, 1, 1, depth], shape.input.quant)], name: `${node.name}_as_nhwc` }).output(0);
  const bias = node.inputs[2] ?? (shape.zeroBiasIfMissing ? at.constant(Tensor.fromValues('float32', [units], new Array<number>(units).fill(0)), `${node.name}_bias`) : null);
  const filter = at.constant(weight.reshape([units, 1, 1, depth]), `${node.name}_filter`);
  const conv = at.create(
    'tflite.CONV_2D',
    [x4, filter, bias],
    {
      padding: attrs.string('VALID'),
      stride_w: attrs.int(1),
      stride_h: attrs.int(1),
      dilation_w_factor: attrs.int(1),
      dilation_h_factor: attrs.int(1),
      fused_activation_function: attrs.string(node.optionalAttr('fused_activation_function', 'string') ?? 'NONE'),
    },
    { types: [tensorType(shape.output.dtype, [shape.rows, 1, 1, units], shape.output.quant)], name: `${node.name}_as_conv` },
  );
  const unitsShape = at.constant(Tensor.fromValues('int32', [shape.unitsShape.length], shape.unitsShape), `${node.name}_units_shape`);
  const y = at.create('tflite.RESHAPE', [conv.output(0), unitsShape], {}, { types: [output.type], name: `${node.name}_units` }).output(0);
  output.replaceAllUsesWith(y);
  node.erase();
}
