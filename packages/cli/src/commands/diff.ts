/**
 * `modelpass diff a b`: what changed between two models (or two pipeline stages, e.g. dumps from
 * --dump-ir): nodes added/removed/changed (paired by name, then by structure), attributes, constant
 * inputs and initializers with error statistics, graph inputs and outputs, and — run on the same
 * inputs in ONNX Runtime — the intermediate tensors present in both that differ.
 * Exit code 0 when nothing differs, 1 when something does, 2 on any error.
 */
import { resolve } from 'node:path';
import type { Model, Tensor } from '@modelpass/ir';
import { DEFAULT_ATOL, DEFAULT_RTOL, generateInputs, loadInputs } from '@modelpass/runtime';
import { diffModels, formatModelDiff, type CheckInputs, type ModelDiff, type TensorDivergenceTable } from '@modelpass/report';
import { flagBoolean, flagList, flagString, type ParsedArgs } from '../args.js';
import type { CliIO } from '../cli-io.js';
import type { Command } from '../command.js';
import { modelInput, checkOutputTarget } from '../model-files.js';
import { allowReadFlag, readOptions } from '../read-flags.js';
import { builtinEnvironment } from '../environment.js';
import { PassManager } from '@modelpass/pass-manager';
import { UsageError } from '../usage-error.js';
import { parseDimSizes } from '../name-bindings.js';
import { inputShapeFlag, parseInputShapes, readWithInputShapes } from '../input-shapes.js';
import { checkInputDtypes, inputDtypeFlag, parseInputDtypes } from '../input-dtypes.js';
import { compareIntermediates } from '../check/intermediate-tensors.js';
import { Referee } from '../check/referee.js';
import { layersOf, modelSummary, reportInput } from '../report/model-report.js';
import { reportFlag, reportHeader, writeReportFile } from '../report/report-file.js';
import { applyRunTimeLimit, runTimeLimitFlag } from '../run-time-limit-flag.js';
import { checkSeedText } from '../seed-flag.js';

