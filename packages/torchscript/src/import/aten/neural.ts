/** Convolution, normalization, pooling and linear aten ops → ONNX Conv/BatchNormalization/…/MatMul. */
import { Tensor } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { pythonSum, rankOf } from './python-builtins.js';

function convolution(ctx: LoweringContext, options: { transposed: boolean; stride: ScriptValue; padding: ScriptValue; dilation: ScriptValue; groups: ScriptValue; outputPadding?: ScriptValue }): ScriptValue {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const weight = ctx.tensor(ctx.arg(1, 'weight'), 'weight');
  const biasArg = ctx.arg(2, 'bias');
  const spatial = (weight.rank ?? 4) - 2;
  const stride = ctx.ints(options.stride, 'stride', spatial);
  const dilation = ctx.ints(options.dilation, 'dilation', spatial);
  const groups = ctx.int(options.groups, 'groups');
  let pads: number[];
  if (options.padding.kind === 'str') {
    if (options.padding.value !== 'valid') return ctx.fail(`padding='${options.padding.value}' is not supported yet (only 'valid' and explicit padding)`);
    pads = new Array<number>(spatial * 2).fill(0);
  } else {
    const padding = ctx.ints(options.padding, 'padding', spatial);
    pads = [...padding, ...padding];
  }
  const inputs = [x.value, weight.value, biasArg.kind === 'none' ? null : ctx.tensor(biasArg, 'bias').value];
  const attributes: Record<string, number[] | number> = { strides: stride, pads, dilations: dilation, group: groups };
  if (options.transposed) {
    if (options.outputPadding) attributes['output_padding'] = ctx.ints(options.outputPadding, 'output_padding', spatial);
    return ctx.emit('ConvTranspose', inputs, attributes, { rank: weight.rank, dtype: x.dtype });
  }
  return ctx.emit('Conv', inputs, attributes, { rank: weight.rank, dtype: x.dtype });
}

/** `aten::_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, …)`. */
const underscoreConvolution: AtenLowering = (ctx) =>
  convolution(ctx, {
    stride: ctx.arg(3, 'stride'),
    padding: ctx.arg(4, 'padding'),
    dilation: ctx.arg(5, 'dilation'),
    transposed: ctx.bool(ctx.arg(6, 'transposed'), 'transposed'),
    outputPadding: ctx.arg(7, 'output_padding'),
    groups: ctx.arg(8, 'groups'),
  });

/** `aten::conv{1,2,3}d(input, weight, bias, stride=1, padding=0, dilation=1, groups=1)`. */
const convNd: AtenLowering = (ctx) =>
  convolution(ctx, {
    transposed: false,
    stride: ctx.arg(3, 'stride', { kind: 'int', value: 1 }),
    padding: ctx.arg(4, 'padding', { kind: 'int', value: 0 }),
    dilation: ctx.arg(5, 'dilation', { kind: 'int', value: 1 }),
    groups: ctx.arg(6, 'groups', { kind: 'int', value: 1 }),
  });

/** `aten::conv_transpose{1,2,3}d(input, weight, bias, stride=1, padding=0, output_padding=0, groups=1, dilation=1)`. */
const convTransposeNd: AtenLowering = (ctx) =>
  convolution(ctx, {
    transposed: true,
    stride: ctx.arg(3, 'stride', { kind: 'int', value: 1 }),
    padding: ctx.arg(4, 'padding', { kind: 'int', value: 0 }),
    outputPadding: ctx.arg(5, 'output_padding', { kind: 'int', value: 0 }),
    groups: ctx.arg(6, 'groups', { kind: 'int', value: 1 }),
    dilation: ctx.arg(7, 'dilation', { kind: 'int', value: 1 }),
  });

/** A per-channel constant of `like`'s length (batch_norm without affine weights). */
function filled(ctx: LoweringContext, like: TensorValue, value: number): TensorValue {
  const length = like.value.constant?.shape[0];
  if (length === undefined) return ctx.fail('batch_norm without weight needs running statistics stored as constants');
  return { kind: 'tensor', value: ctx.builder.constant(Tensor.fromValues('float32', [length], new Array<number>(length).fill(value)), 'const'), rank: 1, dtype: 'float32' };
}

