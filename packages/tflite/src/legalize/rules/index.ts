import { LoweringRegistry } from '../lowering-rule.js';
import { activationRules } from './activations.js';
import { attentionRules } from './attention.js';
import { controlFlowRules } from './control-flow.js';
import { contribFormRules } from './contrib-forms.js';
import { convRules } from './conv.js';
import { depthToSpaceRules } from './depth-to-space.js';
import { einsumRules } from './einsum.js';
import { elementwiseRules } from './elementwise.js';
import { generatorRules } from './generators.js';
import { groupNormRules } from './group-norm.js';
import { indexingRules } from './indexing.js';
import { instanceNormRules } from './instance-norm.js';
import { matmulRules } from './matmul.js';
import { modRules } from './mod.js';
import { normalizationRules } from './normalization.js';
import { poolRules } from './pool.js';
import { quantizedRules } from '../quantized/qdq-rules.js';
import { lossRules } from './losses.js';
import { quantizedFormRules } from './quantized-forms.js';
import { nonTensorOpRules } from './strings.js';
import { recurrentRules } from './recurrent.js';
import { reduceRules } from './reduce.js';
import { reduceCompositeRules } from './reduce-composite.js';
import { scatterGatherRules } from './scatter-gather.js';
import { sequenceRules } from './sequences.js';
import { shapeRules } from './shape.js';
import { spectralRules } from './spectral.js';
import { spatialRules } from './spatial.js';
import { unitDimWindowRules } from './unit-dim-window.js';
import { dynamicIndexRules } from './dynamic-index.js';
import { scatterMoreRules } from './scatter-more.js';
import { unpoolCropRules } from './unpool-crop.js';
import { convTransposeRules } from './conv-transpose.js';
import { volumeWindowRules } from './conv3d.js';
import { resizeMatrixRules } from './resize-matrix.js';
import { gridSampleRules } from './grid-sample.js';
import { affineGridRules } from './affine-grid.js';
import { col2ImRules } from './col2im.js';
import { roiAlignRules } from './roi-align.js';
import { deformConvRules } from './deform-conv.js';
import { maxRoiPoolRules } from './max-roi-pool.js';
import { mathFamilyRules } from './math-family.js';
import { mixedDtypeRules } from './mixed-dtypes.js';

/** Every canonical → tflite lowering rule this package ships. */
export function defaultLoweringRules(): LoweringRegistry {
  return new LoweringRegistry([...convRules, ...poolRules, ...spatialRules, ...elementwiseRules, ...matmulRules, ...shapeRules, ...reduceRules, ...normalizationRules, ...quantizedRules, ...activationRules, ...reduceCompositeRules, ...indexingRules, ...generatorRules, ...depthToSpaceRules, ...instanceNormRules, ...unitDimWindowRules, ...scatterGatherRules, ...modRules, ...einsumRules, ...groupNormRules, ...recurrentRules, ...controlFlowRules, ...sequenceRules, ...quantizedFormRules, ...lossRules, ...nonTensorOpRules, ...contribFormRules, ...spectralRules, ...attentionRules, ...dynamicIndexRules, ...scatterMoreRules, ...unpoolCropRules, ...mathFamilyRules, ...convTransposeRules, ...volumeWindowRules, ...resizeMatrixRules, ...gridSampleRules, ...affineGridRules, ...col2ImRules, ...roiAlignRules, ...deformConvRules, ...maxRoiPoolRules, ...mixedDtypeRules]);
}
