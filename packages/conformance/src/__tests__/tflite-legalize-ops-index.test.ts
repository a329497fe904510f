/**
 * Op coverage of legalize-tflite for indexing, data-dependent, scatter, unpooling/cropping, conv
 * variant and sampling ops, judged like tflite-legalize-ops-more.test.ts: the TFLite runtime
 * (TFLite 2.9) must be within 1e-4 of ONNX Runtime on the original model, and every node of the
 * result must be a tflite op. What cannot map is refused by node, with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type DType, type Model, type Value } from '@modelpass/ir';
import { inferShapes, runReference } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, maxAbsDifference, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface OpCase extends SingleInputCase {
  readonly name: string;
  /** Input value range (default [-1, 1]). */
  readonly range?: [number, number];
  /** TFLite builtins the result must contain (checked when given). */
  readonly uses?: readonly string[];
}

const f32 = (shape: number[], seed = 3, lo = -1, hi = 1): Tensor => seededTensor(shape, seed, lo, hi);
const i64 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
const int64Of = (b: GraphBuilder, x: Value): Value => b.op1('onnx.Cast', [x], { to: attrs.int(7) });

const CASES: OpCase[] = [
  // TopK beyond the last axis and the largest
  { name: 'TopK axis 1 (not last), values and indices', input: [2, 6, 3], build: (b, x) => b.op('onnx.TopK', [x, b.constant(i64([2]))], { axis: attrs.int(1) }, { outputs: 2 }), uses: ['TOPK_V2', 'TRANSPOSE'] },
  { name: 'TopK largest=0 (smallest), last axis', input: [3, 7], build: (b, x) => b.op('onnx.TopK', [x, b.constant(i64([3]))], { largest: attrs.int(0) }, { outputs: 2 }), uses: ['NEG'] },
  { name: 'TopK largest=0 axis 0, values only', input: [5, 4], build: (b, x) => b.op('onnx.TopK', [x, b.constant(i64([2]))], { axis: attrs.int(0), largest: attrs.int(0) }, { outputs: 2 })[0]! },
  // GatherND with batch_dims
  {
    name: 'GatherND batch_dims=1, run-time indices (negative ones)',
    input: [2, 3, 2],
    range: [-2.9, 2.9],
    build: (b, x) => b.op1('onnx.GatherND', [b.constant(f32([2, 3, 4], 11)), int64Of(b, x)], { batch_dims: attrs.int(1) }),
  },
  {
    name: 'GatherND batch_dims=2, constant indices over run-time data',
    input: [2, 3, 4, 5],
    build: (b, x) => b.op1('onnx.GatherND', [x, b.constant(i64([1, 3, 0, -1, 2, 2, 3, 0, 1, 1, 0, 4], [2, 3, 2]))], { batch_dims: attrs.int(2) }),
  },
  // Shape with start/end (opset 15)
  // (symbolic dims, so the slice of the shape is not folded into a constant)
  {
    name: 'Shape start=0 end=-1 of a run-time shape',
    input: ['n', 3, 'm'],
    opset: 15,
    build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Shape', [x], { start: attrs.int(0), end: attrs.int(-1) })], { to: attrs.int(1) }),
    uses: ['SHAPE', 'STRIDED_SLICE'],
  },
  { name: 'Shape start=-2 (to the end)', input: [2, 'n', 3, 'm'], opset: 15, build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Shape', [x], { start: attrs.int(-2) })], { to: attrs.int(1) }) },
  // data-dependent lengths with the data known when converting
  { name: 'Compress axis 1, constant condition (shorter than the axis)', input: [3, 5], build: (b, x) => b.op1('onnx.Compress', [x, b.constant(Tensor.fromValues('bool', [4], [true, false, true, true]))], { axis: attrs.int(1) }) },
  { name: 'Compress without axis (flattened)', input: [2, 3], build: (b, x) => b.op1('onnx.Compress', [x, b.constant(Tensor.fromValues('bool', [6], [false, true, false, false, true, true]))]) },
  {
    name: 'ReverseSequence batch_axis=1 time_axis=0',
    input: [4, 3, 2],
    opset: 10,
    build: (b, x) => b.op1('onnx.ReverseSequence', [x, b.constant(i64([4, 2, 1]))], { batch_axis: attrs.int(1), time_axis: attrs.int(0) }),
    uses: ['REVERSE_SEQUENCE'],
  },
  { name: 'ReverseSequence batch_axis=0 time_axis=1', input: [3, 5], opset: 10, build: (b, x) => b.op1('onnx.ReverseSequence', [x, b.constant(i64([5, 3, 0]))], { batch_axis: attrs.int(0), time_axis: attrs.int(1) }) },
  // scatters
  {
    name: 'ScatterElements axis 1, run-time updates, negative index',
    input: [2, 3],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [b.constant(f32([2, 5], 21)), b.constant(i64([0, -1, 2, 4, 1, 3], [2, 3])), x], { axis: attrs.int(1) }),
  },
  {
    name: 'ScatterElements axis 0 into run-time data',
    input: [3, 4],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(i64([2, 0, 1, 2, 0, -1, 0, 1], [2, 4])), b.constant(f32([2, 4], 22, 5, 6))], { axis: attrs.int(0) }),
  },
  {
    name: 'ScatterElements reduction=add with repeated indices',
    input: [3, 3],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(i64([1, 1, 0, 2, 2, 2], [2, 3])), b.constant(f32([2, 3], 23))], { axis: attrs.int(1), reduction: attrs.string('add') }),
  },
  { name: 'Scatter (opset 10 name)', input: [3, 3], opset: 10, build: (b, x) => b.op1('onnx.Scatter', [x, b.constant(i64([1, 0, 2, 0, 2, 1], [2, 3])), b.constant(f32([2, 3], 24, 4, 5))], { axis: attrs.int(0) }) },
  {
    name: 'ScatterND reduction=add with a repeated index',
    input: [4, 3],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterND', [x, b.constant(i64([1, 3, 1], [3, 1])), b.constant(f32([3, 3], 25))], { reduction: attrs.string('add') }),
  },
  // unpooling and cropping
  {
    name: 'MaxUnpool 2x2 stride 2 (constant MaxPool indices)',
    input: [1, 2, 2, 2],
    opset: 11,
    build: (b, x) => b.op1('onnx.MaxUnpool', [x, b.constant(i64([5, 2, 8, 15, 16, 19, 29, 31], [1, 2, 2, 2]))], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }),
  },
  {
    name: 'MaxUnpool 2x2 stride 1 with a shared index (overlapping windows), output_shape equal to the unpooled shape',
    input: [1, 1, 2, 2],
    opset: 11,
    build: (b, x) => {
      const equal = b.op1('onnx.Concat', [b.op1('onnx.Slice', [x, b.constant(i64([0])), b.constant(i64([1])), b.constant(i64([3]))]), b.op1('onnx.Slice', [x, b.constant(i64([0])), b.constant(i64([1])), b.constant(i64([3]))])], { axis: attrs.int(3) });
      return b.op1('onnx.MaxUnpool', [equal, b.constant(i64([4, 4, 8, 6], [1, 1, 2, 2])), b.constant(i64([1, 1, 3, 3]))], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([1, 1]) });
    },
  },
  { name: 'CenterCropPad crop and pad (odd differences)', input: [2, 5, 4], opset: 18, build: (b, x) => b.op1('onnx.CenterCropPad', [x, b.constant(i64([3, 7]))], { axes: attrs.ints([1, -1]) }) },
  { name: 'CenterCropPad all axes', input: [4, 4], opset: 18, build: (b, x) => b.op1('onnx.CenterCropPad', [x, b.constant(i64([2, 6]))]) },
  // transposed convolutions beyond TFLite's SAME/VALID: dilation, output_padding, any pads
  {
    name: 'ConvTranspose dilation 2, stride 2, bias',
    input: [1, 3, 4, 5],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([3, 2, 3, 3], 31, -0.5, 0.5)), b.constant(f32([2], 32))], { strides: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }),
    uses: ['TRANSPOSE_CONV'],
  },
  {
    name: 'ConvTranspose output_padding and asymmetric pads',
    input: [1, 2, 4, 4],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 3, 3, 3], 33, -0.5, 0.5))], { strides: attrs.ints([3, 2]), output_padding: attrs.ints([2, 1]), pads: attrs.ints([1, 0, 2, 1]) }),
    uses: ['TRANSPOSE_CONV', 'STRIDED_SLICE'],
  },
  {
    name: 'ConvTranspose output_shape attribute (pads implied)',
    input: [1, 2, 3, 3],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 2, 3, 3], 34, -0.5, 0.5))], { strides: attrs.ints([2, 2]), output_shape: attrs.ints([6, 5]) }),
  },
  { name: 'ConvTranspose auto_pad SAME_LOWER', input: [1, 2, 3, 4], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 2, 2, 2], 35, -0.5, 0.5))], { strides: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_LOWER') }) },
  { name: 'ConvTranspose auto_pad SAME_UPPER, kernel 3 stride 2', input: [1, 2, 3, 4], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 2, 3, 3], 36, -0.5, 0.5))], { strides: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_UPPER') }) },
  {
    name: 'ConvTranspose grouped, dilated, output_padding',
    input: [1, 4, 3, 3],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([4, 1, 2, 2], 37, -0.5, 0.5)), b.constant(f32([2], 38))], { group: attrs.int(2), strides: attrs.ints([2, 2]), dilations: attrs.ints([2, 1]), output_padding: attrs.ints([1, 1]) }),
  },
  {
    name: 'ConvTranspose 1-D stride 2, output_padding, pads, bias',
    input: [2, 3, 7],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([3, 4, 4], 39, -0.5, 0.5)), b.constant(f32([4], 40))], { strides: attrs.ints([2]), output_padding: attrs.ints([1]), pads: attrs.ints([1, 0]) }),
    uses: ['TRANSPOSE_CONV'],
  },
  {
    name: 'Conv 1-D → ConvTranspose 1-D dilated (an upsampling decoder)',
    input: [1, 2, 9],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([4, 2, 3], 46, -0.5, 0.5))], { pads: attrs.ints([1, 1]) });
      return b.op1('onnx.ConvTranspose', [b.op1('onnx.Relu', [conv]), b.constant(f32([4, 2, 3], 47, -0.5, 0.5))], { strides: attrs.ints([3]), dilations: attrs.ints([2]) });
    },
  },
  // 3-D windows
  {
    name: 'Conv 3-D stride 2, pads, bias',
    input: [1, 3, 5, 6, 7],
    build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([4, 3, 3, 3, 3], 41, -0.5, 0.5)), b.constant(f32([4], 42))], { strides: attrs.ints([2, 1, 2]), pads: attrs.ints([1, 1, 0, 1, 0, 2]) }),
    uses: ['CONV_3D'],
  },
  { name: 'Conv 3-D SAME_UPPER', input: [2, 2, 6, 5, 5], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([3, 2, 2, 3, 2], 43, -0.5, 0.5))], { auto_pad: attrs.string('SAME_UPPER'), strides: attrs.ints([2, 2, 1]) }) },
  { name: 'Conv 3-D dilation 2, pads', input: [1, 2, 6, 5, 7], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([3, 2, 2, 3, 2], 45, -0.5, 0.5))], { dilations: attrs.ints([2, 1, 3]), pads: attrs.ints([1, 1, 1, 1, 1, 1]) }) },
  { name: 'AveragePool 3-D SAME_UPPER, count_include_pad=1', input: [1, 2, 5, 4, 5], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3, 2, 3]), strides: attrs.ints([2, 2, 2]), auto_pad: attrs.string('SAME_UPPER'), count_include_pad: attrs.int(1) }) },
  { name: 'Conv 3-D grouped (group 2), bias', input: [1, 4, 3, 4, 5], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([6, 2, 2, 3, 3], 44, -0.5, 0.5)), b.constant(f32([6], 48))], { group: attrs.int(2), pads: attrs.ints([0, 1, 1, 1, 1, 1]) }) },
  {
    name: 'ConvTranspose 3-D stride 2, pads, output_padding, bias',
    input: [1, 3, 3, 4, 3],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([3, 2, 2, 3, 3], 49, -0.5, 0.5)), b.constant(f32([2], 50))], { strides: attrs.ints([2, 2, 1]), pads: attrs.ints([0, 1, 1, 1, 0, 0]), output_padding: attrs.ints([1, 0, 0]) }),
    uses: ['CONV_3D_TRANSPOSE'],
  },
  { name: 'ConvTranspose 3-D auto_pad SAME_UPPER, no bias', input: [2, 2, 3, 3, 2], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 3, 3, 3, 3], 79, -0.5, 0.5))], { strides: attrs.ints([2, 2, 2]), auto_pad: attrs.string('SAME_UPPER') }) },
  { name: 'MaxPool 3-D 2x2x2 stride 2', input: [1, 3, 4, 6, 5], build: (b, x) => b.op1('onnx.MaxPool', [x], { kernel_shape: attrs.ints([2, 2, 2]), strides: attrs.ints([2, 2, 2]) }), uses: ['MAX_POOL_2D'] },
  { name: 'MaxPool 3-D 3x3x3 stride 1, pads, ceil_mode', input: [1, 2, 5, 5, 6], build: (b, x) => b.op1('onnx.MaxPool', [x], { kernel_shape: attrs.ints([3, 3, 3]), strides: attrs.ints([2, 1, 2]), pads: attrs.ints([1, 1, 1, 1, 1, 1]), ceil_mode: attrs.int(1) }) },
  { name: 'AveragePool 3-D SAME_UPPER (padding not counted)', input: [1, 2, 5, 4, 5], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3, 2, 3]), strides: attrs.ints([2, 2, 2]), auto_pad: attrs.string('SAME_UPPER') }) },
  { name: 'AveragePool 3-D pads, count_include_pad=1', input: [1, 2, 4, 4, 4], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([2, 3, 3]), pads: attrs.ints([0, 1, 1, 1, 1, 1]), count_include_pad: attrs.int(1) }) },
  // Resize modes no RESIZE_* builtin reproduces: constant interpolation matrices (BATCH_MATMUL in NHWC for an image resized in H/W)
  ...([
    ['cubic half_pixel', { mode: attrs.string('cubic') }],
    ['cubic align_corners, a=-0.5', { mode: attrs.string('cubic'), coordinate_transformation_mode: attrs.string('align_corners'), cubic_coeff_a: attrs.float(-0.5) }],
    ['cubic asymmetric, exclude_outside', { mode: attrs.string('cubic'), coordinate_transformation_mode: attrs.string('asymmetric'), exclude_outside: attrs.int(1) }],
    ['nearest half_pixel round_prefer_floor (ONNX default)', {}],
    ['linear half_pixel_symmetric', { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('half_pixel_symmetric') }],
  ] as const).map(([what, attributes]): OpCase => ({
    name: `Resize ${what}, scales 2 x 1.5`,
    input: [1, 2, 4, 6],
    opset: 19,
    build: (b, x) => b.op1('onnx.Resize', [x, b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [4], [1, 1, 2, 1.5]))], attributes),
    uses: ['BATCH_MATMUL'],
  })),
  {
    name: 'Resize cubic downscale with antialias (sizes)',
    input: [1, 2, 8, 9],
    opset: 18,
    build: (b, x) => b.op1('onnx.Resize', [x, b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [0], [])), b.constant(i64([1, 2, 3, 5]))], { mode: attrs.string('cubic'), antialias: attrs.int(1) }),
  },
  {
    name: 'Resize linear tf_crop_and_resize (roi, extrapolation 0)',
    input: [1, 1, 5, 6],
    opset: 13,
    build: (b, x) => b.op1('onnx.Resize', [x, b.constant(Tensor.fromValues('float32', [8], [0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2])), b.constant(Tensor.fromValues('float32', [0], [])), b.constant(i64([1, 1, 4, 4]))], { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('tf_crop_and_resize') }),
  },
  { name: 'Resize nearest of a rank-3 tensor (last axis, fractional scale)', input: [2, 3, 5], opset: 13, build: (b, x) => b.op1('onnx.Resize', [x, b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [3], [1, 1, 1.7]))], { nearest_mode: attrs.string('ceil') }) },
  // sampling: GridSample (gathers + weights) and AffineGrid (a matrix product)
  ...([
    ['bilinear zeros', {}],
    ['bilinear zeros align_corners', { align_corners: attrs.int(1) }],
    ['bilinear border', { padding_mode: attrs.string('border') }],
    ['nearest zeros', { mode: attrs.string('nearest') }],
    ['nearest border align_corners', { mode: attrs.string('nearest'), padding_mode: attrs.string('border'), align_corners: attrs.int(1) }],
    ['bicubic zeros', { mode: attrs.string('bicubic') }],
    ['bicubic border align_corners', { mode: attrs.string('bicubic'), padding_mode: attrs.string('border'), align_corners: attrs.int(1) }],
    ['bilinear reflection', { padding_mode: attrs.string('reflection') }],
    ['nearest reflection align_corners', { mode: attrs.string('nearest'), padding_mode: attrs.string('reflection'), align_corners: attrs.int(1) }],
    ['bicubic reflection', { mode: attrs.string('bicubic'), padding_mode: attrs.string('reflection') }],
  ] as const).map(([what, attributes]): OpCase => ({
    name: `GridSample ${what} (grid partly outside)`,
    input: [2, 3, 4, 5],
    opset: 16,
    build: (b, x) => b.op1('onnx.GridSample', [x, b.constant(f32([2, 3, 6, 2], 51, -2.6, 2.6))], attributes),
    uses: ['GATHER_ND'],
  })),
  {
    name: 'GridSample linear (opset 20) of a run-time grid',
    input: [1, 4, 3, 2],
    opset: 20,
    range: [-1.2, 1.2],
    build: (b, x) => b.op1('onnx.GridSample', [b.constant(f32([1, 3, 5, 6], 52)), x], { mode: attrs.string('linear') }),
  },
  { name: 'AffineGrid 2-D', input: [2, 2, 3], opset: 20, build: (b, x) => b.op1('onnx.AffineGrid', [x, b.constant(i64([2, 3, 4, 5]))]), uses: ['BATCH_MATMUL'] },
  { name: 'AffineGrid 3-D align_corners', input: [1, 3, 4], opset: 20, build: (b, x) => b.op1('onnx.AffineGrid', [x, b.constant(i64([1, 2, 3, 4, 2]))], { align_corners: attrs.int(1) }) },
  {
    name: 'AffineGrid → GridSample (a spatial transformer)',
    input: [1, 2, 3],
    opset: 20,
    range: [-0.8, 0.8],
    build: (b, x) => b.op1('onnx.GridSample', [b.constant(f32([1, 2, 5, 5], 53)), b.op1('onnx.AffineGrid', [x, b.constant(i64([1, 2, 4, 6]))])], {}),
  },
  // Col2Im: SCATTER_ND sums overlapping blocks
  { name: 'Col2Im 2x2 blocks stride 1 (overlapping)', input: [1, 8, 12], opset: 18, build: (b, x) => b.op1('onnx.Col2Im', [x, b.constant(i64([4, 5])), b.constant(i64([2, 2]))]), uses: ['SCATTER_ND'] },
  {
    name: 'Col2Im strides, dilations, pads',
    input: [2, 6, 6],
    opset: 18,
    build: (b, x) => b.op1('onnx.Col2Im', [x, b.constant(i64([5, 4])), b.constant(i64([3, 1]))], { strides: attrs.ints([2, 2]), dilations: attrs.ints([2, 1]), pads: attrs.ints([2, 1, 1, 0]) }),
  },
  // RoiAlign with a fixed sampling_ratio (rois partly outside the image)
  ...([
    ['avg half_pixel, sampling_ratio 2', 16, { output_height: attrs.int(3), output_width: attrs.int(2), sampling_ratio: attrs.int(2), spatial_scale: attrs.float(0.5) }],
    ['max output_half_pixel, sampling_ratio 3', 16, { mode: attrs.string('max'), coordinate_transformation_mode: attrs.string('output_half_pixel'), output_height: attrs.int(2), output_width: attrs.int(2), sampling_ratio: attrs.int(3) }],
    ['avg opset 10 (output_half_pixel), sampling_ratio 1', 10, { output_height: attrs.int(4), output_width: attrs.int(3), sampling_ratio: attrs.int(1) }],
  ] as const).map(([what, opset, attributes]): OpCase => ({
    name: `RoiAlign ${what}`,
    input: [2, 3, 6, 7],
    opset,
    build: (b, x) => {
      const rois = b.constant(Tensor.fromValues('float32', [4, 4], [0, 0, 6, 5, 1.5, 2.2, 4.1, 5.9, -2, -1, 3, 2.5, 5, 4, 9, 8]));
      return b.op1('onnx.RoiAlign', [x, rois, b.constant(i64([0, 1, 1, 0]))], attributes);
    },
    uses: ['GATHER_ND'],
  })),
  {
    name: 'RoiAlign of run-time rois',
    input: [3, 4],
    opset: 16,
    range: [0, 5],
    build: (b, x) => b.op1('onnx.RoiAlign', [b.constant(f32([1, 2, 6, 6], 61)), x, b.constant(i64([0, 0, 0]))], { output_height: attrs.int(2), output_width: attrs.int(2), sampling_ratio: attrs.int(2) }),
  },
  // DeformConv: a deformable im2col (GATHER_ND taps) and one FULLY_CONNECTED
  {
    name: 'DeformConv group 2, offset_group 2, mask, pads',
    input: [1, 4, 5, 5],
    opset: 19,
    build: (b, x) =>
      b.op1('onnx.DeformConv', [x, b.constant(f32([6, 2, 3, 3], 71, -0.5, 0.5)), b.constant(f32([1, 36, 5, 5], 72, -2, 2)), null, b.constant(f32([1, 18, 5, 5], 73, 0, 1))], {
        group: attrs.int(2),
        offset_group: attrs.int(2),
        pads: attrs.ints([1, 1, 1, 1]),
      }),
  },
  {
    name: 'DeformConv stride 2, dilation 2, bias',
    input: [2, 3, 7, 8],
    opset: 19,
    build: (b, x) => b.op1('onnx.DeformConv', [x, b.constant(f32([2, 3, 2, 3], 74, -0.5, 0.5)), b.constant(f32([2, 12, 3, 2], 75, -1.5, 1.5)), b.constant(f32([2], 76))], { strides: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }),
  },
  {
    name: 'DeformConv of run-time offsets (no mask)',
    input: [1, 18, 4, 4],
    opset: 19,
    range: [-2.5, 2.5],
    build: (b, x) => b.op1('onnx.DeformConv', [b.constant(f32([1, 2, 6, 6], 77)), b.constant(f32([3, 2, 3, 3], 78, -0.5, 0.5)), x], {}),
    uses: ['GATHER_ND', 'FULLY_CONNECTED'],
  },
  // MaxRoiPool: per-bin masks from the rounded rois, masked REDUCE_MAX over columns then rows
  ...([
    ['pooled 2x3, scale 0.5', [2, 3], 0.5],
    ['pooled 3x3 (empty bins of a tiny roi)', [3, 3], 1],
  ] as const).map(([what, pooled, scale]): OpCase => ({
    name: `MaxRoiPool ${what}`,
    input: [2, 3, 6, 7],
    opset: 13,
    build: (b, x) => {
      const rois = b.constant(Tensor.fromValues('float32', [4, 5], [0, 0, 0, 12, 10, 1, 3, 4.6, 9.4, 11, 1, -2, -1, 4, 3, 0, 5, 5, 5.4, 5.2]));
      return b.op1('onnx.MaxRoiPool', [x, rois], { pooled_shape: attrs.ints([...pooled]), spatial_scale: attrs.float(scale) });
    },
    uses: ['REDUCE_MAX'],
  })),
  // TensorScatter (opset 24): KV-cache writes through SCATTER_ND
  { name: 'TensorScatter linear, write_indices', input: [2, 5, 3], opset: 24, build: (b, x) => b.op1('onnx.TensorScatter', [x, b.constant(f32([2, 2, 3], 81, 5, 6)), b.constant(i64([1, 3]))]), uses: ['SCATTER_ND'] },
  { name: 'TensorScatter without write_indices', input: [2, 4, 3], opset: 24, build: (b, x) => b.op1('onnx.TensorScatter', [x, b.constant(f32([2, 3, 3], 82, 5, 6))]) },
  {
    name: 'TensorScatter circular, rank 4 cache',
    input: [2, 2, 6, 4],
    opset: 24,
    build: (b, x) => b.op1('onnx.TensorScatter', [x, b.constant(f32([2, 2, 3, 4], 83, 5, 6)), b.constant(i64([4, 5]))], { mode: attrs.string('circular') }),
  },
  {
    name: 'TensorScatter circular of run-time write_indices, axis 1',
    input: [2],
    opset: 24,
    range: [0, 4.9],
    build: (b, x) => b.op1('onnx.TensorScatter', [b.constant(f32([2, 5, 3], 84)), b.constant(f32([2, 2, 3], 85, 5, 6)), int64Of(b, x)], { mode: attrs.string('circular'), axis: attrs.int(1) }),
  },
];

