/**
 * Conv gradients (N-d, groups, strides, dilations, pads, auto_pad):
 * - input: ConvTranspose of dY with the same weights and geometry, `output_padding` restoring the input size;
 * - weights: a Conv whose batch is the input channels and whose "weights" are dY (strides and dilations
 *   swap roles), groups folded into channels, then sliced to the kernel size;
 * - bias: dY summed over batch and spatial axes.
 */
import type { Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { windowGeometry } from './window.js';

export const convRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Conv',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [x, w, dy] = [node.input(0), node.input(1), outputGrads[0]!];
      const xShape = ctx.staticShape(x, node, 1);
      const wShape = ctx.staticShape(w, node);
      const yShape = ctx.staticShape(node.output(0), node, 2);
      const spatialRank = wShape.length - 2;
      const group = node.attr('group', 'int', 1);
      const kernel = wShape.slice(2);
      const geometry = windowGeometry(node, kernel, xShape.slice(2), yShape.slice(2));
      const result: (Value | null)[] = [null, null, null];
      if (needs[0]) {
        result[0] = ctx.op('ConvTranspose', [dy, w], {
          group, strides: geometry.strides, dilations: geometry.dilations, pads: geometry.pads,
          output_padding: geometry.outputPadding, kernel_shape: kernel,
        });
      }
      if (needs[1]) {
        const inPerGroup = wShape[1]!;
        const spatialAxes = Array.from({ length: spatialRank }, (_, i) => i + 3);
        const split = ctx.op('Reshape', [x, ctx.ints([0, group, inPerGroup, ...xShape.slice(2)])]);
        const channelsAsBatch = ctx.reshape(ctx.transpose(split, [2, 1, 0, ...spatialAxes]), [inPerGroup, -1, ...xShape.slice(2)]);
        const dyAsWeights = ctx.transpose(dy, [1, 0, ...spatialAxes.map((a) => a - 1)]);
        const correlation = ctx.op('Conv', [channelsAsBatch, dyAsWeights], {
          group, strides: geometry.dilations, dilations: geometry.strides, pads: geometry.pads,
        });
        const swapped = ctx.transpose(correlation, [1, 0, ...spatialAxes.map((a) => a - 1)]);
        const axes = spatialAxes.map((a) => a - 1);
        result[1] = ctx.op('Slice', [swapped, ctx.ints(axes.map(() => 0)), ctx.ints(kernel), ctx.ints(axes)]);
      }
      if (node.inputs[2] && needs[2]) {
        result[2] = ctx.reduceSum(dy, [0, ...Array.from({ length: spatialRank }, (_, i) => i + 2)], false);
      }
      return result;
    },
  }),
];
