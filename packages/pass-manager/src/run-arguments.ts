/**
 * The arguments a stranger hands `new PassManager(...)` and `manager.run(...)`, checked before
 * anything runs: a path where a Model belongs, a Model made by another copy of `@modelpass/ir`, a
 * pass where a step belongs, a misspelled option, a second run on a model that is still being
 * transformed. Each gets a ModelpassError saying what was expected, instead of a TypeError from
 * deep inside the first pass.
 */
import { isModelLike, Model, ModelpassError } from '@modelpass/ir';
import { isPass, describeValue } from './pass-registry.js';
import type { PassManagerOptions } from './pass-manager.js';
import { PassEnvironment } from './environment.js';
import { closestName } from './suggest.js';

const SOURCE = '@modelpass/pass-manager';

/** Every key of `PassManagerOptions` (the type makes the compiler keep the two equal). */
const OPTION_KEYS: Readonly<Record<keyof PassManagerOptions, true>> = {
  environment: true,
  instrumentations: true,
  verifyEach: true,
  signal: true,
  onDiagnostic: true,
  debug: true,
  passTimeoutMs: true,
  maxPipelineNesting: true,
};
const PASS_MANAGER_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(OPTION_KEYS));

function argumentError(reason: string, extra: { expected?: string; actual?: string; hint?: string; code?: string } = {}): ModelpassError {
  return new ModelpassError({ reason, source: SOURCE, code: 'pipeline/bad-argument', ...extra });
}

/** `new PassManager(options)`: an object whose keys are PassManagerOptions names. */
export function checkPassManagerOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw argumentError('new PassManager(options) takes an options object', { expected: '{ environment, instrumentations, … }', actual: describeValue(options) });
  }
  for (const key of Object.keys(options)) {
    if (PASS_MANAGER_OPTION_NAMES.includes(key)) continue;
    const suggestion = closestName(key, PASS_MANAGER_OPTION_NAMES);
    throw argumentError(`new PassManager(options): unknown option '${key}'${suggestion !== undefined ? ` — did you mean '${suggestion}'?` : ''}`, {
      expected: `one of ${PASS_MANAGER_OPTION_NAMES.join(', ')}`,
      actual: key,
      code: 'pipeline/unknown-option',
    });
  }
  for (const [key, check] of Object.entries(OPTION_VALUE_CHECKS)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || check.accepts(value)) continue;
    throw argumentError(`new PassManager(options): wrong kind of value for option '${key}'`, { expected: check.expected, actual: describeValue(value), code: 'pipeline/bad-option' });
  }
}

/**
 * What each option's value must be. A wrong one was silently ignored (`signal: 'x'`, `debug: 'yes'`)
 * or failed later as a TypeError from inside (`environment: {}`, `onDiagnostic: 5` at the first warning).
 */
const OPTION_VALUE_CHECKS: Readonly<Record<string, { readonly expected: string; accepts(value: unknown): boolean }>> = {
  environment: { expected: 'a PassEnvironment', accepts: (value) => value instanceof PassEnvironment },
  instrumentations: { expected: 'an array of instrumentations', accepts: (value) => Array.isArray(value) },
  verifyEach: { expected: 'true, false or a VerifyEachOptions object', accepts: (value) => typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value)) },
  signal: { expected: 'an AbortSignal', accepts: (value) => value instanceof AbortSignal },
  onDiagnostic: { expected: 'a function (diagnostic) => void', accepts: (value) => typeof value === 'function' },
  debug: { expected: 'true, false or a function (message, pass) => void', accepts: (value) => typeof value === 'boolean' || typeof value === 'function' },
  maxPipelineNesting: { expected: 'a whole number ≥ 1', accepts: (value) => Number.isInteger(value) && (value as number) >= 1 },
};

/** `manager.run(model, …)`: a Model of the `@modelpass/ir` this pass manager uses. */
export function checkModelArgument(model: unknown): asserts model is Model {
  if (model instanceof Model) return;
  if (typeof model === 'string' || model instanceof URL) {
    throw argumentError(`PassManager.run takes a Model, not a path (${describeValue(String(model))})`, {
      expected: 'a Model',
      hint: "read the file first: readOnnx(path) from '@modelpass/onnx' (readTflite from '@modelpass/tflite', readTorchScript from '@modelpass/torchscript'), then run the pipeline on the Model and write it back",
    });
  }
  if (isModelLike(model)) {
    // Model-shaped, yet not an instance of this package's Model class: made by another copy of @modelpass/ir.
    throw argumentError("PassManager.run was given a Model made by another copy of '@modelpass/ir' than the one this pass manager uses", {
      expected: "a Model from the '@modelpass/ir' that '@modelpass/pass-manager' imports",
      hint: "install one copy of '@modelpass/ir' (`npm ls @modelpass/ir` lists them; give every @modelpass package the same version); a plugin declares '@modelpass/ir' and '@modelpass/pass-manager' as peer dependencies",
    });
  }
  throw argumentError('PassManager.run takes a Model as its first argument', {
    expected: "a Model (from readOnnx, readTflite, readTorchScript, parseModel or GraphBuilder.model)",
    actual: describeValue(model),
  });
}