function tolerance(args: ParsedArgs, name: 'atol' | 'rtol', fallback: number): number {
  const text = flagString(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${name} takes a non-negative number, got '${text}'`);
  return value;
}

function isIdentical(diff: ModelDiff): boolean {
  const io = [diff.graphInputs, diff.graphOutputs].every((d) => d.added.length + d.removed.length + d.changed.length === 0);
  const tensors = !diff.tensors || diff.tensors.tensors.every((t) => t.maxAbsError === 0);
  return (
    io &&
    tensors &&
    diff.nodes.added.length + diff.nodes.removed.length + diff.nodes.changed.length === 0 &&
    diff.initializers.added.length + diff.initializers.removed.length + diff.initializers.changed.length === 0
  );
}

/**
 * The tensors of --inputs, read before the comparison: a folder the user named that is missing, empty or does not fit
 * the model is an error (exit 2), as in compare — not a note that leaves the diff structural and its exit code 0.
 */
function givenInputs(a: Model, args: ParsedArgs, io: CliIO): Map<string, Tensor> | undefined {
  const inputsArg = flagString(args, 'inputs');
  return inputsArg === undefined ? undefined : loadInputs(resolve(io.cwd, inputsArg), a);
}

async function tensorTable(a: Model, b: Model, args: ParsedArgs, io: CliIO, given: Map<string, Tensor> | undefined): Promise<TensorDivergenceTable> {
  const atol = tolerance(args, 'atol', DEFAULT_ATOL);
  const rtol = tolerance(args, 'rtol', DEFAULT_RTOL);
  const inputsArg = flagString(args, 'inputs');
  const seedText = flagString(args, 'seed');
  checkSeedText(seedText, '--seed');
  let feeds: Map<string, Tensor>;
  let inputs: CheckInputs;
  if (inputsArg !== undefined && given !== undefined) {
    feeds = given;
    inputs = { source: 'folder', path: inputsArg, samples: [...feeds.values()][0]?.shape[0] ?? 1 };
  } else {
    const seed = seedText !== undefined ? Number(seedText) : 0;
    feeds = generateInputs(a, { seed, dims: parseDimSizes(flagList(args, 'dim'), 'dim', 'N=1'), defaultDim: 1 });
    inputs = { source: 'random', seed, samples: [...feeds.values()][0]?.shape[0] ?? 1 };
  }
  const referee = new Referee();
  try {
    const comparison = await compareIntermediates(a, b, feeds, referee, { atol, rtol });
    for (const note of comparison.notes) io.stderr(`modelpass: note: ${note}`);
    const all = flagBoolean(args, 'all-tensors');
    const first = comparison.tensors.find((t) => !t.withinTolerance);
    return {
      engine: comparison.engine,
      inputs,
      compared: comparison.tensors.length,
      tensors: comparison.tensors
        .filter((t) => all || t.maxAbsError !== 0)
        .map(({ name, node, op, maxAbsError, maxRelError, cosine, withinTolerance, shapeChange }) => ({ name, node, op, maxAbsError, maxRelError, cosine, withinTolerance, ...(shapeChange ? { shapeChange } : {}) })),
      ...(first ? { firstDivergent: first.name } : {}),
      atol,
      rtol,
    };
  } finally {
    await referee.dispose();
  }
}

export const diffCommand: Command = {
  name: 'diff',
  usage: 'modelpass diff <a> <b> [--json] [--inputs DIR | --seed N] [--dim NAME=SIZE]... [--input-shape NAME=DIMS]... [--input-dtype NAME=DTYPE]... [--atol X] [--rtol Y] [--no-tensors] [--report FILE]',
  summary:
    'Show what changed between two models: nodes added, removed and changed (paired by name, then by op and paired inputs), ' +
    'attributes, initializers (with max abs/rel error and cosine), graph inputs and outputs, and the intermediate tensors both ' +
    'models compute that differ on the same inputs (ONNX Runtime; random seeded inputs unless --inputs). ' +
    'Exit code 0 when nothing differs, 1 when something does, 2 on any error.',
  errorExitCode: 2,
  flags: {
    json: { type: 'boolean', help: 'print the diff as JSON (the report schema\'s `diff` section)' },
    inputs: { type: 'string', help: 'folder (or file) of inputs for the tensor comparison (.npy/.pb)', valueName: 'DIR' },
    seed: { type: 'string', help: 'seed for random inputs (default 0)', valueName: 'N' },
    dim: { type: 'list', help: 'size of a symbolic dimension for random inputs (default 1)', valueName: 'NAME=SIZE' },
    'input-shape': { ...inputShapeFlag, help: 'shape of input NAME in both models, as convert takes it (TorchScript archives record none)' },
    'input-dtype': inputDtypeFlag,
    atol: { type: 'string', help: `absolute tolerance for intermediate tensors (default ${DEFAULT_ATOL})`, valueName: 'X' },
    rtol: { type: 'string', help: `relative tolerance (default ${DEFAULT_RTOL})`, valueName: 'Y' },
    tensors: { type: 'boolean', help: 'run both models and compare intermediate tensors (default on; --no-tensors: structure only)' },
    'all-tensors': { type: 'boolean', help: 'list every compared tensor, also those that are equal' },
    'allow-read': allowReadFlag,
    report: reportFlag,
    'run-time-limit': runTimeLimitFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError('diff takes exactly two models');
    applyRunTimeLimit(args);
    if (flagString(args, 'inputs') !== undefined && (flagString(args, 'seed') !== undefined || flagList(args, 'dim').length > 0)) {
      throw new UsageError('--seed and --dim size random inputs; with --inputs the files give them');
    }
    const reportArg = flagString(args, 'report');
    const reportPath = reportArg === undefined ? undefined : resolve(io.cwd, reportArg);
    if (reportPath !== undefined) checkOutputTarget(reportPath, 'report file', args.positionals.map((p) => resolve(io.cwd, p)));
    const dtypes = parseInputDtypes(flagList(args, 'input-dtype'));
    const shapes = parseInputShapes(flagList(args, 'input-shape'));
    const read = { ...readOptions(args, io), ...(dtypes.size > 0 ? { inputDtypes: dtypes } : {}) };
    const [first, second] = args.positionals as [string, string];
    const inputA = modelInput(first, io, undefined);
    const inputB = modelInput(second, io, undefined);
    // As convert reads them: a .pt gets the shapes and dtypes while importing, other formats have them checked and set.
    const a = await readWithInputShapes(inputA.format, inputA.path, read, shapes);
    const b = await readWithInputShapes(inputB.format, inputB.path, read, shapes);
    for (const [input, model] of [[inputA, a], [inputB, b]] as const) {
      if (dtypes.size > 0 && input.format.name !== 'torchscript') checkInputDtypes(model, dtypes, input.path);
    }
    // Two formats (m.onnx against the m.tflite made from it): each is raised to the canonical ops first, as convert
    // does, so nodes pair and ONNX Runtime can compute both models' intermediate tensors (tflite.* ops it cannot).
    if (inputA.format !== inputB.format) {
      for (const [input, model] of [[inputA, a], [inputB, b]] as const) {
        if (input.format.raisePass === undefined) continue;
        io.stderr(`modelpass: ${input.format.name} model '${input.path}': running ${input.format.raisePass} before diffing`);
        await new PassManager({ environment: builtinEnvironment() }).run(model, input.format.raisePass);
      }
    }
    const structural = diffModels(a, b);
    let diff: ModelDiff = structural;
    if (flagBoolean(args, 'tensors', true)) {
      const given = givenInputs(a, args, io);
      try {
        diff = { ...structural, tensors: await tensorTable(a, b, args, io, given) };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        io.stderr(`modelpass: note: intermediate tensors not compared: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }
    io.stdout(flagBoolean(args, 'json') ? JSON.stringify(diff, null, 2) : formatModelDiff(diff, { names: [first, second] }));
    if (reportPath !== undefined) {
      writeReportFile(reportPath, {
        ...reportHeader('diff', undefined),
        inputs: [reportInput('model', inputA.path, inputA.format.name), reportInput('model', inputB.path, inputB.format.name)],
        passes: [],
        models: { before: modelSummary(a, inputA.path), after: modelSummary(b, inputB.path) },
        layers: layersOf(b, a),
        diff,
      });
    }
    return isIdentical(diff) ? 0 : 1;
  },
};