/** `aten::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)` in eval mode. */
const batchNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  if (ctx.bool(ctx.arg(5, 'training'), 'training')) return ctx.fail('batch_norm in training mode (batch statistics) is not supported; save the model in eval mode');
  const mean = ctx.tensor(ctx.arg(3, 'running_mean'), 'running_mean');
  const variance = ctx.tensor(ctx.arg(4, 'running_var'), 'running_var');
  const weightArg = ctx.arg(1, 'weight');
  const biasArg = ctx.arg(2, 'bias');
  const scale = weightArg.kind === 'none' ? filled(ctx, mean, 1) : ctx.tensor(weightArg, 'weight');
  const bias = biasArg.kind === 'none' ? filled(ctx, mean, 0) : ctx.tensor(biasArg, 'bias');
  const epsilon = ctx.float(ctx.arg(7, 'eps'), 'eps');
  return ctx.emit('BatchNormalization', [x.value, scale.value, bias.value, mean.value, variance.value], { epsilon: { kind: 'float', value: epsilon } }, { rank: x.rank, dtype: x.dtype });
};

/** `aten::layer_norm(input, normalized_shape, weight, bias, eps, cudnn)`. */
const layerNorm: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const normalized = ctx.ints(ctx.arg(1, 'normalized_shape'), 'normalized_shape');
  const weightArg = ctx.arg(2, 'weight');
  const biasArg = ctx.arg(3, 'bias');
  const epsilon = ctx.float(ctx.arg(4, 'eps', { kind: 'float', value: 1e-5 }), 'eps');
  const size = normalized.reduce((a, b) => a * b, 1);
  const scale = weightArg.kind === 'none' ? ctx.builder.constant(Tensor.fromValues('float32', normalized, new Array<number>(size).fill(1)), 'const') : ctx.tensor(weightArg, 'weight').value;
  // No bias: a zero bias rather than an empty optional input, on which ONNX Runtime 1.x's CPU LayerNormalization crashes (segfault).
  const bias = biasArg.kind === 'none' ? ctx.builder.constant(Tensor.fromValues('float32', normalized, new Array<number>(size).fill(0)), 'const') : ctx.tensor(biasArg, 'bias').value;
  return ctx.emit('LayerNormalization', [x.value, scale, bias], { axis: -normalized.length, epsilon: { kind: 'float', value: epsilon } }, { rank: x.rank, dtype: x.dtype });
};

/** `aten::linear(input, weight, bias)`: input · weightᵀ + bias. */
const linear: AtenLowering = (ctx) => {
  const x = ctx.tensor(ctx.arg(0), 'input');
  const weight = ctx.tensor(ctx.arg(1, 'weight'), 'weight');
  const biasArg = ctx.arg(2, 'bias');
  if (x.rank === 2 && weight.rank === 2) {
    return ctx.emit('Gemm', [x.value, weight.value, biasArg.kind === 'none' ? null : ctx.tensor(biasArg, 'bias').value], { transB: 1 }, { rank: 2, dtype: x.dtype });
  }
  const transposed = ctx.emit('Transpose', [weight.value], { perm: [1, 0] }, { rank: 2, dtype: weight.dtype });
  const product = ctx.emit('MatMul', [x.value, transposed.value], {}, { rank: x.rank, dtype: x.dtype });
  if (biasArg.kind === 'none') return product;
  return ctx.emit('Add', [product.value, ctx.tensor(biasArg, 'bias').value], {}, { rank: x.rank, dtype: x.dtype });
};

/** `aten::addmm(bias, a, b, beta=1, alpha=1)` → Gemm. */
const addmm: AtenLowering = (ctx) => {
  const bias = ctx.tensor(ctx.arg(0), 'self');
  const a = ctx.tensor(ctx.arg(1, 'mat1'), 'mat1');
  const b = ctx.tensor(ctx.arg(2, 'mat2'), 'mat2');
  const beta = ctx.float(ctx.arg(3, 'beta', { kind: 'int', value: 1 }), 'beta');
  const alpha = ctx.float(ctx.arg(4, 'alpha', { kind: 'int', value: 1 }), 'alpha');
  return ctx.emit('Gemm', [a.value, b.value, bias.value], { alpha: { kind: 'float', value: alpha }, beta: { kind: 'float', value: beta } }, { rank: 2, dtype: a.dtype });
};

