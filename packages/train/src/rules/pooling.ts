/**
 * Pooling gradients. MaxPool with windows that tile the input (kernel == stride, no padding): dY goes to
 * each window's first maximum, found by comparing strided slices of X with Y (`max-pool-tiled.ts`).
 * Other MaxPools: a second MaxPool with the Indices output gives each output's flat argmax in the
 * input; dY is scatter-added there. AveragePool: ConvTranspose of dY (channels folded
 * into the batch) with a constant 1/|window| kernel. GlobalAveragePool: dY spread evenly.
 */
import { Tensor } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError } from '../gradient-context.js';
import { scatterAddFlat } from './indexing.js';
import { isTiledMaxPool, tiledMaxPoolGradient } from './max-pool-tiled.js';
import { windowGeometry } from './window.js';

export const poolingRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.MaxPool',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      if (node.outputs[1] && outputGrads[1]) throw ruleError(node, 'the Indices output is not differentiable');
      if (node.attr('storage_order', 'int', 0) !== 0) throw ruleError(node, 'storage_order=1 is not supported');
      const xType = ctx.typeOf(x, node);
      const yType = ctx.typeOf(node.output(0), node);
      const spatialKnown = (shape: readonly unknown[]) => shape.slice(2).every((d) => typeof d === 'number');
      if (spatialKnown(xType.shape) && spatialKnown(yType.shape)) {
        const xSpatial = xType.shape.slice(2) as number[];
        const ySpatial = yType.shape.slice(2) as number[];
        const kernel = node.attr('kernel_shape', 'ints').slice();
        if (isTiledMaxPool(node, windowGeometry(node, kernel, xSpatial, ySpatial))) {
          return [tiledMaxPoolGradient(ctx, x, node.output(0), outputGrads[0]!, kernel, xSpatial, ySpatial)];
        }
      }
      const [, indices] = ctx.emit('MaxPool', [x], Object.fromEntries(node.attributes), 2);
      return [scatterAddFlat(ctx, x, indices!, outputGrads[0]!)];
    },
  }),
  defineGradientRule({
    op: 'onnx.AveragePool',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const xShape = ctx.staticShape(x, node, 2);
      const yShape = ctx.staticShape(node.output(0), node, 2);
      const kernel = node.attr('kernel_shape', 'ints').slice();
      const geometry = windowGeometry(node, kernel, xShape.slice(2), yShape.slice(2));
      const padded = geometry.pads.some((p) => p !== 0);
      if ((padded && node.attr('count_include_pad', 'int', 0) === 0) || node.attr('ceil_mode', 'int', 0) === 1) {
        throw ruleError(node, 'AveragePool with padding excluded from the count (count_include_pad=0) or ceil_mode=1 is not supported yet');
      }
      if (geometry.dilations.some((d) => d !== 1)) throw ruleError(node, 'dilated AveragePool is not supported yet');
      const windowSize = kernel.reduce((a, b) => a * b, 1);
      const dtype = ctx.typeOf(x).dtype;
      const weights = ctx.graph.addConstant(ctx.graph.uniqueName('avgpool_grad_kernel'), Tensor.fromValues(dtype, [1, 1, ...kernel], new Array<number>(windowSize).fill(1 / windowSize)));
      const folded = ctx.reshape(outputGrads[0]!, [-1, 1, ...yShape.slice(2)]);
      const spread = ctx.op('ConvTranspose', [folded, weights], {
        strides: geometry.strides, pads: geometry.pads, output_padding: geometry.outputPadding, kernel_shape: kernel,
      });
      return [ctx.reshapeLike(spread, x)];
    },
  }),
  defineGradientRule({
    op: 'onnx.GlobalAveragePool',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const count = ctx.op('Div', [ctx.sizeAsFloat(x), ctx.sizeAsFloat(node.output(0))]);
      return [ctx.op('Div', [ctx.op('Expand', [outputGrads[0]!, ctx.shapeOf(x)]), count])];
    },
  }),
];
