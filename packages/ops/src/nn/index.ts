import type { CanonicalOp } from '../op-definition.js';
import { controlFlowOps } from './control-flow.js';
import { convOps } from './conv.js';
import { gatherScatterOps } from './gather-scatter.js';
import { indexOps } from './index-ops.js';
import { matmulOps } from './matmul.js';
import { normalizationOps } from './normalization.js';
import { optionalOps } from './optional-ops.js';
import { poolOps } from './pool.js';
import { resizeOps } from './resize.js';
import { sequenceOps } from './sequence-ops.js';
import { shapeOps } from './shape-ops.js';
import { sliceOps } from './slice-ops.js';
import { lossOps } from './loss.js';
import { spectralOps } from './spectral.js';
import { rotaryEmbeddingOp } from './rotary-embedding.js';
import { attentionOp } from './attention.js';
import { scanOp } from './scan.js';
import { sequenceMapOp } from './sequence-map.js';
import { featureNormalizationOps } from './feature-normalization.js';
import { selectionOps } from './selection-ops.js';
import { randomOps } from './random-ops.js';
import { centerCropPadOp } from './center-crop-pad.js';
import { maxUnpoolOp } from './max-unpool.js';
import { scatterOp } from './scatter-deprecated.js';
import { gridSampleOp } from './grid-sample.js';
import { affineGridOp } from './affine-grid.js';
import { col2ImOp } from './col2im.js';
import { roiAlignOp } from './roi-align.js';
import { nonMaxSuppressionOp } from './non-max-suppression.js';
import { deformConvOp } from './deform-conv.js';
import { maxRoiPoolOp } from './max-roi-pool.js';
import { tensorScatterOp } from './tensor-scatter.js';
import { rmsNormalizationOp } from './rms-normalization.js';
import { globalLpPoolOp } from './global-lp-pool.js';

/** Convolution, pooling, normalization, matrix products, shape manipulation, indexing, control flow. */
export const nnOps: readonly CanonicalOp[] = [
  ...convOps,
  ...poolOps,
  ...normalizationOps,
  ...matmulOps,
  ...shapeOps,
  ...sliceOps,
  ...gatherScatterOps,
  ...indexOps,
  ...resizeOps,
  ...controlFlowOps,
  ...sequenceOps,
  ...optionalOps,
  ...lossOps,
  ...spectralOps,
  rotaryEmbeddingOp,
  attentionOp,
  scanOp,
  sequenceMapOp,
  ...featureNormalizationOps,
  ...selectionOps,
  ...randomOps,
  centerCropPadOp,
  maxUnpoolOp,
  scatterOp,
  gridSampleOp,
  affineGridOp,
  col2ImOp,
  roiAlignOp,
  nonMaxSuppressionOp,
  deformConvOp,
  maxRoiPoolOp,
  tensorScatterOp,
  rmsNormalizationOp,
  globalLpPoolOp,
];

/** Names of the nn family's ops (`onnx.Conv`, ...). */
export function nnOpNames(): string[] {
  return nnOps.map((op) => op.schema.op);
}
