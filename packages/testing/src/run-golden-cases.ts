import { relative } from 'node:path';
import { describe, it } from 'vitest';
import { discoverGoldenCases, toDirectory, type GoldenCase } from './golden-cases.js';
import { checkGoldenRun, runGoldenCase, type GoldenRun, type GoldenSetup } from './run-golden-case.js';

export interface GoldenSuiteOptions extends GoldenSetup {
  /** The fixtures folder: `<dir>/<pass>/<case>/` or `<dir>/<case>/` (a path or `new URL('../fixtures', import.meta.url)`). */
  readonly dir: string | URL;
  /** The `describe` title (default `golden cases in <dir relative to cwd>`). */
  readonly title?: string;
  /** Extra assertions per case, after the golden comparison (e.g. run both models in ONNX Runtime). */
  readonly check?: (run: GoldenRun) => void | Promise<void>;
  /** Pass names that must each have at least one case that is not `declines-*` (fails the suite otherwise). */
  readonly requireCasesFor?: Iterable<string>;
  /** Runs only the cases it accepts. */
  readonly filter?: (testCase: GoldenCase) => boolean;
}

/**
 * Registers a vitest `describe` with one test per golden case under `dir`: runs the case's pipeline
 * on `input.mpir`, compares the printed IR with `output.mpir` (a unified diff on mismatch), checks
 * `declines-*`, statistics and warnings, then `check`. `UPDATE_GOLDENS=1` rewrites every
 * `output.mpir` instead of failing on a difference. Call it at the top level of a test file.
 */
export function runGoldenCases(options: GoldenSuiteOptions): readonly GoldenCase[] {
  const root = toDirectory(options.dir);
  const cases = discoverGoldenCases(root).filter((testCase) => options.filter?.(testCase) ?? true);
  const title = options.title ?? `golden cases in ${relative(process.cwd(), root) || '.'}`;
  describe(title, () => {
    const required = [...(options.requireCasesFor ?? [])];
    if (required.length > 0) {
      it('has a positive case for every required pass', () => {
        const covered = new Set(cases.filter((c) => !c.declines).map((c) => c.pass));
        const missing = required.filter((name) => !covered.has(name));
        if (missing.length > 0) throw new Error(`no golden case (other than declines-*) under ${root}/<pass>/ for: ${missing.join(', ')}`);
      });
    }
    for (const testCase of cases) {
      it(testCase.label, async () => {
        const run = await runGoldenCase(testCase, options);
        checkGoldenRun(run);
        await options.check?.(run);
      });
    }
  });
  return cases;
}
