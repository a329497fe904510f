import { verifyModel, type Model, type VerifyOptions } from '@modelpass/ir';
import { describePass, PassFailure } from '../pass-failure.js';
import { ModelpassError } from '@modelpass/ir';
import type { PassInstrumentation, PassRunInfo, PipelineRunInfo } from './instrumentation.js';

export interface VerifyEachOptions {
  /** Also verify the model before the first pass, so broken input is not blamed on a pass (default true). */
  readonly verifyInput?: boolean;
  /** Passed to `verifyModel` (the registry is the environment's op registry). */
  readonly unknownOps?: VerifyOptions['unknownOps'];
}

/**
 * Runs `verifyModel` with the environment's op registry after every pass and fails the pass that
 * left invalid IR, listing every error. The PassManager installs it unless `verifyEach: false`.
 */
export class VerifyEachInstrumentation implements PassInstrumentation {
  readonly name = 'verify-each';
  private run: PipelineRunInfo | undefined;

  constructor(private readonly options: VerifyEachOptions = {}) {}

  private errors(model: Model): ReturnType<typeof verifyModel> {
    const registry = this.run?.environment.ops;
    const options: VerifyOptions = {
      ...(registry ? { registry } : {}),
      ...(this.options.unknownOps ? { unknownOps: this.options.unknownOps } : {}),
    };
    return verifyModel(model, options).filter((d) => d.severity === 'error');
  }

  beforePipeline(model: Model, run: PipelineRunInfo): void {
    this.run = run;
    if (this.options.verifyInput === false) return;
    const errors = this.errors(model);
    if (errors.length === 0) return;
    throw new ModelpassError([
      {
        reason: `the input model is invalid before any pass ran (${errors.length} error${errors.length === 1 ? '' : 's'})`,
        source: '@modelpass/pass-manager',
        code: 'verify-each/invalid-input',
        hint: 'fix the model or the frontend that produced it; run with verify-each off only to debug',
      },
      ...errors,
    ]);
  }

  afterPass(model: Model, pass: PassRunInfo): void {
    const errors = this.errors(model);
    if (errors.length === 0) return;
    throw new PassFailure(pass.passName, pass.owner, [
      {
        reason: `${describePass(pass.passName, pass.owner)} left the IR invalid (${errors.length} verifier error${errors.length === 1 ? '' : 's'})`,
        source: '@modelpass/pass-manager',
        code: 'verify-each/failed',
        notes: [`pass execution #${pass.index}${pass.nesting.length ? ` inside ${pass.nesting.join('/')}` : ''}`],
      },
      ...errors,
    ]);
  }
}
