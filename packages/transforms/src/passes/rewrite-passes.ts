import {
  canonicalPatterns,
  eliminateDropout,
  eliminateIdentity,
  eliminateNoopCast,
  eliminateNoopExpand,
  eliminateNoopPad,
  eliminateNoopReshape,
  eliminateNoopSlice,
  eliminateNoopTranspose,
  eliminateSingleInputConcat,
  fuseAddIntoConvBias,
  fuseBatchNormIntoConv,
  fuseBatchNormIntoGemm,
  fuseConsecutiveConcats,
  fuseConsecutiveReshapes,
  fuseConsecutiveSqueezes,
  fuseConsecutiveTransposes,
  fuseMatMulAddIntoGemm,
  fusePadIntoConv,
  fusePadIntoPool,
  fuseScaleIntoConv,
  fuseScaleIntoGemm,
  fuseTransposeIntoGemm,
} from '../patterns/index.js';
import { definePatternPass } from './pattern-pass.js';

export const canonicalize = definePatternPass({
  name: 'canonicalize',
  summary: 'Apply local simplifications (x*1, x+0, identities, double transposes, no-op reshapes...) to a fixed point',
  description:
    'Rewrites from a table of patterns indexed by op, plus the rewrite patterns of loaded plugins, until none applies. ' +
    'Every pattern keeps outputs bit-identical (x + 0 may turn -0 into +0).',
  patterns: canonicalPatterns,
  pluginPatterns: true,
});

export const eliminateIdentityPass = definePatternPass({ name: 'eliminate-identity', summary: 'Remove Identity nodes', patterns: [eliminateIdentity] });
export const eliminateDropoutPass = definePatternPass({
  name: 'eliminate-dropout',
  summary: 'Remove inference-mode Dropout whose mask is unused',
  patterns: [eliminateDropout],
});
export const eliminateNoopPass = definePatternPass({
  name: 'eliminate-noop',
  summary: 'Remove Transpose/Pad/Cast/Reshape/Expand/Slice/Concat nodes that return their input unchanged',
  patterns: [
    eliminateNoopTranspose,
    eliminateNoopPad,
    eliminateNoopCast,
    eliminateNoopReshape,
    eliminateNoopExpand,
    eliminateNoopSlice,
    eliminateSingleInputConcat,
  ],
});

export const fuseBatchNormPass = definePatternPass({
  name: 'fuse-bn',
  summary: 'Fold inference BatchNormalization into a preceding Conv, ConvTranspose, Gemm or 2-D MatMul',
  patterns: [fuseBatchNormIntoConv, fuseBatchNormIntoGemm],
});
export const fuseBatchNormIntoConvPass = definePatternPass({
  name: 'fuse-bn-into-conv',
  summary: 'Fold inference BatchNormalization into a preceding Conv or ConvTranspose',
  patterns: [fuseBatchNormIntoConv],
});
export const fuseBatchNormIntoGemmPass = definePatternPass({
  name: 'fuse-bn-into-gemm',
  summary: 'Fold inference BatchNormalization into a preceding Gemm or 2-D MatMul (giving a Gemm)',
  patterns: [fuseBatchNormIntoGemm],
});
export const fuseAddIntoConvBiasPass = definePatternPass({
  name: 'fuse-add-into-conv-bias',
  summary: 'Fold a per-channel constant Add after a Conv or ConvTranspose into its bias',
  patterns: [fuseAddIntoConvBias],
});
export const fuseMulIntoWeightsPass = definePatternPass({
  name: 'fuse-mul-into-weights',
  summary: 'Fold a per-channel constant Mul/Div after a Conv, ConvTranspose, Gemm or 2-D MatMul into its weights',
  patterns: [fuseScaleIntoConv, fuseScaleIntoGemm],
});
export const fuseMatMulAddIntoGemmPass = definePatternPass({
  name: 'fuse-matmul-add-into-gemm',
  summary: 'Turn a 2-D MatMul followed by a broadcastable Add into one Gemm',
  patterns: [fuseMatMulAddIntoGemm],
});
export const fuseTransposeIntoGemmPass = definePatternPass({
  name: 'fuse-transpose-into-gemm',
  summary: 'Fold a 2-D Transpose feeding Gemm into its transA/transB flag',
  patterns: [fuseTransposeIntoGemm],
});
export const fuseConsecutiveTransposesPass = definePatternPass({
  name: 'fuse-consecutive-transposes',
  summary: 'Compose consecutive Transposes into one (or none)',
  patterns: [fuseConsecutiveTransposes],
});
export const fuseConsecutiveSqueezesPass = definePatternPass({
  name: 'fuse-consecutive-squeezes',
  summary: 'Merge consecutive Squeezes or Unsqueezes; cancel Squeeze(Unsqueeze(x)) on the same axes',
  patterns: [fuseConsecutiveSqueezes],
});
export const fuseConsecutiveReshapesPass = definePatternPass({
  name: 'fuse-consecutive-reshapes',
  summary: 'Skip a Reshape that only feeds another Reshape with a fully specified target',
  patterns: [fuseConsecutiveReshapes],
});
export const fuseConsecutiveConcatsPass = definePatternPass({
  name: 'fuse-consecutive-concats',
  summary: 'Flatten a single-use Concat into the Concat it feeds on the same axis',
  patterns: [fuseConsecutiveConcats],
});
export const fusePadIntoConvPass = definePatternPass({
  name: 'fuse-pad-into-conv',
  summary: 'Fold a zero constant Pad on spatial dims into the Conv it feeds',
  patterns: [fusePadIntoConv],
});
export const fusePadIntoPoolPass = definePatternPass({
  name: 'fuse-pad-into-pool',
  summary: 'Fold a constant Pad on spatial dims into MaxPool (when it pads with -inf, or 0 over a non-negative input) or AveragePool(count_include_pad=1)',
  description:
    'MaxPool: pad value -inf, or 0 when the input comes from Relu/Sigmoid/Abs/Softplus/Exp/Clip(min>=0); dilations 1, every pad below ' +
    'the kernel size (each window keeps an input element), Indices output unused. AveragePool: pad value 0, count_include_pad=1. ' +
    'Both: ceil_mode=0, auto_pad=NOTSET, pads on spatial dims only, constant and non-negative.',
  patterns: [fusePadIntoPool],
});

/** Every fusion pattern, in the order `optimize` tries them (higher benefit first). */
export const fusionPatterns = [
  fuseBatchNormIntoConv,
  fuseBatchNormIntoGemm,
  fuseAddIntoConvBias,
  fuseScaleIntoConv,
  fuseScaleIntoGemm,
  fuseMatMulAddIntoGemm,
  fuseTransposeIntoGemm,
  fusePadIntoConv,
  fusePadIntoPool,
];

export const fusePass = definePatternPass({
  name: 'fuse',
  summary: 'Every fusion of this package together with the canonical patterns, to a fixed point',
  patterns: [...fusionPatterns, ...canonicalPatterns],
});
