/**
 * Conv and ConvTranspose gradients (N-d, groups, strides, dilations, pads; auto_pad for Conv).
 * Conv:
 * - input: ConvTranspose of dY with the same weights and geometry, `output_padding` restoring the input size;
 * - weights, one group, im2col no larger than UNFOLD_LIMIT elements: the input unfolded by a grouped Conv
 *   with one-hot kernels (im2col: [N, C·taps, out]; a one-hot kernel copies each tap exactly), then a
 *   batched MatMul with dY and a sum over the batch (`unfoldedWeightGradient`);
 * - weights otherwise: a Conv whose batch is the input channels and whose "weights" are dY (strides and
 *   dilations swap roles), groups folded into channels, then sliced to the kernel size;
 * - bias: dY summed over batch and spatial axes.
 * ConvTranspose is the adjoint of a Conv with the same weights and geometry, so its input gradient is
 * that Conv of dY and its weight gradient is that Conv's weight gradient with dY as the input and the
 * ConvTranspose input as the output gradient.
 */
import { Tensor, type Node, type Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError, type GradientContext } from '../gradient-context.js';
import { windowGeometry, type WindowGeometry } from './window.js';

/** The most elements of the unfolded input (batch × channels × taps × output positions, batch taken as 128 when symbolic) the im2col form may take. */
export const UNFOLD_LIMIT = 1 << 24;

/**
 * dW of a one-group `Conv(convInput, W)` as im2col and a batched MatMul: U = Conv(x, one-hot [C·K, 1, ...kernel],
 * group C) holds at channel c·K + t every output position's tap t of channel c ([N, C·K, P]);
 * dW[o, c·K + t] = Σ_n Σ_p dY[n, o, p]·U[n, c·K + t, p]. ONNX Runtime's Conv otherwise runs this weight gradient
 * as a GEMM with only kh·kw columns (the big-kernel form below), which it does slowly.
 */
function unfoldedWeightGradient(ctx: GradientContext, convInput: Value, outputGrad: Value, weights: Value, channels: number, outChannels: number, outputSpatial: readonly number[], kernel: readonly number[], geometry: WindowGeometry): Value {
  const taps = kernel.reduce((a, b) => a * b, 1);
  const positions = outputSpatial.reduce((a, b) => a * b, 1);
  const oneHot = new Array<number>(channels * taps * taps).fill(0);
  for (let c = 0; c < channels; c++) for (let t = 0; t < taps; t++) oneHot[(c * taps + t) * taps + t] = 1;
  const dtype = ctx.typeOf(weights).dtype;
  const kernels = ctx.graph.addConstant(ctx.graph.uniqueName('conv_grad_unfold'), Tensor.fromValues(dtype, [channels * taps, 1, ...kernel], oneHot));
  const unfolded = ctx.op('Conv', [convInput, kernels], {
    group: channels, kernel_shape: kernel, strides: geometry.strides, dilations: geometry.dilations, pads: geometry.pads,
  });
  const columns = ctx.reshape(unfolded, [0, channels * taps, positions]);
  const gradRows = ctx.transpose(ctx.reshape(outputGrad, [0, outChannels, positions]), [0, 2, 1]);
  const perSample = ctx.op('MatMul', [columns, gradRows]);
  const summed = ctx.reduceSum(perSample, [0], false);
  return ctx.reshape(ctx.transpose(summed, [1, 0]), [outChannels, channels, ...kernel]);
}

/**
 * dW of `Conv(convInput, W)` given the gradient of its output: weights `[group·outPerGroup, inPerGroup, ...kernel]`.
 * `inputSpatial` are the static spatial dims of `convInput`, `outputSpatial` those of the Conv's output.
 */
