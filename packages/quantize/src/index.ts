// @modelpass/quantize — quantization passes. Each pass lives in its own module; this file only collects them.
import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { quantizeWeights } from './weights/index.js';
import { quantizeStatic } from './static/quantize-static-pass.js';
import { quantizeDynamic } from './dynamic/index.js';
import { convertFloat16 } from './float16/index.js';

/** Every pass of this package, for a pass registry. Passes are appended here as they land. */
export const quantizePasses: readonly Pass<OptionSpecs>[] = [quantizeWeights, quantizeDynamic, convertFloat16, quantizeStatic];

export * from './weights/index.js';
export * from './dynamic/index.js';
export * from './float16/index.js';
export * from './calibration/index.js';
export * from './static/index.js';
export type { TensorMaker } from './weights/spill-file.js';
export type { FloatConstantRecord } from './static/float-constants.js';
export type { SplitHardSwish } from './static/hard-swish-split.js';
