/**
 * Case `index` of a run: the target's generator fed with the case's own PRNG stream. Inputs are
 * capped at `maxInputBytes` (cut at the end): repeated duplications can grow a seed model to tens
 * of MB, where a parse taking over the time limit says nothing about the parser.
 */
import { caseRandom } from './prng.mjs';

export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;

export function generateCase(target, state, seed, index, maxInputBytes = DEFAULT_MAX_INPUT_BYTES) {
  const input = target.generate(caseRandom(seed, target.name, index), state);
  return input.length > maxInputBytes ? input.slice(0, maxInputBytes) : input;
}
