// The golden text-IR harness: fixtures/<pass>/<case>/{input.mpir, output.mpir, options.json}
export { runGoldenCases, type GoldenSuiteOptions } from './run-golden-cases.js';
export {
  runGoldenCase,
  checkGoldenRun,
  goldenEnvironment,
  shouldUpdateGoldens,
  GoldenMismatch,
  type GoldenRun,
  type GoldenSetup,
} from './run-golden-case.js';
export { discoverGoldenCases, pipelineWithOptions, GOLDEN_FILES, type GoldenCase } from './golden-cases.js';
export { diffLines, type LineDiffOptions } from './line-diff.js';
