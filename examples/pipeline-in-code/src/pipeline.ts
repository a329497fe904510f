import activationsPlugin, { fuseHardSwishPass } from '@modelpass-examples/plugin-activations';
import { createOpRegistry } from '@modelpass/ops';
import { fixedPoint, parsePipeline, PassEnvironment, passStep, type Pipeline, type PipelineStep } from '@modelpass/pass-manager';
import { canonicalize, cse, dce, fuseBatchNormPass, transformPasses } from '@modelpass/transforms';

/** The built-in passes and canonical ops, plus the activations plugin (its patterns join canonicalize). */
export function createEnvironment(): PassEnvironment {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.use(activationsPlugin);
  return environment;
}

/**
 * The pipeline, composed in code from pass values: options are checked when the step is built
 * (a misspelt option or a wrong type throws here, not halfway through a run).
 */
export function inferencePipeline(options: { maxCleanupIterations?: number } = {}): PipelineStep[] {
  return [
    passStep(canonicalize),
    passStep(fuseBatchNormPass),
    passStep(fuseHardSwishPass, { shared: true }),
    fixedPoint([passStep(cse), passStep(dce)], { maxIterations: options.maxCleanupIterations ?? 5 }),
  ];
}

/** The same pipeline as text, as a user would pass it to `modelpass convert --pipeline`. */
export const INFERENCE_PIPELINE_TEXT = 'canonicalize,fuse-bn,fuse-hardswish{shared=true},fixed-point{max-iterations=5}(cse,dce)';

/** Parses pipeline text against the environment's passes (the plugin's included). */
export function pipelineFromText(text: string, environment: PassEnvironment): Pipeline {
  return parsePipeline(text, environment.passes);
}
