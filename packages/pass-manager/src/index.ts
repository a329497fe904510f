// Passes and options
export * from './option.js';
export * from './pass.js';
export { AnalysisManager, preservedAnalyses } from './analysis-manager.js';
export { ANALYSES, shapesAnalysis, usesAnalysis, topologicalOrderAnalysis, type ShapeFacts, type ValueUsers, type NodeOrder } from './analyses.js';
export { knownAnalysisNames } from './analysis-names.js';

// Registries and the environment a pipeline runs in
export {
  PassRegistry,
  describePasses,
  isPass,
  type PassOwner,
  type RegisteredPass,
  type PassDescription,
  type OptionDescription,
} from './pass-registry.js';
export { PatternRegistry, type RegisteredPattern } from './pattern-registry.js';
export { PassEnvironment, type PassEnvironmentInit, type PluginRecord } from './environment.js';

// Pipelines: text (two-phase parse), canonical printing, building in code
export type { PipelineAst, PipelineElementAst, OptionAst, OptionValueAst, ScalarValueAst, ListValueAst } from './pipeline/ast.js';
export { parsePipelineSyntax, printPipelineAst, DEFAULT_MAX_PIPELINE_NESTING, type PipelineSyntaxOptions } from './pipeline/syntax.js';
export { parsePipeline, resolvePipeline } from './pipeline/resolve.js';
export { fileOptionUses, describeFileOptionUse, type FileOptionUse } from './pipeline/file-options.js';
export {
  printPipeline,
  passStep,
  repeat,
  fixedPoint,
  passSteps,
  type Pipeline,
  type PipelineStep,
  type PassStep,
  type AnchorStep,
  type PrintPipelineOptions,
} from './pipeline/pipeline.js';
export { ANCHORS, MAX_ANCHOR_ROUNDS, repeatAnchor, fixedPointAnchor, type AnchorDefinition } from './pipeline/anchors.js';
export { describeOptionSpec } from './option-value.js';
export { closestName, editDistance, MAX_SUGGESTED_NAME_LENGTH } from './suggest.js';

// Running
export { PassManager, runPipeline, type PassManagerOptions, type PipelineInput } from './pass-manager.js';
export { PassFailure } from './pass-failure.js';

// Instrumentation
export type {
  PassInstrumentation,
  PassRunInfo,
  PassRunOutcome,
  PipelineRunInfo,
  PipelineResult,
  FailureAnnotation,
} from './instrumentation/instrumentation.js';
export { TimingInstrumentation, type TimingReport, type PassTiming } from './instrumentation/timing.js';
export { IrPrintingInstrumentation, type IrPrintingOptions, type PassSelection } from './instrumentation/ir-printing.js';
export { VerifyEachInstrumentation, type VerifyEachOptions } from './instrumentation/verify-each.js';
export { StatisticsInstrumentation, type StatisticsReport } from './instrumentation/statistics.js';
export {
  CrashReproducerInstrumentation,
  writeReproducer,
  REPRODUCER_FILES,
  isDiagnosedPassError,
  type CrashReproducerOptions,
  type ReproducerManifest,
} from './instrumentation/crash-reproducer.js';
export { replayReproducer, reproducerPlugins, type ReplayOptions, type ReplayResult } from './instrumentation/replay.js';

// Plugins
export { definePlugin, isPlugin, assertPluginCompatible, type Plugin, type PluginDefinition } from './plugin/plugin.js';
export { loadPlugin, resolvePluginFile, type LoadPluginOptions, type LoadedPlugin } from './plugin/load-plugin.js';
export { shareHostPackages } from './plugin/host-packages.js';
export { satisfies, parseVersion, isValidRange, type SemVer } from './plugin/semver.js';
export type { ReproducerWeights } from './instrumentation/reproducer-weights.js';
export { PASS_MANAGER_VERSION } from './version.js';
