export { createEnvironment, inferencePipeline, pipelineFromText, INFERENCE_PIPELINE_TEXT } from './pipeline.js';
export { optimizeOnnxFile, type OptimizeOptions, type OptimizeReport } from './optimize.js';
