import { option, type OptionSpecs } from '../option.js';

/**
 * Built-in pipeline anchors: elements that hold a nested pipeline in parentheses and decide how
 * often it runs. They are not passes (a pass cannot take a nested pipeline) and their names are
 * reserved in every PassRegistry.
 *
 * - `repeat{times=N}(…)`: runs the nested pipeline N times, or fewer: a round that changes nothing
 *   (every pass in it returned `preserveAll()` or was skipped) ends it, since the same passes on
 *   the same model would change nothing again.
 * - `fixed-point{max-iterations=N}(…)`: runs it until one whole run changes nothing; stopping at
 *   the bound (default 10) without converging is a warning diagnostic.
 *
 * Both counts are at most `MAX_ANCHOR_ROUNDS`: a pipeline that changes the model on every round
 * (a pass that never reports "no change") would otherwise run for hours on `times=1e9`.
 */

/** The most rounds `repeat{times}` and `fixed-point{max-iterations}` accept. */
export const MAX_ANCHOR_ROUNDS = 1000;

export interface AnchorDefinition {
  readonly name: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  /** Options that must be given (camelCase). */
  readonly required: readonly string[];
}

export const repeatAnchor: AnchorDefinition = Object.freeze({
  name: 'repeat',
  summary: 'Run the nested pipeline N times, ending early after a round that changes nothing',
  options: { times: option.integer({ min: 1, max: MAX_ANCHOR_ROUNDS, help: 'how many times to run the nested pipeline (a round that changes nothing ends it early)' }) },
  required: ['times'],
});

export const fixedPointAnchor: AnchorDefinition = Object.freeze({
  name: 'fixed-point',
  summary: 'Run the nested pipeline until it changes nothing (or the bound is hit, which warns)',
  options: { maxIterations: option.integer({ default: 10, min: 1, max: MAX_ANCHOR_ROUNDS, help: 'the most times to run the nested pipeline' }) },
  required: [],
});

export const ANCHORS: ReadonlyMap<string, AnchorDefinition> = new Map([
  [repeatAnchor.name, repeatAnchor],
  [fixedPointAnchor.name, fixedPointAnchor],
]);

export const ANCHOR_NAMES: readonly string[] = [...ANCHORS.keys()];