const buildCase = (testCase: OpCase): Model => singleInputModel(testCase);

describe('legalize-tflite, indexing/scatter/crop ops: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = buildCase(testCase);
      const converted = buildCase(testCase);
      await legalize(converted, 'optimize=false');
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      for (const builtin of testCase.uses ?? []) expect(ops).toContain(`tflite.${builtin}`);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7, testCase.range ?? [-1, 1]));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});

interface RefusalCase {
  readonly name: string;
  readonly input: readonly (number | string)[];
  readonly dtype?: DType;
  readonly opset?: number;
  readonly build: (b: GraphBuilder, x: Value) => Value | Value[];
  readonly reason: RegExp;
}

const REFUSALS: RefusalCase[] = [
  {
    name: 'MaxUnpool with an output_shape larger than the unpooled shape',
    input: [1, 1, 2, 2],
    opset: 11,
    build: (b, x) => b.op1('onnx.MaxUnpool', [x, b.constant(i64([5, 7, 13, 15], [1, 1, 2, 2])), b.constant(i64([1, 1, 5, 5]))], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }),
    reason: /output_shape \[1,1,5,5\] other than the unpooled shape is ambiguous/,
  },
  {
    name: 'AveragePool 3-D with explicit pads not counted',
    input: [1, 1, 4, 4, 4],
    build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([2, 2, 2]), pads: attrs.ints([1, 0, 0, 0, 0, 0]) }),
    reason: /count_include_pad=0\) only maps when the pads equal SAME/,
  },
  {
    name: 'Resize tf_crop_and_resize with extrapolation_value 10',
    input: [1, 1, 4, 4],
    opset: 13,
    build: (b, x) => b.op1('onnx.Resize', [x, b.constant(Tensor.fromValues('float32', [8], [0, 0, -0.5, 0, 1, 1, 1, 1])), b.constant(Tensor.fromValues('float32', [0], [])), b.constant(i64([1, 1, 3, 3]))], { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('tf_crop_and_resize'), extrapolation_value: attrs.float(10) }),
    reason: /tf_crop_and_resize with a non-zero extrapolation_value is not a linear map/,
  },
  {
    name: 'RoiAlign with sampling_ratio 0 (adaptive)',
    input: [1, 1, 4, 4],
    opset: 16,
    build: (b, x) => b.op1('onnx.RoiAlign', [x, b.constant(Tensor.fromValues('float32', [1, 4], [0, 0, 3, 3])), b.constant(i64([0]))], {}),
    reason: /RoiAlign with sampling_ratio 0 samples/,
  },
  {
    name: 'ScatterElements reduction=max',
    input: [3, 3],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(i64([1, 1, 0], [1, 3])), b.constant(f32([1, 3], 26))], { reduction: attrs.string('max') }),
    reason: /ScatterElements with reduction 'max' has no TFLite equivalent/,
  },
];

