/**
 * ONNX Resize → torch's `upsample_*` kernels, for the coordinate conventions they compute exactly
 * (the inverse of import/aten/resize.ts): nearest = asymmetric + floor; nearest-exact = half_pixel +
 * round_prefer_ceil; linear = align_corners or pytorch_half_pixel (or half_pixel when every output dim is
 * longer than 1, where the two agree); cubic (A = −0.75) = align_corners
 * or half_pixel. The target is constant scales (batch and channel 1), constant sizes, or computed sizes whose
 * spatial result inference proved (the output's static H, W).
 */
import { isTensorType, type Node } from '@modelpass/ir';
import { pyFloat, pyInts, type EmitContext, type OpEmitter } from './emit-context.js';

const LINEAR_KERNELS = ['upsample_linear1d', 'upsample_bilinear2d', 'upsample_trilinear3d'];

/** Whether every spatial dim of the Resize's output is statically known and longer than 1. */
function spatialOutputsLongerThanOne(node: Node, spatial: number): boolean {
  const output = node.outputs[0];
  const shape = output && isTensorType(output.type) ? output.type.shape : undefined;
  if (!shape || shape.length !== spatial + 2) return false;
  return shape.slice(2).every((dim) => typeof dim === 'number' && dim > 1);
}

/** Whether every spatial dim of the Resize's output is a known number. */
function staticSpatialOutput(node: Node, spatial: number): boolean {
  const output = node.outputs[0];
  const shape = output && isTensorType(output.type) ? output.type.shape : undefined;
  return !!shape && shape.length === spatial + 2 && shape.slice(2).every((dim) => typeof dim === 'number');
}

/** The torch kernel and its align_corners argument for the node's mode and coordinate convention, or why none fits. */
function kernelFor(node: Node, spatial: number): { kernel: string; alignCorners?: boolean } | string {
  const mode = node.attr('mode', 'string', 'nearest');
  const coordinates = node.attr('coordinate_transformation_mode', 'string', node.inputs.length === 2 ? 'asymmetric' : 'half_pixel');
  if (mode === 'nearest') {
    const rounding = node.attr('nearest_mode', 'string', node.inputs.length === 2 ? 'floor' : 'round_prefer_floor');
    if (coordinates === 'asymmetric' && rounding === 'floor') return { kernel: `upsample_nearest${spatial}d` };
    if (coordinates === 'half_pixel' && rounding === 'round_prefer_ceil') return { kernel: `_upsample_nearest_exact${spatial}d` };
    return `nearest with ${coordinates} coordinates and ${rounding} rounding (torch computes asymmetric+floor or half_pixel+round_prefer_ceil)`;
  }
  if (mode === 'linear') {
    // half_pixel is pytorch_half_pixel wherever an output dim is longer than 1 (they differ only for a length-1 output).
    if (coordinates === 'half_pixel' && spatialOutputsLongerThanOne(node, spatial)) return { kernel: LINEAR_KERNELS[spatial - 1]!, alignCorners: false };
    if (coordinates !== 'align_corners' && coordinates !== 'pytorch_half_pixel') {
      const why = coordinates === 'half_pixel' ? ' with output dims not known to be longer than 1' : '';
      return `linear with ${coordinates} coordinates${why} (torch computes align_corners or pytorch_half_pixel)`;
    }
    return { kernel: LINEAR_KERNELS[spatial - 1]!, alignCorners: coordinates === 'align_corners' };
  }
  if (mode === 'cubic') {
    if (spatial !== 2) return `cubic over ${spatial} spatial dims (torch has bicubic for 2)`;
    if (node.attr('cubic_coeff_a', 'float', -0.75) !== -0.75) return 'cubic_coeff_a other than -0.75';
    if (coordinates !== 'align_corners' && coordinates !== 'half_pixel') return `cubic with ${coordinates} coordinates`;
    if (node.attr('exclude_outside', 'int', 0) !== 0) return 'exclude_outside=1';
    return { kernel: 'upsample_bicubic2d', alignCorners: coordinates === 'align_corners' };
  }
  return `mode ${mode}`;
}

export const resizeEmitter: OpEmitter = (e: EmitContext, node: Node) => {
  const x = node.inputs[0] ?? null;
  const rank = e.rank(x);
  if (rank === undefined || rank < 3 || rank > 5) return e.fail(node, `an input of rank ${rank ?? 'unknown'} (torch upsamples 1 to 3 spatial dims after batch and channels)`);
  const spatial = rank - 2;
  if ((node.optionalAttr('antialias', 'int') ?? 0) !== 0) e.fail(node, 'antialias=1');
  if (node.optionalAttr('axes', 'ints')) e.fail(node, 'the axes attribute');
  const kernel = kernelFor(node, spatial);
  if (typeof kernel === 'string') return e.fail(node, kernel);
  // Upsample (opsets 7–9) is Resize with asymmetric coordinates and floor rounding; opset 7 holds its scales as an attribute.
  const scales = (node.op === 'onnx.Upsample' ? node.optionalAttr('scales', 'floats') : undefined) ?? e.constantOf(node.inputs.length === 2 ? node.inputs[1] : node.inputs[2])?.toNumbers();
  const sizes = e.constantInts(node.inputs[3] ?? null);
  let outputSize = 'None';
  let scaleFactors = 'None';
  if (scales && scales.length > 0) {
    if (scales.length !== rank || scales[0] !== 1 || scales[1] !== 1) e.fail(node, `scales [${scales.join(', ')}] (torch scales only the spatial dims)`);
    scaleFactors = `[${scales.slice(2).map(pyFloat).join(', ')}]`;
  } else if (sizes) {
    const dims = x && isTensorType(x.type) ? x.type.shape : undefined;
    if (sizes.length !== rank || dims?.[0] !== sizes[0] || dims?.[1] !== sizes[1]) e.fail(node, `sizes [${sizes.join(', ')}] that may change batch or channels`);
    outputSize = pyInts(sizes.slice(2));
  } else if (node.inputs[3] && staticSpatialOutput(node, spatial)) {
    // Sizes computed at run time (torch's segmentation heads: Concat(Shape(x)[:2], H, W)) whose spatial result
    // inference proved: torch upsamples to those dims. The batch and channels must come through unchanged.
    const inDims = x && isTensorType(x.type) ? x.type.shape : undefined;
    const outDims = (node.outputs[0]!.type as { shape: readonly (number | string | null)[] }).shape;
    if (!inDims || inDims[1] !== outDims[1] || (inDims[0] !== outDims[0] && typeof outDims[0] === 'number')) return e.fail(node, 'computed sizes that may change batch or channels');
    outputSize = pyInts(outDims.slice(2) as number[]);
  } else {
    return e.fail(node, 'computed scales or sizes');
  }
  const align = kernel.alignCorners === undefined ? '' : `${kernel.alignCorners ? 'True' : 'False'}, `;
  e.assign(node, `torch.${kernel.kernel}(${e.name(x)}, ${outputSize}, ${align}${scaleFactors})`);
};
