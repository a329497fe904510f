import type { Node } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

function rank4(node: Node): string | undefined {
  const dims = dimsOf(node.inputs[0]);
  if (!dims) return 'needs the input rank (run shape inference first)';
  return dims.length === 4 ? undefined : `only rank-4 (NCHW) inputs map to TFLite; this one has rank ${dims.length}`;
}

/** One NHWC builtin with fixed options between the layout transposes. */
function wrapped(ops: string[], builtin: string, check: (node: Node) => string | undefined, options: (node: Node) => Record<string, string | number>): LoweringRule {
  return {
    ops,
    stage: 'layout',
    targets: [builtin],
    check: (node) => rank4(node) ?? check(node),
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      const y = emit.op1(builtin, [toChannelsLast(emit, node.input(0))], options(node), channelsLastType(node));
      replaceNode(node, [toChannelsFirst(emit, y)]);
    },
  };
}

// DepthToSpace (DCR and CRD): depth-to-space.ts
const spaceToDepth = wrapped(['onnx.SpaceToDepth'], 'SPACE_TO_DEPTH', () => undefined, (node) => ({ block_size: node.attr('blocksize', 'int') }));

const localResponseNorm = wrapped(
  ['onnx.LRN'],
  'LOCAL_RESPONSE_NORMALIZATION',
  (node) => (node.attr('size', 'int') % 2 === 1 ? undefined : 'an even LRN size has no TFLite equivalent (radius is symmetric)'),
  (node) => {
    const size = node.attr('size', 'int');
    return { radius: (size - 1) / 2, bias: node.optionalAttr('bias', 'float') ?? 1, alpha: (node.optionalAttr('alpha', 'float') ?? 1e-4) / size, beta: node.optionalAttr('beta', 'float') ?? 0.75 };
  },
);

/** ONNX Resize/Upsample attributes → RESIZE_* options, or a reason they do not map. */
function resizeMapping(node: Node): { builtin: string; alignCorners: number; halfPixel: number } | string {
  const mode = node.optionalAttr('mode', 'string') ?? 'nearest';
  const transform = node.op === 'onnx.Upsample' ? 'asymmetric' : (node.optionalAttr('coordinate_transformation_mode', 'string') ?? 'half_pixel');
  if ((node.optionalAttr('antialias', 'int') ?? 0) !== 0) return 'antialias=1 has no TFLite equivalent';
  if (node.optionalAttr('axes', 'ints')) return 'Resize with axes is not supported yet';
  if (mode === 'linear') {
    if (transform === 'half_pixel' || transform === 'pytorch_half_pixel') return { builtin: 'RESIZE_BILINEAR', alignCorners: 0, halfPixel: 1 };
    if (transform === 'align_corners') return { builtin: 'RESIZE_BILINEAR', alignCorners: 1, halfPixel: 0 };
    if (transform === 'asymmetric') return { builtin: 'RESIZE_BILINEAR', alignCorners: 0, halfPixel: 0 };
    return `linear Resize with coordinate_transformation_mode '${transform}' has no TFLite equivalent`;
  }
  if (mode === 'nearest') {
    const nearest = node.op === 'onnx.Upsample' ? 'floor' : (node.optionalAttr('nearest_mode', 'string') ?? 'round_prefer_floor');
    if (transform === 'asymmetric' && nearest === 'floor') return { builtin: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: 0, halfPixel: 0 };
    if (transform === 'align_corners' && nearest === 'round_prefer_ceil') return { builtin: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: 1, halfPixel: 0 };
    if ((transform === 'half_pixel' || transform === 'tf_half_pixel_for_nn') && nearest === 'round_prefer_ceil') {
      return { builtin: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: 0, halfPixel: 1 };
    }
    return `nearest Resize with coordinate_transformation_mode '${transform}' and nearest_mode '${nearest}' has no TFLite equivalent`;
  }
  return `Resize mode '${mode}' has no TFLite equivalent`;
}

const resize: LoweringRule = {
  ops: ['onnx.Resize', 'onnx.Upsample'],
  stage: 'layout',
  targets: ['RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR'],
  check(node) {
    const wrong = rank4(node);
    if (wrong) return wrong;
    const mapping = resizeMapping(node);
    if (typeof mapping === 'string') return mapping;
    const inDims = dimsOf(node.inputs[0])!;
    const outDims = dimsOf(node.outputs[0]);
    if (!outDims || typeof outDims[2] !== 'number' || typeof outDims[3] !== 'number') return 'TFLite RESIZE_* needs a static output height and width';
    if (outDims[1] !== inDims[1] || (outDims[0] !== inDims[0] && typeof inDims[0] === 'number')) return 'only the spatial dims (H, W) may be resized';
    const scalesInput = node.inputs[node.op === 'onnx.Upsample' ? 1 : 2];
    const sizesInput = node.op === 'onnx.Upsample' ? null : node.inputs[3];
    const scales = numbersOf(scalesInput);
    // Sizes computed at run time (torch's dynamic exports: Concat(Shape(x)[:2], H, W)) are fine once inference has
    // proved the output's H and W (checked above): RESIZE_* takes them as its constant size. Computed scales are not.
    if (scalesInput && constantOf(scalesInput)?.size !== 0 && !scales) return 'Resize scales must be constants (TFLite RESIZE_* takes a constant size)';
    if (scales && scales.length === 4) {
      if (scales[0] !== 1 || scales[1] !== 1) return 'only the spatial dims (H, W) may be resized';
      // ONNX maps coordinates with the given scale, TFLite with out/in: they agree only when out = in × scale.
      for (const axis of [2, 3]) {
        const size = inDims[axis];
        if (typeof size !== 'number' || size * scales[axis]! !== outDims[axis]) return `a scale of ${scales[axis]} on a dim of ${String(size)} is not out/in (${String(outDims[axis])}/${String(size)}); TFLite resizes by out/in`;
      }
    }
    if (node.optionalAttr('coordinate_transformation_mode', 'string') === 'pytorch_half_pixel' && (outDims[2] === 1 || outDims[3] === 1)) {
      return "pytorch_half_pixel maps an output length of 1 to coordinate 0, TFLite's half_pixel does not";
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const mapping = resizeMapping(node) as Exclude<ReturnType<typeof resizeMapping>, string>;
    const outDims = dimsOf(node.outputs[0])!;
    const size = emit.int32([outDims[2] as number, outDims[3] as number], [2], 'size');
    const y = emit.op1(mapping.builtin, [toChannelsLast(emit, node.input(0)), size], { align_corners: mapping.alignCorners, half_pixel_centers: mapping.halfPixel }, channelsLastType(node));
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

export const spatialRules: readonly LoweringRule[] = [spaceToDepth, localResponseNorm, resize];