/**
 * Each step of a pipeline built in code is a `passStep`, `repeat` or `fixedPoint` value. Walks
 * without recursion: a hostile pipeline may nest anchors far deeper than the stack (the nesting
 * limit is checked afterwards, by `checkPipelineNesting`).
 */
function checkSteps(steps: readonly unknown[]): void {
  const pending: StepGroup[] = [{ steps }];
  for (let group = pending.pop(); group !== undefined; group = pending.pop()) {
    const current = group;
    current.steps.forEach((step, index) => {
      if (isAnchorStep(step)) pending.push({ steps: step.steps, parent: { group: current, index } });
      else checkStep(step, () => stepPath(current, index));
    });
  }
}

/** A list of steps and where it sits (the anchor step holding it), for naming a bad step. */
interface StepGroup {
  readonly steps: readonly unknown[];
  readonly parent?: { readonly group: StepGroup; readonly index: number };
}

/** `steps[2].steps[0]`: built only for an error message. */
function stepPath(group: StepGroup, index: number): string {
  const indices = [index];
  for (let at = group.parent; at !== undefined; at = at.group.parent) indices.unshift(at.index);
  return indices.map((i) => `steps[${i}]`).join('.');
}

function isAnchorStep(step: unknown): step is { steps: readonly unknown[] } {
  return typeof step === 'object' && step !== null && (step as { kind?: unknown }).kind === 'anchor' && Array.isArray((step as { steps?: unknown }).steps);
}

function checkStep(step: unknown, where: () => string): void {
  const kind = typeof step === 'object' && step !== null ? (step as { kind?: unknown }).kind : undefined;
  if (kind === 'pass' && isPass((step as { pass?: unknown }).pass)) return;
  const at = `pipeline ${where()}`;
  if (isPass(step)) {
    throw argumentError(`${at} is a pass ('${step.name}'), not a pipeline step`, {
      hint: `wrap it: passStep(${camelIdentifier(step.name)}), with its options as the second argument`,
    });
  }
  if (typeof step === 'string') {
    throw argumentError(`${at} is text (${describeValue(step)}), not a pipeline step`, {
      hint: 'give the whole pipeline as one text (manager.run(model, "a,b{x=1}")) or every step as passStep(pass, options)',
    });
  }
  throw argumentError(`${at} is not a pipeline step`, {
    expected: 'passStep(pass, options), repeat(times, steps) or fixedPoint(steps)',
    actual: describeValue(step),
  });
}

/** `prune-magnitude` → `pruneMagnitude`, for hints that show code. */
function camelIdentifier(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `manager.run(…, pipeline)`: text, a resolved Pipeline, or an array of steps. */
export function checkPipelineArgument(pipeline: unknown): void {
  if (typeof pipeline === 'string') return;
  if (Array.isArray(pipeline)) return checkSteps(pipeline);
  if (isPass(pipeline)) {
    throw argumentError(`the pipeline is a pass ('${pipeline.name}'), not a pipeline`, {
      hint: `give its name as text ('${pipeline.name}') or a list of steps: [passStep(${camelIdentifier(pipeline.name)})]`,
    });
  }
  if (typeof pipeline === 'object' && pipeline !== null && Array.isArray((pipeline as { steps?: unknown }).steps)) {
    return checkSteps((pipeline as { steps: unknown[] }).steps);
  }
  throw argumentError('PassManager.run takes a pipeline as its second argument', {
    expected: "pipeline text ('canonicalize,dce'), a Pipeline from parsePipeline, or an array of passStep/repeat/fixedPoint steps",
    actual: describeValue(pipeline),
  });
}

/** Models a pipeline is running on now, in any PassManager of this copy of the package. */
const modelsInFlight = new WeakSet<Model>();

/**
 * Marks `model` as being transformed until the returned function is called; refuses a model that
 * is already marked (a second `run` started before the first was awaited would interleave two
 * pipelines' mutations of one graph).
 */
export function claimModelForRun(model: Model): () => void {
  if (modelsInFlight.has(model)) {
    throw new ModelpassError({
      reason: 'this Model is already being transformed by a pipeline run that has not finished',
      source: SOURCE,
      code: 'pipeline/model-in-use',
      hint: 'await the first manager.run(model, …) before starting another on the same model; to run pipelines side by side, give each its own Model (read the file once per run)',
    });
  }
  modelsInFlight.add(model);
  return () => modelsInFlight.delete(model);
}
