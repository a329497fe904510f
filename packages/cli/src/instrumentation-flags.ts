import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeFileKind, ModelpassError } from '@modelpass/ir';
import {
  CrashReproducerInstrumentation,
  IrPrintingInstrumentation,
  StatisticsInstrumentation,
  TimingInstrumentation,
  type PassInstrumentation,
  type PassSelection,
} from '@modelpass/pass-manager';
import { flagBoolean, flagString, type FlagSpecs, type ParsedArgs } from './args.js';
import type { CliIO } from './cli-io.js';

/** The flags every command that runs a pipeline shares (MLIR's -mlir-* instrumentation flags). */
export const instrumentationFlags: FlagSpecs = {
  timing: { type: 'boolean', help: 'print the time spent in each pass' },
  statistics: { type: 'boolean', help: 'print the statistics each pass reported' },
  'statistics-json': { type: 'string', help: 'also write statistics as JSON to FILE', valueName: 'FILE' },
  'print-ir-before': { type: 'string', help: 'print the IR before these passes (comma-separated)', valueName: 'PASSES' },
  'print-ir-after': { type: 'string', help: 'print the IR after these passes (comma-separated)', valueName: 'PASSES' },
  'print-ir-before-all': { type: 'boolean', help: 'print the IR before every pass' },
  'print-ir-after-all': { type: 'boolean', help: 'print the IR after every pass' },
  'print-ir-after-change': { type: 'boolean', help: 'with --print-ir-after*: print only when the pass changed the IR' },
  'dump-ir': { type: 'string', help: 'write the IR after every pass into DIR as NNN-<pass>.mpir', valueName: 'DIR' },
  'verify-each': { type: 'boolean', help: 'verify the IR after every pass (default on; --no-verify-each to skip)' },
  reproducer: { type: 'string', help: 'where a failing pipeline writes its reproducer (default: a new folder in the temp dir, and only when a pass crashed or broke the IR; with DIR, for every failure)', valueName: 'DIR' },
  debug: { type: 'boolean', help: 'show passes\' debug log on stderr' },
};

function selection(args: ParsedArgs, name: string): PassSelection | undefined {
  if (flagBoolean(args, `${name}-all`)) return 'all';
  const list = flagString(args, name);
  return list === undefined ? undefined : list.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface PipelineInstrumentation {
  readonly instrumentations: PassInstrumentation[];
  readonly timing?: TimingInstrumentation;
  readonly statistics?: StatisticsInstrumentation;
  readonly reproducer: CrashReproducerInstrumentation;
}

export function instrumentationFromFlags(args: ParsedArgs, io: CliIO): PipelineInstrumentation {
  const instrumentations: PassInstrumentation[] = [];
  const before = selection(args, 'print-ir-before');
  const after = selection(args, 'print-ir-after');
  const dump = folderFlag(args, io, 'dump-ir');
  if (before || after || dump) {
    instrumentations.push(
      new IrPrintingInstrumentation({
        ...(before ? { before } : {}),
        ...(after ? { after } : {}),
        onlyOnChange: flagBoolean(args, 'print-ir-after-change'),
        ...(dump ? { dumpDirectory: dump } : {}),
        write: (text) => io.stderr(text),
        printOptions: { elideConstantsLargerThan: 256 },
      }),
    );
  }
  const timing = flagBoolean(args, 'timing') ? new TimingInstrumentation() : undefined;
  if (timing) instrumentations.push(timing);
  const statistics = flagBoolean(args, 'statistics') || flagString(args, 'statistics-json') ? new StatisticsInstrumentation() : undefined;
  if (statistics) instrumentations.push(statistics);
  const directory = folderFlag(args, io, 'reproducer');
  const reproducer = new CrashReproducerInstrumentation({
    directory: directory ?? join(tmpdir(), `modelpass-reproducer-${process.pid}-${Date.now()}`),
    // Unasked, only crashes get one: a pass's own diagnosis of the user's input says all there is.
    on: directory ? 'any-failure' : 'crash',
  });
  instrumentations.push(reproducer);
  return { instrumentations, ...(timing ? { timing } : {}), ...(statistics ? { statistics } : {}), reproducer };
}

/**
 * A folder flag's absolute path (`--dump-ir DIR`, `--reproducer DIR`: created when missing). A path that names an
 * existing file or anything else that is no folder is refused before the model is read: it used to fail after the
 * work, at the first write, with "EEXIST: file already exists, mkdir" (QA s18 round 16: `--dump-ir model.onnx`).
 */
function folderFlag(args: ParsedArgs, io: CliIO, name: string): string | undefined {
  const given = flagString(args, name);
  if (given === undefined) return undefined;
  const path = resolve(io.cwd, given);
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats && !stats.isDirectory()) {
    throw new ModelpassError({
      reason: `--${name} '${given}' is ${stats.isFile() ? 'a file' : describeFileKind(stats)}, not a folder`,
      location: { file: path },
      code: 'cli/folder-flag',
      source: '@modelpass/cli',
      hint: `name a folder for --${name} (a missing one is created)`,
    });
  }
  return path;
}
