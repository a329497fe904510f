/** Runs one saved input through a parser with the fuzzer's oracle (for findings and regressions). */
import { describeError, findingClass } from './oracle.mjs';
import { runCase } from './run-case.mjs';
import { optionsFor } from './campaign.mjs';
import { TARGETS } from './targets/index.mjs';
import { createScratch, removeScratch } from './scratch.mjs';

const states = new Map();
let scratchDir;

/** Removes the scratch files of earlier replays (call when done replaying). */
export function closeReplay() {
  removeScratch(scratchDir);
  scratchDir = undefined;
  states.clear();
}

export async function replayInput(parser, bytes, given = {}) {
  const target = TARGETS.get(parser);
  const options = optionsFor(parser, given);
  scratchDir ??= createScratch();
  if (!states.has(parser)) states.set(parser, await target.setup({ ...options, scratchDir }));
  const input = target.inputKind === 'text' ? (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)) : bytes;
  const result = await runCase(target, states.get(parser), input, {
    timeLimitMs: options.timeLimitMs,
    memoryFactor: options.memoryFactor,
    memorySlackBytes: options.memorySlackMb * 1048576,
    memoryHardBytes: options.memoryHardMb * 1048576,
  });
  if (result.outcome !== 'finding') return { outcome: result.outcome, ms: result.ms, ...(result.code ? { code: result.code } : {}) };
  return { outcome: 'finding', kind: result.kind, class: findingClass(result.kind, result.error, parser), error: describeError(result.error), ms: result.ms };
}
