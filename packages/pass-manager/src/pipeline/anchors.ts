import { option, type OptionSpecs } from '../option.js';

/**
 * Built-in pipeline anchors: elements that hold a nested pipeline in parentheses and decide how
 * often it runs. They are not passes (a pass cannot take a nested pipeline) and their names are
 * reserved in every PassRegistry.
 *
 * - `repeat{times=N}(…)`: runs the nested pipeline N times.
 * - `fixed-point{max-iterations=N}(…)`: runs it until one whole run changes nothing (every pass
 *   in it returned `preserveAll()` or was skipped); stopping at the bound (default 10) without
 *   converging is a warning diagnostic.
 */
export interface AnchorDefinition {
  readonly name: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  /** Options that must be given (camelCase). */
  readonly required: readonly string[];
}

export const repeatAnchor: AnchorDefinition = Object.freeze({
  name: 'repeat',
  summary: 'Run the nested pipeline a fixed number of times',
  options: { times: option.integer({ min: 1, help: 'how many times to run the nested pipeline' }) },
  required: ['times'],
});

export const fixedPointAnchor: AnchorDefinition = Object.freeze({
  name: 'fixed-point',
  summary: 'Run the nested pipeline until it changes nothing (or the bound is hit, which warns)',
  options: { maxIterations: option.integer({ default: 10, min: 1, help: 'the most times to run the nested pipeline' }) },
  required: [],
});

export const ANCHORS: ReadonlyMap<string, AnchorDefinition> = new Map([
  [repeatAnchor.name, repeatAnchor],
  [fixedPointAnchor.name, fixedPointAnchor],
]);

export const ANCHOR_NAMES: readonly string[] = [...ANCHORS.keys()];
