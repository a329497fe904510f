// @modelpass/prune — pruning passes. The passes are added by their own modules below.
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { pruneMagnitude } from './magnitude/prune-magnitude.js';
import { pruneNm } from './nm/prune-nm.js';
import { pruneChannels } from './channels/prune-channels-pass.js';
import { reconstruct } from './reconstruct/reconstruct-pass.js';

export { pruneMagnitude } from './magnitude/prune-magnitude.js';
export { pruneNm } from './nm/prune-nm.js';
export { groupLayout, reductionAxis, forEachGroup, type GroupLayout } from './nm/nm-groups.js';
export { findPrunableLayers, PRUNABLE_OPS, type PrunableLayer } from './weights/prunable-layers.js';
export { sparsityReport, formatSparsityReport, type LayerSparsity, type SparsityReport } from './report/sparsity-report.js';
export { toSparseTensor, storeSparselyIfSmaller, storageBytes } from './sparse/sparse-initializer.js';
export { pruneChannels } from './channels/prune-channels-pass.js';
export { analyzeChannelDependencies, ChannelAnalysis, type ChannelConsumer, type ChannelFixup, type ChannelGroupReport, type ParamDim, type ParamRole, type TrackedDim, type GroupedConvWeight } from './channels/dependency-groups.js';
export { ChannelGroup, keptIndices, layoutLength, type ChannelLayout, type ChannelPiece } from './channels/channel-layout.js';
export { CHANNEL_RULES, type ChannelRule } from './channels/channel-rules.js';
export { chooseKeptChannels, weightScores, CHANNEL_CRITERIA, type ChannelCriterion, type GroupScores, type KeptChoice } from './channels/channel-scores.js';
export { applyChannelPruning, type AppliedPruning } from './channels/apply-channel-pruning.js';
export { prepareChannelAnalysis, retieUnchangedCopies, type PreparedChannelAnalysis } from './channels/untie-shared-parameters.js';
export { loadCalibrationData, encodeWithOutputs, type CalibrationData, type CalibrationOptions } from './channels/calibration.js';
export { reconstruct } from './reconstruct/reconstruct-pass.js';
export { NormalEquations } from './reconstruct/least-squares.js';
export { channelPruningRecord, type ChannelPruningRecord, type PrunedLayer } from './reconstruct/prune-record.js';

/** Every pass of this package, for a pass registry. */
export const prunePasses: readonly Pass<OptionSpecs>[] = [pruneMagnitude, pruneNm, pruneChannels, reconstruct];