function convWeightGradient(ctx: GradientContext, node: Node, convInput: Value, outputGrad: Value, inputSpatial: readonly number[], outputSpatial: readonly number[], inPerGroup: number, outChannels: number, group: number, kernel: readonly number[], geometry: WindowGeometry): Value {
  const batch = ctx.typeOf(node.input(0), node).shape[0];
  const unfoldSize = (typeof batch === 'number' ? batch : 128) * inPerGroup * [...kernel, ...outputSpatial].reduce((a, b) => a * b, 1);
  if (group === 1 && unfoldSize <= UNFOLD_LIMIT) {
    return unfoldedWeightGradient(ctx, convInput, outputGrad, node.input(1), inPerGroup, outChannels, outputSpatial, kernel, geometry);
  }
  const spatialAxes = Array.from({ length: kernel.length }, (_, i) => i + 3);
  const split = ctx.op('Reshape', [convInput, ctx.ints([0, group, inPerGroup, ...inputSpatial])]);
  const channelsAsBatch = ctx.reshape(ctx.transpose(split, [2, 1, 0, ...spatialAxes]), [inPerGroup, -1, ...inputSpatial]);
  const gradAsWeights = ctx.transpose(outputGrad, [1, 0, ...spatialAxes.map((a) => a - 1)]);
  const correlation = ctx.op('Conv', [channelsAsBatch, gradAsWeights], {
    group, strides: geometry.dilations, dilations: geometry.strides, pads: geometry.pads,
  });
  const swapped = ctx.transpose(correlation, [1, 0, ...spatialAxes.map((a) => a - 1)]);
  const axes = spatialAxes.map((a) => a - 1);
  return ctx.op('Slice', [swapped, ctx.ints(axes.map(() => 0)), ctx.ints(kernel), ctx.ints(axes)]);
}

function biasGradient(ctx: GradientContext, dy: Value, spatialRank: number): Value {
  return ctx.reduceSum(dy, [0, ...Array.from({ length: spatialRank }, (_, i) => i + 2)], false);
}

function convTransposeGeometry(ctx: GradientContext, node: Node, kernel: readonly number[]): WindowGeometry {
  if (node.attr('auto_pad', 'string', 'NOTSET') !== 'NOTSET' || node.optionalAttr('output_shape', 'ints') !== undefined) {
    throw ruleError(node, 'ConvTranspose with auto_pad or output_shape is not supported yet (give explicit pads)');
  }
  const n = kernel.length;
  return {
    kernel: kernel.slice(),
    strides: node.optionalAttr('strides', 'ints')?.slice() ?? new Array<number>(n).fill(1),
    dilations: node.optionalAttr('dilations', 'ints')?.slice() ?? new Array<number>(n).fill(1),
    pads: node.optionalAttr('pads', 'ints')?.slice() ?? new Array<number>(2 * n).fill(0),
    outputPadding: new Array<number>(n).fill(0),
  };
}

export const convRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Conv',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [x, w, dy] = [node.input(0), node.input(1), outputGrads[0]!];
      const xSpatial = ctx.staticShape(x, node, 1).slice(2);
      const wShape = ctx.staticShape(w, node);
      const ySpatial = ctx.staticShape(node.output(0), node, 2).slice(2);
      const group = node.attr('group', 'int', 1);
      const kernel = wShape.slice(2);
      const geometry = windowGeometry(node, kernel, xSpatial, ySpatial);
      const result: (Value | null)[] = [null, null, null];
      if (needs[0]) {
        result[0] = ctx.op('ConvTranspose', [dy, w], {
          group, strides: geometry.strides, dilations: geometry.dilations, pads: geometry.pads,
          output_padding: geometry.outputPadding, kernel_shape: kernel,
        });
      }
      if (needs[1]) result[1] = convWeightGradient(ctx, node, x, dy, xSpatial, ySpatial, wShape[1]!, wShape[0]!, group, kernel, geometry);
      if (node.inputs[2] && needs[2]) result[2] = biasGradient(ctx, dy, kernel.length);
      return result;
    },
  }),
  defineGradientRule({
    op: 'onnx.ConvTranspose',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [w, dy] = [node.input(1), outputGrads[0]!];
      const wShape = ctx.staticShape(w, node);
      const ySpatial = ctx.staticShape(node.output(0), node, 2).slice(2);
      const group = node.attr('group', 'int', 1);
      const kernel = wShape.slice(2);
      const geometry = convTransposeGeometry(ctx, node, kernel);
      const result: (Value | null)[] = [null, null, null];
      if (needs[0]) {
        result[0] = ctx.op('Conv', [dy, w], { group, strides: geometry.strides, dilations: geometry.dilations, pads: geometry.pads, kernel_shape: kernel });
      }
      if (needs[1]) result[1] = convWeightGradient(ctx, node, dy, node.input(0), ySpatial, ctx.staticShape(node.input(0), node, 2).slice(2), wShape[1]!, wShape[0]!, group, kernel, geometry);
      if (node.inputs[2] && needs[2]) result[2] = biasGradient(ctx, dy, kernel.length);
      return result;
    },
  }),
];
