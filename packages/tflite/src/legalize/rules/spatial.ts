import { attrs, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
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

/**
 * Scales that let TFLite resize an input of run-time height and width: constant [1, 1, a, b] with whole a, b ≥ 1.
 * Then out = in × scale exactly, so TFLite's out/in is ONNX's scale and both map coordinates alike.
 */
function runTimeFactors(node: Node): [number, number] | string {
  const scalesInput = node.inputs[node.op === 'onnx.Upsample' ? 1 : 2];
  const scales = constantOf(scalesInput)?.size ? numbersOf(scalesInput) : undefined;
  if (!scales) return 'constant scales (the size is then computed at run time); this Resize gives sizes or computed scales';
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) return 'scales [1, 1, a, b] (only H and W resized)';
  const factors = [scales[2]!, scales[3]!] as [number, number];
  if (factors.some((f) => !Number.isInteger(f) || f < 1)) return `whole scales ≥ 1 along H and W (these are ${factors.join(', ')}: out = floor(in × scale) and TFLite resizes by out/in, which then differ)`;
  return factors;
}

/** The NHWC output size [H·a, W·b] (int32) of an input of run-time height and width, as shape arithmetic lowered later. */
function runTimeSize(emit: TfliteEmitter, node: Node, factors: [number, number]): Value {
  const at = emit.at;
  const i64 = (values: number[], name: string): Value => emit.constant(Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v))), name);
  // Shape of the NCHW input: the transpose sinking turns Shape(Transpose(a)) into a Gather of a's shape.
  const shape = at.op1('onnx.Shape', [node.input(0)], {}, { types: [tensorType('int64', [4])], name: `${node.name}_shape` });
  const spatial = at.op1('onnx.Slice', [shape, i64([2], 'hw_begin'), i64([4], 'hw_end'), i64([0], 'hw_axis')], {}, { types: [tensorType('int64', [2])], name: `${node.name}_hw` });
  const scaled = at.op1('onnx.Mul', [spatial, i64(factors, 'factors')], {}, { types: [tensorType('int64', [2])], name: `${node.name}_out_hw` });
  return at.op1('onnx.Cast', [scaled], { to: attrs.int(6) }, { types: [tensorType('int32', [2])], name: `${node.name}_size` });
}

const resize: LoweringRule = {
  ops: ['onnx.Resize', 'onnx.Upsample'],
  stage: 'layout',
  targets: ['RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR', 'SHAPE', 'SLICE', 'MUL', 'CAST'],
  check(node) {
    const wrong = rank4(node);
    if (wrong) return wrong;
    const mapping = resizeMapping(node);
    if (typeof mapping === 'string') return mapping;
    const inDims = dimsOf(node.inputs[0])!;
    const outDims = dimsOf(node.outputs[0]);
    if (!outDims || typeof outDims[2] !== 'number' || typeof outDims[3] !== 'number') {
      const factors = runTimeFactors(node);
      if (typeof factors === 'string') return `TFLite RESIZE_* needs a static output height and width, or ${factors}`;
      if (outDims && (outDims[1] !== inDims[1] || (outDims[0] !== inDims[0] && typeof inDims[0] === 'number'))) return 'only the spatial dims (H, W) may be resized';
      if (node.optionalAttr('coordinate_transformation_mode', 'string') === 'pytorch_half_pixel' && factors.some((f) => f === 1)) {
        return 'pytorch_half_pixel with a scale of 1 and a run-time size: an output length of 1 maps to coordinate 0, which TFLite does not do';
      }
      return undefined;
    }
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
    const outDims = dimsOf(node.outputs[0]);
    const size =
      outDims && typeof outDims[2] === 'number' && typeof outDims[3] === 'number'
        ? emit.int32([outDims[2], outDims[3]], [2], 'size')
        : runTimeSize(emit, node, runTimeFactors(node) as [number, number]);
    const y = emit.op1(mapping.builtin, [toChannelsLast(emit, node.input(0)), size], { align_corners: mapping.alignCorners, half_pixel_centers: mapping.halfPixel }, channelsLastType(node));
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

export const spatialRules: readonly LoweringRule[] = [spaceToDepth, localResponseNorm, resize];
