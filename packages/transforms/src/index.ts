import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { cse, eliminateDuplicateInitializers } from './passes/cse.js';
import { dce } from './passes/dce.js';
import { foldConstantsPass, foldShapes } from './passes/fold.js';
import { foldIf } from './passes/fold-if.js';
import { inlineFunctions } from './passes/inline-functions.js';
import {
  canonicalize,
  eliminateDropoutPass,
  eliminateIdentityPass,
  eliminateNoopPass,
  fuseAddIntoConvBiasPass,
  fuseBatchNormIntoConvPass,
  fuseBatchNormIntoGemmPass,
  fuseBatchNormPass,
  fuseConsecutiveConcatsPass,
  fuseConsecutiveReshapesPass,
  fuseConsecutiveSqueezesPass,
  fuseConsecutiveTransposesPass,
  fuseMatMulAddIntoGemmPass,
  fuseMulIntoWeightsPass,
  fusePadIntoConvPass,
  fusePadIntoPoolPass,
  fusePass,
  fuseTransposeIntoGemmPass,
} from './passes/rewrite-passes.js';
import { optimize, simplify } from './passes/simplify.js';
export { runNested, optionsWithDefaults } from './passes/compose.js';
import { eliminateUnusedInitializers } from './passes/unused-initializers.js';
import { foldQdq } from './quant/fold-qdq.js';
import { materializeQdq } from './quant/materialize-qdq.js';
import { sinkTransposesPass } from './passes/sink-transposes-pass.js';

// The pass modules export only passes and their public constants (fold limits, fusionPatterns).
export * from './passes/cse.js';
export * from './passes/dce.js';
export * from './passes/fold.js';
export * from './passes/fold-if.js';
export * from './passes/inline-functions.js';
export { inlineModelFunctions, calledFunction, type InlinedFunctions } from './util/inline-functions.js';
export { inlineBranch, whyBranchCannotBeInlined, type InlinedBranch } from './util/inline-branch.js';
export * from './passes/rewrite-passes.js';
export * from './passes/simplify.js';
export * from './passes/unused-initializers.js';
export { foldQdq } from './quant/fold-qdq.js';
export { materializeQdq } from './quant/materialize-qdq.js';
export { canonicalPatterns, definePattern, bindPatterns, type PatternEnv, type TransformPattern } from './patterns/index.js';
export { removeDeadCode, type DeadCodeResult, type DeadCodeOptions } from './util/dead-code.js';
export { whyDropoutIsNotIdentity } from './util/dropout.js';
export { forwardConstantIdentities } from './util/constant-identities.js';
export {
  upgradeToOpset13,
  upgradeOldOpset,
  describeBlocking,
  describeCounts,
  UPGRADE_OLDEST_OPSET,
  UPGRADE_TARGET_OPSET,
  type OpsetUpgradeHost,
  type OpsetUpgradeResult,
} from './opset-upgrade.js';
export { sinkTransposesPass } from './passes/sink-transposes-pass.js';
export { sinkTransposes, insertTranspose, type SinkTransposesOptions, type SinkTransposesResult } from './transpose/sink-transposes.js';
export { transposePermutation, transposeOf } from './transpose/transpose-node.js';
export { splitForReshape } from './transpose/split-for-reshape.js';
export { axisShufflesAsGather, matchAxisShuffle, shuffleOrder, type AxisShuffle } from './transpose/channel-shuffle.js';
export { blockRearrangementAsDepthSpace, matchBlockRearrangement, type BlockRearrangement } from './transpose/block-rearrange.js';
export { cancelDepthSpacePairs } from './transpose/depth-space-pairs.js';
export {
  TransposeRuleRegistry,
  defaultTransposeRules,
  ELEMENTWISE_OPS,
  BROADCAST_OPS,
  type TransposeSinkRule,
  type TransposeSinkPlan,
  type TransposeRuleRole,
} from './transpose/transpose-rules.js';
export {
  identityPermutation,
  isIdentityPermutation,
  isPermutation,
  invertPermutation,
  composePermutations,
  permuteDims,
  permuteType,
  channelsLastPermutation,
  channelsFirstPermutation,
  transposeTensor,
  expandRank,
  type Permutation,
} from './transpose/permutation.js';

/** Every pass of this package, for a pass registry. */
export const transformPasses: readonly Pass<OptionSpecs>[] = [
  canonicalize,
  dce,
  cse,
  foldConstantsPass,
  foldShapes,
  foldIf,
  inlineFunctions,
  eliminateIdentityPass,
  eliminateDropoutPass,
  eliminateNoopPass,
  eliminateUnusedInitializers,
  eliminateDuplicateInitializers,
  fuseBatchNormPass,
  fuseBatchNormIntoConvPass,
  fuseBatchNormIntoGemmPass,
  fuseAddIntoConvBiasPass,
  fuseMulIntoWeightsPass,
  fuseMatMulAddIntoGemmPass,
  fuseTransposeIntoGemmPass,
  fuseConsecutiveTransposesPass,
  fuseConsecutiveSqueezesPass,
  fuseConsecutiveReshapesPass,
  fuseConsecutiveConcatsPass,
  fusePadIntoConvPass,
  fusePadIntoPoolPass,
  fusePass,
  simplify,
  optimize,
  materializeQdq,
  foldQdq,
  sinkTransposesPass,
] as readonly Pass<OptionSpecs>[];
