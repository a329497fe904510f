import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel, printModel, type Diagnostic, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation, type StatisticsReport } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import plugin from '@modelpass-examples/plugin-activations';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = resolve(PACKAGE_ROOT, '../..');
export const FIXTURES = join(PACKAGE_ROOT, 'fixtures');

/** `options.json` of a golden case. */
export interface CaseOptions {
  /** The pipeline to run on `input.mpir`. */
  readonly pipeline: string;
  /** Statistics the run must report (a subset: pass → statistic → total). */
  readonly statistics?: StatisticsReport;
  /** Substrings of the warnings the run must report, in order. */
  readonly warnings?: readonly string[];
}

export interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly options: CaseOptions;
  readonly input: string;
  /** The expected output text; absent until `UPDATE_GOLDEN=1` writes it. */
  readonly expected: string | undefined;
}

export function goldenCases(): GoldenCase[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = join(FIXTURES, entry.name);
      const output = join(dir, 'output.mpir');
      return {
        name: entry.name,
        dir,
        options: JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) as CaseOptions,
        input: readFileSync(join(dir, 'input.mpir'), 'utf8'),
        expected: existsSync(output) ? readFileSync(output, 'utf8') : undefined,
      };
    });
}

/** The built-in passes and canonical ops, plus this plugin: what `modelpass --plugin` sets up. */
export function environmentWithPlugin(): PassEnvironment {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.use(plugin);
  return environment;
}

export interface CaseRun {
  readonly model: Model;
  readonly output: string;
  readonly statistics: StatisticsReport;
  readonly warnings: readonly Diagnostic[];
}

export async function runCase(testCase: GoldenCase): Promise<CaseRun> {
  const model = parseModel(testCase.input, { file: join(testCase.dir, 'input.mpir') });
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment: environmentWithPlugin(), instrumentations: [statistics] });
  const result = await manager.run(model, testCase.options.pipeline);
  const output = printModel(model);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(join(testCase.dir, 'output.mpir'), output.endsWith('\n') ? output : `${output}\n`);
  return { model, output, statistics: statistics.toJSON(), warnings: result.diagnostics.filter((d) => d.severity === 'warning') };
}
