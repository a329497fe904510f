/**
 * `interpolate` as TorchScript lowers it: `upsample_nearest{1,2,3}d`, `_upsample_nearest_exact{1,2,3}d`,
 * `upsample_linear1d`, `upsample_bilinear2d`, `upsample_trilinear3d`, `upsample_bicubic2d` → ONNX Resize
 * (and `grid_sampler`, F.grid_sample, → ONNX GridSample).
 * Coordinates follow torch: given scale factors are used as given (ONNX `scales`; torch does not
 * recompute them), a given size maps by input/output (ONNX `sizes`). nearest = floor of
 * dst·in/out (asymmetric, floor); nearest-exact = half-pixel, rounding half up; linear without
 * align_corners = pytorch_half_pixel (source clamped at 0); bicubic = half_pixel with A = −0.75.
 */
import { Tensor, type AttributeInits, type Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';

type Kind = 'nearest' | 'nearest-exact' | 'linear' | 'cubic';

interface Target {
  scales?: number[];
  sizes?: number[];
}

function floats(ctx: LoweringContext, value: ScriptValue, what: string): number[] {
  if (value.kind === 'list' || value.kind === 'tuple') return value.items.map((item, i) => ctx.float(item, `${what}[${i}]`));
  return [ctx.float(value, what)];
}

/**
 * The output as scales or sizes. Both overloads: (input, output_size?, [align_corners,] scale_factors?)
 * with a list of scales, and the older (input, output_size, [align_corners,] scales_h?, scales_w?…).
 */
function target(ctx: LoweringContext, spatial: number, first: number): Target {
  const sizeArg = ctx.arg(1, 'output_size');
  const rest = Array.from({ length: Math.max(0, ctx.argCount - first) }, (_, i) => ctx.arg(first + i));
  const scaleList = rest.length === 1 && (rest[0]!.kind === 'list' || rest[0]!.kind === 'tuple') ? rest[0]! : ctx.arg(first, 'scale_factors');
  const sizes = sizeArg.kind === 'none' ? undefined : ctx.ints(sizeArg, 'output_size');
  if (sizes && sizes.length !== spatial) return ctx.fail(`output_size has ${sizes.length} entries for ${spatial} spatial dims`);
  if (scaleList.kind === 'list' || scaleList.kind === 'tuple') {
    if (sizes) return ctx.fail('both output_size and scale_factors are given');
    const scales = floats(ctx, scaleList, 'scale_factors');
    if (scales.length !== spatial) return ctx.fail(`scale_factors has ${scales.length} entries for ${spatial} spatial dims`);
    return { scales };
  }
  if (!sizes) return ctx.fail('neither output_size nor scale_factors is given');
  // Old overload: per-dim scales (used by torch for the coordinate mapping when given).
  const given = rest.filter((v) => v.kind !== 'none');
  if (given.length > 0) {
    const scales = rest.map((v, i) => ctx.float(v, `scales[${i}]`));
    return { scales, sizes };
  }
  return { sizes };
}

function resize(kind: Kind, spatial: number, hasAlignCorners: boolean): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'input');
    const rank = x.rank ?? knownShape(x)?.length;
    if (rank !== undefined && rank !== spatial + 2) return ctx.fail(`expected a ${spatial + 2}-d input, got rank ${rank}`);
    const alignCorners = hasAlignCorners ? ctx.bool(ctx.arg(2, 'align_corners', { kind: 'bool', value: false }), 'align_corners') : false;
    const wanted = target(ctx, spatial, hasAlignCorners ? 3 : 2);
    let scalesValue: Value | null = null;
    let sizesValue: Value | null = null;
    if (wanted.scales && wanted.sizes) {
      // Old overload with both: ONNX can take only one; they agree when floor(in·scale) = size.
      const shape = knownShape(x);
      const agree = wanted.sizes.every((size, i) => {
        const input = shape?.[2 + i];
        return typeof input === 'number' && Math.floor(input * wanted.scales![i]!) === size;
      });
      if (!agree) return ctx.fail('output_size together with scales that do not give that size (or an input size not known while importing) is not supported');
      wanted.sizes = undefined;
    }
    if (wanted.scales) {
      if (wanted.scales.some((s) => !(s > 0))) return ctx.fail(`scale factors must be positive, got [${wanted.scales.join(', ')}]`);
      scalesValue = ctx.builder.constant(tensorOfFloats([1, 1, ...wanted.scales]), 'scales');
    } else {
      const shape = ctx.emit('Shape', [x.value], {}, { rank: 1, dtype: 'int64' });
      const batchChannels = ctx.emit('Slice', [shape.value, ctx.int64Vector([0]), ctx.int64Vector([2])], {}, { rank: 1, dtype: 'int64' });
      sizesValue = ctx.emit('Concat', [batchChannels.value, ctx.int64Vector(wanted.sizes!)], { axis: 0 }, { rank: 1, dtype: 'int64' }).value;
    }
    const attributes: AttributeInits = kind === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : kind === 'nearest-exact'
        ? { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' }
        : kind === 'linear'
          ? { mode: 'linear', coordinate_transformation_mode: alignCorners ? 'align_corners' : 'pytorch_half_pixel' }
          : { mode: 'cubic', cubic_coeff_a: { kind: 'float', value: -0.75 }, coordinate_transformation_mode: alignCorners ? 'align_corners' : 'half_pixel' };
    return ctx.emit('Resize', [x.value, null, scalesValue, sizesValue], attributes, { rank: spatial + 2, dtype: x.dtype });
  };
}

