/**
 * "pass n of N" while a pipeline runs: a pass instrumentation that moves a progress reporter. N is
 * the pass executions the pipeline text implies (repeat{times=k} counts k times, fixed-point once);
 * when a fixed point iterates more, N grows with n.
 */
import type { PassInstrumentation, Pipeline, PipelineStep } from '@modelpass/pass-manager';
import type { ProgressReporter } from './progress-bar.js';

/** Pass executions of `steps` if every fixed point converges in one round. */
export function expectedPassRuns(steps: readonly PipelineStep[]): number {
  let runs = 0;
  for (const step of steps) {
    if (step.kind === 'pass') runs += 1;
    else {
      const times = step.anchor.name === 'repeat' && typeof step.options['times'] === 'number' ? step.options['times'] : 1;
      runs += times * expectedPassRuns(step.steps);
    }
  }
  return runs;
}

export interface PipelineProgress {
  readonly instrumentation: PassInstrumentation;
  /** The pipeline ended: show the bar full and end its line. */
  done(): void;
  /** Erase the bar if it is still drawn (after a failure). */
  stop(): void;
}

export function pipelineProgress(reporter: ProgressReporter, pipeline: Pipeline): PipelineProgress {
  let total = Math.max(1, expectedPassRuns(pipeline.steps));
  return {
    instrumentation: {
      name: 'progress',
      beforePass(_model, pass) {
        total = Math.max(total, pass.index);
        const round = pass.nesting.length > 0 ? ` (${pass.nesting.join(' ')})` : '';
        reporter.update(pass.index - 1, total, `${pass.passName}${round}`);
      },
      afterPass(_model, pass) {
        reporter.update(pass.index, Math.max(total, pass.index));
      },
    },
    done: () => reporter.done(),
    stop: () => reporter.done(false),
  };
}
