import { attrs, Builder, Tensor, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext } from '../lowering-rule.js';
import { dimsOf, typeWithShape } from '../lowering-tools.js';

/** The 2-D Conv `rowsConv` built for a 1-D Conv, and what to finish or undo with. */
export interface MergedRowsConv {
  /** `Conv(image, W[O, C, H, k])`, output `[N, O, 1, W']`; nothing reads it yet. */
  readonly conv2d: Node;
  /** Wires the 1-D Conv's readers to `Squeeze(conv2d)` and erases the 1-D Conv (and its Reshape when unread). */
  readonly commit: () => void;
  /** Erases `conv2d` and its weights (the 2-D rule refused it): the graph is as it was. */
  readonly undo: () => void;
}

/**
 * A 1-D Conv that reads an image with its channels and rows merged — `Reshape([N, C, H, W] →
 * [N, C·H, W])` then Conv1d over W, as CRNN-style text recognizers and spectrogram nets feed their
 * sequence model — is a 2-D Conv over the image with a kernel as tall as the image: channel `c·H + h`
 * of the 1-D weights is row `h` of input channel `c` of the 2-D ones (the same numbers reshaped
 * `[O, C·H/g, k]` → `[O, C/g, H, k]`), no padding, stride and dilation 1 along H, and the result
 * `[N, O, 1, W']` squeezed to `[N, O, W']`. In NHWC that CONV_2D reads the image as it is; merging C and
 * H of an NHWC image took a transpose. Groups g that divide C (each group whole input channels), constant
 * float weights (and bias), explicit pads.
 * Undefined when `conv` is anything else.
 */
export function mergedRowsConv(conv: Node, context: LoweringContext): MergedRowsConv | undefined {
  const x = conv.inputs[0];
  const reshape = x?.producer;
  if (!x || reshape?.op !== 'onnx.Reshape' || (reshape.optionalAttr('allowzero', 'int') ?? 0) !== 0) return undefined;
  const image = reshape.inputs[0];
  const imageDims = dimsOf(image);
  const merged = dimsOf(x);
  const outDims = dimsOf(conv.outputs[0]);
  if (!image || imageDims?.length !== 4 || merged?.length !== 3 || outDims?.length !== 3) return undefined;
  const [n, channels, height, width] = imageDims;
  if (typeof channels !== 'number' || typeof height !== 'number' || height < 2 || n === null || merged[0] !== n || merged[1] !== channels * height || merged[2] !== width) return undefined;
  // Groups split the merged channels c·H + h into runs of C·H/g: whole input channels when g divides C.
  const group = conv.optionalAttr('group', 'int') ?? 1;
  if (channels % group !== 0 || (conv.optionalAttr('auto_pad', 'string') ?? 'NOTSET') !== 'NOTSET') return undefined;
  const weights = constantOf(conv.inputs[1]);
  if (!weights || weights.quant || weights.shape.length !== 3 || weights.shape[1] !== (channels / group) * height) return undefined;
  if (conv.inputs[2] && !constantOf(conv.inputs[2])) return undefined;
  const [outChannels, , kernel] = weights.shape as [number, number, number];
  const pads = conv.optionalAttr('pads', 'ints') ?? [0, 0];
  const strides = conv.optionalAttr('strides', 'ints') ?? [1];
  const dilations = conv.optionalAttr('dilations', 'ints') ?? [1];
  const at = Builder.before(conv, { registry: context.registry });
  const weights2d: Value = at.constant(weights.reshape([outChannels, channels / group, height, kernel]), `${conv.name}_W_rows`);
  const conv2d = at.create(
    'onnx.Conv',
    [image, weights2d, ...(conv.inputs[2] ? [conv.input(2)] : [])],
    {
      kernel_shape: attrs.ints([height, kernel]),
      pads: attrs.ints([0, pads[0]!, 0, pads[1]!]),
      strides: attrs.ints([1, strides[0]!]),
      dilations: attrs.ints([1, dilations[0]!]),
      ...(group !== 1 ? { group: attrs.int(group) } : {}),
    },
    { types: [typeWithShape(conv.output(0).type, [outDims[0]!, outDims[1]!, 1, outDims[2]!])], name: `${conv.name}_rows` },
  );
  return {
    conv2d,
    commit() {
      // A Squeeze (not a Reshape): io-layout=nhwc declares a graph output behind it `[N, W', O]`, as for any 1-D Conv.
      const after = Builder.after(conv2d, { registry: context.registry });
      const type = { types: [conv.output(0).type], name: `${conv.name}_squeeze` };
      const y =
        (context.model.opset('onnx') ?? 17) >= 13
          ? after.op1('onnx.Squeeze', [conv2d.output(0), after.constant(Tensor.fromValues('int64', [1], [2n]), `${conv.name}_unit_axis`)], {}, type)
          : after.op1('onnx.Squeeze', [conv2d.output(0)], { axes: attrs.ints([2]) }, type);
      conv.output(0).replaceAllUsesWith(y);
      conv.erase();
      if (!x.hasUses && !x.isGraphOutput) reshape.erase();
    },
    undo() {
      const graph = conv2d.graph;
      conv2d.erase();
      if (graph && !weights2d.hasUses) graph.removeConstant(weights2d);
    },
  };
}
