export { buildGradientGraph, trainableInitializers, TRAINING_MIN_OPSET, type BuildGradientGraphOptions, type GradientGraph } from './build-gradient-graph.js';
export { GradientContext, ruleError } from './gradient-context.js';
export { defineGradientRule, GradientRuleRegistry, type GradientRule, type GradientRuleInput } from './rule-registry.js';
export { builtinGradientRules, createGradientRuleRegistry } from './rules/index.js';
export { lossBuilders, type LossBuilder, type LossSpec } from './losses.js';
export { trainSteps, type TrainBatch, type TrainStepsOptions, type TrainStepsResult } from './train-steps.js';
export { weightsAsInputs } from './weights-as-inputs.js';
export { writeOutTrainingBatchNorm, type RunningStatisticOutputs } from './batch-norm-training.js';
