/**
 * The folder a failed `--check` leaves behind: the crash-reproducer layout (`input.mpir` = the model
 * as it went into the failing pass, `pipeline.txt` = that pass with every option, `plugins.json`,
 * `error.txt`, `README.md`, `reproducer.json`) plus what re-runs the check: `model.onnx` (the same
 * pre-pass model as ONNX), `inputs/<input>.npy` (the check inputs), `check.json` (the check report)
 * and `CHECK.md` with the command.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printModel, type ModelpassError, type Tensor } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { printPipeline, writeReproducer, type PassRunInfo, type PluginRecord } from '@modelpass/pass-manager';
import { writeNpy } from '@modelpass/runtime';
import type { CheckReport } from '@modelpass/report';

export interface CheckReproducerContents {
  readonly directory: string;
  /** ONNX bytes of the model before the failing pass. */
  readonly before: Uint8Array;
  readonly pass: PassRunInfo;
  readonly plugins: readonly PluginRecord[];
  readonly feeds: ReadonlyMap<string, Tensor>;
  readonly check: CheckReport;
  readonly error: ModelpassError;
}

/** A file name for an input (names may hold `/` or `:`). */
function inputFileName(name: string, index: number): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === name && safe !== '' ? `${safe}.npy` : `input_${index}.npy`;
}

function checkReadme(directory: string, pipeline: string, check: CheckReport, plugins: readonly PluginRecord[]): string {
  const pluginFlags = plugins.map((p) => ` --plugin ${JSON.stringify(p.path ?? p.specifier ?? p.name)}`).join('');
  const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  return [
    '# modelpass --check reproducer',
    '',
    `The outputs broke the tolerance |a - e| <= ${check.atol} + ${check.rtol}·|e| after pass \`${check.failedPass?.name ?? '?'}\`` +
      (check.divergence ? `; the first diverging node is \`${check.divergence.node}\` (${check.divergence.op}), tensor \`${check.divergence.tensor}\`.` : '.'),
    '',
    'Run the check again on the model as it went into that pass:',
    '',
    '```sh',
    `cd ${q(directory)}`,
    `modelpass convert model.onnx -o /tmp/checked.onnx --pipeline ${q(pipeline)} --check=${check.atol},${check.rtol} --check-inputs inputs${pluginFlags}`,
    '```',
    '',
    '`model.onnx` and `input.mpir` hold the same model; `inputs/` the check inputs; `check.json` the check report.',
    '`modelpass replay` re-runs the pass on `input.mpir` (it succeeds: the pass did not crash, it changed the numbers).',
    '',
  ].join('\n');
}

/** Writes the folder (a fresh one next to `directory` when it is taken); returns its path. */
export function writeCheckReproducer(contents: CheckReproducerContents): string {
  const { pass } = contents;
  const pipeline = printPipeline([{ kind: 'pass', pass: pass.pass, owner: pass.owner, options: pass.options }], { defaults: true });
  const directory = writeReproducer(contents.directory, {
    input: printModel(decodeOnnx(contents.before)),
    pipeline,
    plugins: contents.plugins,
    error: contents.error,
  });
  writeFileSync(join(directory, 'model.onnx'), contents.before);
  const inputs = join(directory, 'inputs');
  mkdirSync(inputs);
  [...contents.feeds].forEach(([name, tensor], index) => writeNpy(tensor, join(inputs, inputFileName(name, index))));
  const check = { ...contents.check, reproducer: directory };
  writeFileSync(join(directory, 'check.json'), JSON.stringify(check, null, 2) + '\n');
  writeFileSync(join(directory, 'CHECK.md'), checkReadme(directory, pipeline, check, contents.plugins));
  return directory;
}

/** `--reproducer DIR` when given, else a new folder in the temp dir. */
export function checkReproducerDirectory(flag: string | undefined, cwd: string): string {
  return flag !== undefined ? resolve(cwd, flag) : join(tmpdir(), `modelpass-check-${process.pid}-${Date.now()}`);
}