function tensorOfFloats(values: number[]): Tensor {
  return Tensor.fromValues('float32', [values.length], values);
}

/**
 * `torch.grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)` (what `F.grid_sample`
 * becomes in TorchScript) → ONNX GridSample (opset 16 names): interpolation 0 bilinear, 1 nearest, 2 bicubic;
 * padding 0 zeros, 1 border, 2 reflection.
 */
const gridSampler: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const grid = ctx.tensor(ctx.arg(1), 'grid');
  const interpolation = ctx.int(ctx.arg(2, 'interpolation_mode'), 'interpolation_mode');
  const padding = ctx.int(ctx.arg(3, 'padding_mode'), 'padding_mode');
  const mode = ['bilinear', 'nearest', 'bicubic'][interpolation];
  const paddingMode = ['zeros', 'border', 'reflection'][padding];
  if (mode === undefined) return ctx.fail(`grid_sampler interpolation_mode ${interpolation} is not one of 0 (bilinear), 1 (nearest), 2 (bicubic)`);
  if (paddingMode === undefined) return ctx.fail(`grid_sampler padding_mode ${padding} is not one of 0 (zeros), 1 (border), 2 (reflection)`);
  const alignArg = ctx.arg(4, 'align_corners');
  const align = alignArg.kind === 'bool' ? alignArg.value : ctx.int(alignArg, 'align_corners') !== 0;
  const attributes: AttributeInits = { mode: { kind: 'string', value: mode }, padding_mode: { kind: 'string', value: paddingMode }, align_corners: { kind: 'int', value: align ? 1 : 0 } };
  return ctx.emit('GridSample', [x.value, grid.value], attributes, { rank: x.rank, dtype: x.dtype });
};

const antialiased: AtenLowering = (ctx) => ctx.fail('antialias=True is not supported (ONNX Resize at opset 17 has no antialiasing)');

export const resizeLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['upsample_nearest1d', resize('nearest', 1, false)],
  ['upsample_nearest2d', resize('nearest', 2, false)],
  ['upsample_nearest3d', resize('nearest', 3, false)],
  ['_upsample_nearest_exact1d', resize('nearest-exact', 1, false)],
  ['_upsample_nearest_exact2d', resize('nearest-exact', 2, false)],
  ['_upsample_nearest_exact3d', resize('nearest-exact', 3, false)],
  ['upsample_linear1d', resize('linear', 1, true)],
  ['upsample_bilinear2d', resize('linear', 2, true)],
  ['upsample_trilinear3d', resize('linear', 3, true)],
  ['upsample_bicubic2d', resize('cubic', 2, true)],
  ['_upsample_bilinear2d_aa', antialiased],
  ['_upsample_bicubic2d_aa', antialiased],
  ['grid_sampler', gridSampler],
];
