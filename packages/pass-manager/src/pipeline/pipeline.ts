import { ModelpassError } from '@modelpass/ir';
import { checkOptionValue, printOptionValue } from '../option-value.js';
import { kebabCase, type OptionSpecs } from '../option.js';
import type { Pass } from '../pass.js';
import { describeValue, isPass, type PassOwner } from '../pass-registry.js';
import { ANCHORS, fixedPointAnchor, repeatAnchor, type AnchorDefinition } from './anchors.js';
import { pipelineError } from './syntax.js';
import { closestName } from '../suggest.js';

/**
 * A resolved pipeline: passes bound to their definitions with typed options, and anchors holding
 * nested pipelines. Built by `parsePipeline` from text or by `passStep`/`repeat`/`fixedPoint` in code.
 */
export type PipelineStep = PassStep | AnchorStep;

export interface PassStep {
  readonly kind: 'pass';
  readonly pass: Pass;
  readonly owner: PassOwner;
  /** Options given explicitly (camelCase keys, typed values); defaults are filled in at run time. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Column in the pipeline text, when parsed from text. */
  readonly column?: number;
}

export interface AnchorStep {
  readonly kind: 'anchor';
  readonly anchor: AnchorDefinition;
  /** Options given explicitly (camelCase keys). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly steps: readonly PipelineStep[];
  readonly column?: number;
}

export interface Pipeline {
  readonly steps: readonly PipelineStep[];
}

/** Options with defaults filled in (camelCase keys). */
export function resolvedOptions(specs: OptionSpecs, explicit: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (explicit[name] !== undefined) options[name] = explicit[name];
    else if (spec.default !== undefined) options[name] = spec.default;
  }
  return Object.freeze(options);
}

function checkCodeOptions(what: string, specs: OptionSpecs, options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const checked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    // Own properties only: `constructor` or `__proto__` must not find Object.prototype's.
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      // As for pipeline text: a suggestion when one is close, else the options there are.
      const known = Object.keys(specs);
      const suggestion = closestName(name, known);
      throw pipelineError(undefined, undefined, `unknown option '${name}' of ${what}`, {
        code: 'pipeline/unknown-option',
        expected: known.length ? `one of ${known.join(', ')}` : 'no options',
        ...(suggestion !== undefined ? { suggestion } : { hint: known.length ? `its options are ${known.join(', ')}` : `${what} takes no options` }),
      });
    }
    const result = checkOptionValue(spec, value);
    if ('problem' in result) {
      // The reason already says what was expected and what came (`expects one of a, b, got 'c'`): the
      // fields stay on the error for programs, the message does not repeat them.
      const { problem } = result;
      throw pipelineError(undefined, undefined, `option '${kebabCase(name)}' of ${what} ${problem.reason}`, {
        code: 'pipeline/bad-option',
        expected: problem.expected,
        actual: problem.actual,
        ...(problem.suggestion !== undefined ? { suggestion: problem.suggestion } : {}),
      });
    }
    checked[name] = result.value;
  }
  return Object.freeze(checked);
}

/** One pass with options given in code (camelCase), checked against its specs now. */
export function passStep<P extends Pass>(pass: P, options: Partial<Record<keyof P['options'] & string, unknown>> = {}, owner: PassOwner = { name: 'user' }): PassStep {
  if (!isPass(pass)) {
    throw new ModelpassError({
      reason: 'passStep takes a pass made by definePass',
      actual: describeValue(pass),
      source: '@modelpass/pass-manager',
      code: 'pipeline/bad-argument',
      ...(typeof pass === 'string' ? { hint: `to name a registered pass, give pipeline text instead: manager.run(model, '${pass as string}')` } : {}),
    });
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ModelpassError({
      reason: `passStep for pass '${pass.name}': the options must be an object of camelCase option names`,
      actual: describeValue(options),
      source: '@modelpass/pass-manager',
      code: 'pipeline/bad-argument',
    });
  }
  return Object.freeze({ kind: 'pass', pass, owner, options: checkCodeOptions(`pass '${pass.name}'`, pass.options, options as Record<string, unknown>) });
}

