// @modelpass/prune — pruning passes. The passes are added by their own modules below.
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { pruneMagnitude } from './magnitude/prune-magnitude.js';
import { pruneNm } from './nm/prune-nm.js';

export { pruneMagnitude } from './magnitude/prune-magnitude.js';
export { pruneNm } from './nm/prune-nm.js';
export { groupLayout, reductionAxis, forEachGroup, type GroupLayout } from './nm/nm-groups.js';
export { findPrunableLayers, PRUNABLE_OPS, type PrunableLayer } from './weights/prunable-layers.js';
export { sparsityReport, formatSparsityReport, type LayerSparsity, type SparsityReport } from './report/sparsity-report.js';
export { toSparseTensor, storeSparselyIfSmaller, storageBytes } from './sparse/sparse-initializer.js';

/** Every pass of this package, for a pass registry. */
export const prunePasses: readonly Pass<OptionSpecs>[] = [pruneMagnitude, pruneNm];