describe('legalize-tflite refuses what cannot map, by node and reason', () => {
  for (const testCase of REFUSALS) {
    it(testCase.name, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType(testCase.dtype ?? 'float32', [...testCase.input]));
      const y = testCase.build(b, x);
      b.output(...(Array.isArray(y) ? y : [y]));
      const model = b.model({ onnx: testCase.opset ?? 17 });
      inferShapes(model, { mode: 'refresh' });
      const refused = model.graph.nodeList().at(-1)!;
      const error = await legalize(model, 'optimize=false').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ModelpassError);
      const diagnostics = (error as ModelpassError).diagnostics;
      const named = diagnostics.find((d) => d.location?.node === refused.name);
      expect(named, JSON.stringify(diagnostics.map((d) => [d.reason, d.location]))).toBeDefined();
      expect(named!.reason).toMatch(testCase.reason);
      expect(model.graph.nodeList().some((node) => node.op.startsWith('tflite.'))).toBe(false);
    });
  }
});

/** Ops this family added to the canonical set: the reference kernel (and inferred shape) against ONNX Runtime. */
const KERNEL_ONLY: OpCase[] = [
  ...([
    ['bicubic zeros', { mode: attrs.string('bicubic') }],
    ['bicubic border align_corners', { mode: attrs.string('bicubic'), padding_mode: attrs.string('border'), align_corners: attrs.int(1) }],
    ['bilinear reflection', { padding_mode: attrs.string('reflection') }],
    ['nearest reflection align_corners', { mode: attrs.string('nearest'), padding_mode: attrs.string('reflection'), align_corners: attrs.int(1) }],
  ] as const).map(([what, attributes]): OpCase => ({
    name: `GridSample ${what} (kernel only)`,
    input: [2, 3, 4, 5],
    opset: 16,
    build: (b, x) => b.op1('onnx.GridSample', [x, b.constant(f32([2, 3, 6, 2], 56, -2.5, 2.5))], attributes),
  })),
  ...(['avg', 'max'] as const).map((mode): OpCase => ({
    name: `RoiAlign ${mode} sampling_ratio 0 (adaptive; kernel only)`,
    input: [1, 2, 8, 8],
    opset: 16,
    build: (b, x) => b.op1('onnx.RoiAlign', [x, b.constant(Tensor.fromValues('float32', [2, 4], [0.5, 1, 7, 6.5, 2, 2, 3, 9])), b.constant(i64([0, 0]))], { mode: attrs.string(mode), output_height: attrs.int(2), output_width: attrs.int(3) }),
  })),
];
const KERNEL_CASES = [...CASES.filter((testCase) => /^(MaxUnpool|CenterCropPad|Scatter \(|GridSample|AffineGrid|Col2Im|RoiAlign|DeformConv|MaxRoiPool|TensorScatter)/.test(testCase.name)), ...KERNEL_ONLY];

describe('reference kernels of the added ops match ONNX Runtime', () => {
  for (const testCase of KERNEL_CASES) {
    it(testCase.name, async () => {
      const model = buildCase(testCase);
      const feeds = feedsFor(model, 9);
      const expected = await runOrt(model, feeds);
      const actual = runReference(model, feeds);
      for (const output of model.graph.outputs) {
        const got = actual.get(output.name) as Tensor;
        expect(maxAbsDifference(expected.get(output.name)!, got)).toBeLessThanOrEqual(1e-5);
        expect(output.type).toEqual(tensorType('float32', got.shape));
      }
    });
  }
});