function matmul(ctx: LoweringContext): ScriptValue {
  const a = ctx.tensor(ctx.arg(0), 'self');
  const b = ctx.tensor(ctx.arg(1, 'other'), 'other');
  const rank = a.rank === undefined || b.rank === undefined ? undefined : Math.max(a.rank, b.rank);
  return ctx.emit('MatMul', [a.value, b.value], {}, { rank, dtype: a.dtype });
}

function pool(onnxOp: 'MaxPool' | 'AveragePool'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const spatial = x.rank === undefined ? 2 : x.rank - 2;
    const kernel = ctx.ints(ctx.arg(1, 'kernel_size'), 'kernel_size', spatial);
    const strideArg = ctx.arg(2, 'stride');
    const stride = strideArg.kind === 'none' || (strideArg.kind === 'list' && strideArg.items.length === 0) ? kernel : ctx.ints(strideArg, 'stride', spatial);
    const padding = ctx.ints(ctx.arg(3, 'padding', { kind: 'int', value: 0 }), 'padding', spatial);
    const attributes: Record<string, number | number[]> = { kernel_shape: kernel, strides: stride, pads: [...padding, ...padding] };
    if (onnxOp === 'MaxPool') {
      attributes['dilations'] = ctx.ints(ctx.arg(4, 'dilation', { kind: 'int', value: 1 }), 'dilation', spatial);
      attributes['ceil_mode'] = ctx.bool(ctx.arg(5, 'ceil_mode', { kind: 'bool', value: false }), 'ceil_mode') ? 1 : 0;
    } else {
      attributes['ceil_mode'] = ctx.bool(ctx.arg(4, 'ceil_mode', { kind: 'bool', value: false }), 'ceil_mode') ? 1 : 0;
      attributes['count_include_pad'] = ctx.bool(ctx.arg(5, 'count_include_pad', { kind: 'bool', value: true }), 'count_include_pad') ? 1 : 0;
      const divisor = ctx.arg(6, 'divisor_override');
      if (divisor.kind !== 'none') return ctx.fail('avg_pool with divisor_override is not supported');
    }
    return ctx.emit(onnxOp, [x.value], attributes, { rank: x.rank, dtype: x.dtype });
  };
}

function reduction(onnxOp: 'ReduceMean' | 'ReduceSum'): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'self');
    const dimArg = ctx.arg(1, 'dim');
    const keepdim = ctx.bool(ctx.arg(2, 'keepdim', { kind: 'bool', value: false }), 'keepdim');
    if (dimArg.kind === 'none' || (dimArg.kind === 'list' && dimArg.items.length === 0)) {
      return ctx.emit(onnxOp, [x.value], { keepdims: 0 }, { rank: 0, dtype: x.dtype });
    }
    const axes = ctx.ints(dimArg, 'dim');
    const rank = x.rank === undefined ? undefined : keepdim ? x.rank : x.rank - axes.length;
    if (onnxOp === 'ReduceSum') return ctx.emit(onnxOp, [x.value, ctx.int64Vector(axes)], { keepdims: keepdim ? 1 : 0 }, { rank, dtype: x.dtype });
    return ctx.emit(onnxOp, [x.value], { axes, keepdims: keepdim ? 1 : 0 }, { rank, dtype: x.dtype });
  };
}

export const neuralLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['_convolution', underscoreConvolution],
  ['conv1d', convNd],
  ['conv2d', convNd],
  ['conv3d', convNd],
  ['conv_transpose1d', convTransposeNd],
  ['conv_transpose2d', convTransposeNd],
  ['conv_transpose3d', convTransposeNd],
  ['batch_norm', batchNorm],
  ['layer_norm', layerNorm],
  ['linear', linear],
  ['addmm', addmm],
  ['matmul', matmul],
  ['bmm', matmul],
  ['mm', matmul],
  ['max_pool1d', pool('MaxPool')],
  ['max_pool2d', pool('MaxPool')],
  ['max_pool3d', pool('MaxPool')],
  ['avg_pool1d', pool('AveragePool')],
  ['avg_pool2d', pool('AveragePool')],
  ['avg_pool3d', pool('AveragePool')],
  ['mean', reduction('ReduceMean')],
  ['sum', (ctx) => {
    const list = ctx.arg(0);
    if (list.kind === 'list' || list.kind === 'tuple') return pythonSum(list) ?? ctx.fail('sum() of a list holding computed values');
    return reduction('ReduceSum')(ctx);
  }],
];
export { rankOf };