function anchorStep(anchor: AnchorDefinition, options: Record<string, unknown>, steps: readonly PipelineStep[]): AnchorStep {
  const checked = checkCodeOptions(`anchor '${anchor.name}'`, anchor.options, options);
  for (const name of anchor.required) {
    if (checked[name] === undefined) {
      throw new ModelpassError({ reason: `anchor '${anchor.name}' needs option '${kebabCase(name)}'`, source: '@modelpass/pass-manager', code: 'pipeline/missing-option' });
    }
  }
  return Object.freeze({ kind: 'anchor', anchor, options: checked, steps: Object.freeze([...steps]) });
}

/** `repeat{times=N}(steps)` built in code. */
export function repeat(times: number, steps: readonly PipelineStep[]): AnchorStep {
  return anchorStep(repeatAnchor, { times }, steps);
}

/** `fixed-point{max-iterations=N}(steps)` built in code. */
export function fixedPoint(steps: readonly PipelineStep[], options: { maxIterations?: number } = {}): AnchorStep {
  return anchorStep(fixedPointAnchor, { ...options }, steps);
}

/** Builds an anchor step by name (used by the text resolver). */
export function makeAnchorStep(name: string, options: Record<string, unknown>, steps: readonly PipelineStep[], column?: number): AnchorStep {
  const anchor = ANCHORS.get(name);
  if (!anchor) throw new Error(`no anchor '${name}'`);
  return Object.freeze({ kind: 'anchor', anchor, options: Object.freeze({ ...options }), steps: Object.freeze([...steps]), ...(column !== undefined ? { column } : {}) });
}

export interface PrintPipelineOptions {
  /** Also print options left at their defaults (reproducers do, so a replay does not depend on today's defaults). */
  readonly defaults?: boolean;
}

function printOptions(specs: OptionSpecs, explicit: Readonly<Record<string, unknown>>, withDefaults: boolean): string {
  const values = withDefaults ? resolvedOptions(specs, explicit) : explicit;
  const parts: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name];
    if (value !== undefined) parts.push(`${kebabCase(name)}=${printOptionValue(spec, value)}`);
  }
  return parts.length ? `{${parts.join(' ')}}` : '';
}

/** Canonical pipeline text; `parsePipeline(printPipeline(p))` gives the same pipeline back. */
export function printPipeline(pipeline: Pipeline | readonly PipelineStep[], options: PrintPipelineOptions = {}): string {
  const steps = 'steps' in pipeline ? (pipeline as Pipeline).steps : (pipeline as readonly PipelineStep[]);
  const withDefaults = options.defaults ?? false;
  return steps
    .map((step) =>
      step.kind === 'pass'
        ? step.pass.name + printOptions(step.pass.options, step.options, withDefaults)
        : step.anchor.name + printOptions(step.anchor.options, step.options, withDefaults) + '(' + printPipeline(step.steps, options) + ')',
    )
    .join(',');
}

/**
 * Refuses a pipeline built in code whose anchors nest deeper than `maxNesting` (running or
 * printing it would recurse that deep). Walks without recursion.
 */
export function checkPipelineNesting(steps: readonly PipelineStep[], maxNesting: number): void {
  let level: readonly PipelineStep[][] = [[...steps]];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > maxNesting) {
      throw new ModelpassError({
        reason: `pipeline anchors nest more than ${maxNesting} levels deep`,
        source: '@modelpass/pass-manager',
        code: 'pipeline/too-deep',
        hint: 'flatten the pipeline, or raise maxPipelineNesting',
      });
    }
    const next: PipelineStep[][] = [];
    for (const group of level) for (const step of group) if (step.kind === 'anchor') next.push([...step.steps]);
    level = next;
  }
}

/** Every pass step, depth first. */
export function* passSteps(steps: readonly PipelineStep[]): Generator<PassStep> {
  for (const step of steps) {
    if (step.kind === 'pass') yield step;
    else yield* passSteps(step.steps);
  }
}
