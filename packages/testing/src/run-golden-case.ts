import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModel, printModel, type Diagnostic, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation, type Pass, type Plugin, type StatisticsReport } from '@modelpass/pass-manager';
import { GOLDEN_FILES, type GoldenCase } from './golden-cases.js';
import { diffLines } from './line-diff.js';

/** What the pipelines of golden cases run against. */
export interface GoldenSetup {
  /** Passes to register (e.g. `transformPasses` from `@modelpass/transforms` for canonicalize, dce, …). */
  readonly passes?: Iterable<Pass>;
  /** Plugins to `use` (their passes, ops and rewrite patterns), in order. */
  readonly plugins?: readonly Plugin[];
  /** Shorthand for `plugins: [plugin]`. */
  readonly plugin?: Plugin;
  /** Builds the environment instead (then `passes` and plugins are ignored). Default: the canonical op set + `passes` + plugins. */
  readonly environment?: () => PassEnvironment;
  /** Verify the input and the IR after every pass (default true). */
  readonly verifyEach?: boolean;
  /** Rewrite `output.mpir` with what the pipeline printed (default: `UPDATE_GOLDENS=1` in the environment). */
  readonly update?: boolean;
}

/** The outcome of one golden case, before any comparison. */
export interface GoldenRun {
  readonly testCase: GoldenCase;
  /** `input.mpir`, parsed (untouched by the pipeline). */
  readonly input: Model;
  /** The model after the pipeline. */
  readonly output: Model;
  /** `input.mpir` as the printer writes it. */
  readonly printedInput: string;
  /** The model after the pipeline, printed. */
  readonly printed: string;
  /** `output.mpir` as it was before this run; undefined when it did not exist. */
  readonly expected: string | undefined;
  /** Whether this run (re)wrote `output.mpir`. */
  readonly updated: boolean;
  readonly statistics: StatisticsReport;
  readonly warnings: readonly Diagnostic[];
}

/** A golden case whose result differs from what its folder expects; the message holds the diff. */
export class GoldenMismatch extends Error {
  override readonly name = 'GoldenMismatch';
  constructor(
    readonly testCase: GoldenCase,
    message: string,
  ) {
    super(`golden case '${testCase.label}' (${testCase.dir}): ${message}`);
  }
}

export function shouldUpdateGoldens(): boolean {
  return process.env['UPDATE_GOLDENS'] === '1';
}

function withFinalNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The default environment: the canonical op set, then `passes`, then each plugin. */
export function goldenEnvironment(setup: GoldenSetup): PassEnvironment {
  if (setup.environment) return setup.environment();
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  if (setup.passes) environment.passes.register(setup.passes, 'golden test setup');
  for (const plugin of [...(setup.plugins ?? []), ...(setup.plugin ? [setup.plugin] : [])]) environment.use(plugin);
  return environment;
}

/** Written beside the target, then renamed over it: an interrupted update never leaves half a golden. */
function writeGolden(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** Runs a case's pipeline on its `input.mpir` (and rewrites `output.mpir` when updating); compares nothing. */
export async function runGoldenCase(testCase: GoldenCase, setup: GoldenSetup = {}): Promise<GoldenRun> {
  const inputFile = join(testCase.dir, GOLDEN_FILES.input);
  const outputFile = join(testCase.dir, GOLDEN_FILES.output);
  const inputText = readFileSync(inputFile, 'utf8');
  const model = parseModel(inputText, { file: inputFile });
  const printedInput = withFinalNewline(printModel(model));
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment: goldenEnvironment(setup), instrumentations: [statistics], verifyEach: setup.verifyEach ?? true });
  const result = await manager.run(model, testCase.pipeline);
  const printed = withFinalNewline(printModel(model));
  const expected = existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : undefined;
  const updated = (setup.update ?? shouldUpdateGoldens()) && expected !== printed;
  if (updated) writeGolden(outputFile, printed);
  return Object.freeze({
    testCase,
    input: parseModel(inputText, { file: inputFile }),
    output: model,
    printedInput,
    printed,
    expected,
    updated,
    statistics: statistics.toJSON(),
    warnings: result.diagnostics.filter((d) => d.severity === 'warning'),
  });
}

/**
 * Throws a `GoldenMismatch` unless the run printed exactly `output.mpir` (a unified diff otherwise),
 * a `declines-*` case left the model unchanged, and the statistics and warnings that `options.json`
 * names were reported.
 */
export function checkGoldenRun(run: GoldenRun): void {
  const { testCase } = run;
  const outputFile = join(testCase.dir, GOLDEN_FILES.output);
  if (!run.updated) {
    if (run.expected === undefined) {
      throw new GoldenMismatch(testCase, `${outputFile} does not exist; run the tests with UPDATE_GOLDENS=1 to write it, then review it`);
    }
    if (run.expected !== run.printed) {
      const diff = diffLines(run.expected, run.printed, { expectedLabel: `${outputFile} (expected)`, actualLabel: `after '${testCase.pipeline}' (actual)` });
      throw new GoldenMismatch(testCase, `the output differs from ${GOLDEN_FILES.output} (UPDATE_GOLDENS=1 rewrites it; review the diff first)\n${diff}`);
    }
  }
  if (testCase.declines && run.printed !== run.printedInput) {
    const diff = diffLines(run.printedInput, run.printed, { expectedLabel: `${GOLDEN_FILES.input} (unchanged)`, actualLabel: 'after the pipeline' });
    throw new GoldenMismatch(testCase, `a declines-* case must leave the model unchanged, but '${testCase.pipeline}' changed it\n${diff}`);
  }
  for (const [pass, expected] of Object.entries(testCase.statistics ?? {})) {
    for (const [statistic, count] of Object.entries(expected)) {
      const actual = run.statistics[pass]?.[statistic] ?? 0;
      if (actual !== count) {
        throw new GoldenMismatch(testCase, `statistic '${pass}.${statistic}' is ${actual}, options.json expects ${count} (reported: ${JSON.stringify(run.statistics)})`);
      }
    }
  }
  if (testCase.warnings !== undefined) {
    const reasons = run.warnings.map((w) => w.reason);
    const matches = reasons.length === testCase.warnings.length && testCase.warnings.every((text, index) => reasons[index]!.includes(text));
    if (!matches) {
      throw new GoldenMismatch(testCase, `expected the warnings ${JSON.stringify(testCase.warnings)} (substrings, in order), got ${JSON.stringify(reasons)}`);
    }
  }
}
