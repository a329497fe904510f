import { resolve } from 'node:path';
import { ModelpassError, type DType, type Model } from '@modelpass/ir';
import { TORCHSCRIPT_UNKNOWN_INPUT_NAME } from '@modelpass/torchscript';
import { DEFAULT_ATOL, DEFAULT_RTOL, UNDER_ATOL_SCALE, compareModels, feedableInputs, symbolicInputDims, type EngineName, type ModelSource, type OutputComparison } from '@modelpass/runtime';
import { channelsFirstPermutation, channelsLastPermutation, permuteDims } from '@modelpass/transforms';
import { flagBoolean, flagList, flagString } from '../args.js';
import type { CliIO } from '../cli-io.js';
import type { Command } from '../command.js';
import { formatVerdict, withVerdict } from '../compare-report.js';
import { checkOutputTarget, modelInput } from '../model-files.js';
import { checkEngineLoads } from '../engine-formats.js';
import { UsageError } from '../usage-error.js';
import { parseDimSizes } from '../name-bindings.js';
import { outputsCheck } from '../report/outputs-check.js';
import { layersOf, modelSummary, reportInput } from '../report/model-report.js';
import { reportFlag, reportHeader, writeReportFile } from '../report/report-file.js';
import { allowReadFlag, readOptions } from '../read-flags.js';
import type { ModelFormat, ModelReadOptions } from '../formats.js';
import { applyInputShapes, inputShapeFlag, parseInputShapes, readWithInputShapes } from '../input-shapes.js';
import type { Dim } from '@modelpass/ir';
import { checkSameInputNames } from '../compare-input-names.js';
import { positionalOrder, readArchiveByPosition } from '../compare-positional-inputs.js';
import { bindFlag, parseBindings } from '../forward-bindings.js';
import { inputFileFacts, positionalFileShapes } from '../compare-input-files.js';
import { fixedInputTensors, inputValueFlag, parseInputValues } from '../input-values.js';
import { checkInputDtypes, inputDtypeFlag, parseInputDtypes } from '../input-dtypes.js';
import { quantizedDisagreementNote } from '../quantized-note.js';
import { applyRunTimeLimit, runTimeLimitFlag } from '../run-time-limit-flag.js';
import { checkSeedText } from '../seed-flag.js';
import { archiveRunByTorch, isArchiveCodeRefusal } from '../compare-unreadable-archive.js';

function parseTolerance(args: Parameters<Command['run']>[0], name: 'atol' | 'rtol', fallback: number): number {
  const text = flagString(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${name} takes a non-negative number, got '${text}'`);
  return value;
}

/** What the engines get for a model argument: ONNX files as they are, other formats read into the IR. */
async function modelSource(
  argument: string,
  io: CliIO,
  read: ModelReadOptions,
  shapes: ReadonlyMap<string, readonly Dim[]>,
  engine: string | undefined,
  fileShapes: () => ReadonlyMap<string, readonly Dim[]>,
  positional?: { readonly order: readonly string[]; readonly otherPath: string; readonly dtypes: ReadonlyMap<string, DType> },
): Promise<{ source: ModelSource; model: Model; path: string; byPosition: boolean }> {
  const { path, format } = modelInput(argument, io, undefined);
  checkEngineLoads(engine, format.name, path);
  // An archive records no input shapes: without --input-shape, the --inputs files named after its inputs give them.
  const given = shapes.size === 0 && format.name === 'torchscript' ? fileShapes() : shapes;
  const model =
    positional && format.name === 'torchscript'
      ? await readArchiveByPosition(format, path, read, given, positional.dtypes, positional.order, positional.otherPath, io.stderr)
      : format.name === 'tflite'
        ? await readTfliteWithInputShapes(format, path, read, given)
        : await readWithInputShapes(format, path, read, given);
  // A TorchScript archive runs on torch itself (the torch engine takes the file); --engine ort/reference run what it was read into.
  const torchTakesFile = format.name === 'torchscript' && engine !== 'ort' && engine !== 'reference';
  return { source: format.name === 'onnx' || format.name === 'tflite' || torchTakesFile ? path : model, model, path, byPosition: torchTakesFile };
}

/** Ranks whose channel axis io-layout=nhwc moves last: NCL (Conv1d), NCHW, NCDHW (Conv3d). */
const CHANNEL_RANKS = new Set([3, 4, 5]);

/**
 * A .tflite file's inputs are static, so `--input-shape` (given for the other model's symbolic dims) can only restate
 * them: an input laid out channels-last (`legalize-tflite{io-layout=nhwc}`) restates the NCHW shape as its NHWC
 * permutation, which compare feeds channels-last anyway. Such an input keeps its shape; any other contradiction is
 * refused by applyInputShapes as before.
 */
async function readTfliteWithInputShapes(format: ModelFormat, path: string, read: ModelReadOptions, shapes: ReadonlyMap<string, readonly Dim[]>): Promise<Model> {
  const model = await format.read(path, read);
  const restated = new Map(shapes);
  for (const input of feedableInputs(model)) {
    const given = shapes.get(input.name);
    const declared = input.type.kind === 'tensor' ? input.type.shape : null;
    if (!given || !declared || given.length !== declared.length || !CHANNEL_RANKS.has(given.length)) continue;
    const channelsLast = permuteDims(given, channelsLastPermutation(given.length));
    if (declared.every((dim, axis) => typeof dim === 'number' && dim === channelsLast[axis])) restated.delete(input.name);
  }
  if (restated.size > 0) applyInputShapes(model, restated, path);
  return model;
}

/** Random inputs need a rank: a TorchScript archive records none, so ask for --input-shape instead of the runtime's API hint. */
function requireInputRanks(model: Model, path: string): void {
  const rankless = feedableInputs(model).find((input) => input.type.kind === 'tensor' && input.type.shape === null);
  if (rankless) {
    throw new UsageError(
      `input '${rankless.name}' of '${path}' has no recorded shape (TorchScript archives record none), so random inputs cannot be made: ` +
        `give --input-shape ${rankless.name}=DIMS (e.g. ${rankless.name}=batch,1,28,28 --dim batch=2) or --inputs DIR`,
    );
  }
}

/**
 * Sizes the second model fixes for the first one's symbolic input dims: a model converted to .tflite (static
 * shapes) with --input-shape declares them, directly or channels-last (io-layout=nhwc). A dim both models
 * leave symbolic, or that the second fixes inconsistently, is not in the map.
 */
function dimsFixedByOther(a: Model, b: Model): Map<string, { size: number; input: string }> {
  const sizes = new Map<string, { size: number; input: string }>();
  const conflicting = new Set<string>();
  const others = new Map(feedableInputs(b).map((input) => [input.name, input]));
  for (const input of feedableInputs(a)) {
    const other = others.get(input.name);
    const shape = input.type.kind === 'tensor' ? input.type.shape : null;
    const fixed = other?.type.kind === 'tensor' ? other.type.shape : null;
    if (!shape || !fixed || shape.length !== fixed.length) continue;
    const agrees = (axisOf: (axis: number) => number): boolean => shape.every((dim, axis) => typeof dim !== 'number' || fixed[axisOf(axis)] === dim);
    const channelsLast = channelsFirstPermutation(shape.length); // NCHW axis → its NHWC position
    const axisOf = agrees((axis) => axis) ? (axis: number) => axis : CHANNEL_RANKS.has(shape.length) && agrees((axis) => channelsLast[axis]!) ? (axis: number) => channelsLast[axis]! : undefined;
    if (!axisOf) continue;
    shape.forEach((dim, axis) => {
      const size = fixed[axisOf(axis)];
      if (typeof dim !== 'string' || typeof size !== 'number') return;
      const known = sizes.get(dim);
      if (known && known.size !== size) conflicting.add(dim);
      else sizes.set(dim, { size, input: input.name });
    });
  }
  for (const dim of conflicting) sizes.delete(dim);
  return sizes;
}

/**
 * Sizes for the symbolic dims of generated inputs: those given, then those the second model fixes (a static
 * .tflite made from the first), the rest 1 — each one not given said on stderr.
 */
function resolveDims(model: Model, given: Record<string, number>, io: CliIO, other?: Model): { dims: Record<string, number>; unknownDims: boolean } {
  const symbolic = symbolicInputDims(model);
  const unused = Object.keys(given).filter((name) => !symbolic.includes(name));
  if (unused.length > 0) {
    throw new UsageError(`--dim ${unused[0]}=…: the inputs of the first model have no dimension '${unused[0]}' (they have: ${symbolic.join(', ') || 'none'})`);
  }
  const dims = { ...given };
  const fixedByOther = other ? dimsFixedByOther(model, other) : new Map<string, { size: number; input: string }>();
  for (const name of symbolic) {
    if (dims[name] !== undefined) continue;
    const fixed = fixedByOther.get(name);
    if (fixed) {
      dims[name] = fixed.size;
      io.stderr(`modelpass: ${name}=${fixed.size} (symbolic; the second model fixes it in input '${fixed.input}'; set with --dim ${name}=<size>)`);
      continue;
    }
    dims[name] = 1;
    io.stderr(`modelpass: ${name}=1 (symbolic; set with --dim ${name}=<size>)`);
  }
  let unknownDims = false;
  for (const input of feedableInputs(model)) {
    if (input.type.kind !== 'tensor' || !input.type.shape) continue;
    input.type.shape.forEach((dim, axis) => {
      if (dim !== null) return;
      unknownDims = true;
      io.stderr(`modelpass: input '${input.name}' axis ${axis} has no declared size; using 1`);
    });
  }
  return { dims, unknownDims };
}

/**
 * Dtypes a .pt's inputs take from the other model of the pair (QA s12 N7: random int64 token ids were
 * fed to the archive as float32 and its embedding refused them): each of the other model's inputs
 * declared with a type other than float32 (the archive reader's default), unless --input-dtype or
 * the --inputs files give that input's type.
 */
function lentInputDtypes(other: Model, given: ReadonlyMap<string, DType>): Map<string, DType> {
  const lent = new Map<string, DType>();
  for (const input of feedableInputs(other)) {
    if (input.type.kind !== 'tensor' || input.type.dtype === 'float32' || given.has(input.name)) continue;
    lent.set(input.name, input.type.dtype);
  }
  return lent;
}

/**
 * Shapes a .pt's inputs take from the other model of the pair (QA s13 R4: a traced GPT-2's split_with_sizes
 * refused 'the rank of the input is not known' until --input-shape repeated what the ONNX side declares):
 * each of the other model's inputs whose every dim is a static size, unless --input-shape gives it. With `sizes`,
 * a symbolic or unknown dim takes the size the random inputs will have — `--dim NAME=SIZE`, else 1, as resolveDims
 * sizes them: made from the other model's shapes when the .pt is second, from these lent ones when it is first
 * (QA s18 round 17: `compare m.pt m.onnx --dim batch=2` refused 'has no recorded shape' where the reverse ran) (QA s18
 * round 16: `compare text_cls.onnx text_cls.pt --dim batch=1 --dim seq=11`, ids [batch, seq], failed importing the
 * archive, 'aten::amax: the rank of the input is not known', unless --input-shape repeated the sizes).
 */
function lentInputShapes(other: Model, given: ReadonlyMap<string, readonly Dim[]>, sizes?: Readonly<Record<string, number>>): Map<string, readonly Dim[]> {
  const lent = new Map<string, readonly Dim[]>();
  for (const input of feedableInputs(other)) {
    if (input.type.kind !== 'tensor' || !input.type.shape || given.has(input.name)) continue;
    const dims = input.type.shape;
    if (dims.every((dim) => typeof dim === 'number')) lent.set(input.name, dims);
    else if (sizes) lent.set(input.name, dims.map((dim) => (typeof dim === 'number' ? dim : typeof dim === 'string' ? (sizes[dim] ?? 1) : 1)));
  }
  return lent;
}

/** `entries` without the names in `excluded`. */
function withoutNames<T>(entries: Map<string, T>, excluded: ReadonlySet<string>): Map<string, T> {
  for (const name of excluded) entries.delete(name);
  return entries;
}

/**
 * Reads the archive with the inputs fixed by --input-value left out of the pairing (it was converted with the same
 * --input-value, as the README says); when it still takes one of them (converted without it) or cannot be read so,
 * reads it again with them paired like any other input. Returns the kept read and the notes it said.
 */
async function readArchiveWithoutFixed<T extends { model: Model }>(
  readArchive: (excluded: ReadonlySet<string>, notes: string[]) => Promise<T>,
  fixed: ReadonlySet<string>,
): Promise<{ side: T; notes: readonly string[] }> {
  let firstError: unknown;
  if (fixed.size > 0) {
    const notes: string[] = [];
    try {
      const side = await readArchive(fixed, notes);
      if (!feedableInputs(side.model).some((input) => fixed.has(input.name))) return { side, notes };
    } catch (error) {
      if (!ModelpassError.is(error)) throw error;
      firstError = error;
    }
  }
  const notes: string[] = [];
  try {
    return { side: await readArchive(new Set(), notes), notes };
  } catch (error) {
    // Neither read works: the error of the documented use (an archive converted with the same --input-value) says more.
    throw firstError ?? error;
  }
}

/**
 * Reading the model that is not a .pt failed: when an input shape was given by a name it lacks (the
 * archive's forward argument, say), add how compare pairs the two models' inputs.
 */
async function withPairingHint<T>(reading: Promise<T>, shapes: ReadonlyMap<string, readonly Dim[]>, archivePath: string): Promise<T> {
  try {
    return await reading;
  } catch (error) {
    if (!ModelpassError.is(error) || shapes.size === 0 || !/has no input/.test(error.message)) throw error;
    throw new ModelpassError([
      ...error.diagnostics,
      {
        reason: `compare feeds '${archivePath}' by position: its forward arguments take the other model's inputs in order, so give --input-shape and --input-dtype by the other model's input names`,
        source: '@modelpass/cli',
        code: 'cli/compare-input-names',
      },
    ]);
  }
}

/**
 * Outputs that are all empty (a size-0 dimension in --input-shape or in the --inputs files) compare no element: "agree"
 * would say nothing about the models, so compare stops (exit 2) instead of passing the check.
 */
function refuseEmptyComparison(outputs: readonly OutputComparison[]): void {
  const sizeOf = (shape: readonly number[] | undefined) => (shape ?? [1]).reduce((n, d) => n * d, 1);
  if (outputs.length === 0 || !outputs.every((o) => o.present && o.shapeMatch && sizeOf(o.expectedShape) === 0)) return;
  const shapes = outputs.map((o) => `${o.name} [${o.expectedShape!.join(',')}]`).join(', ');
  throw new ModelpassError([{
    reason: `compare compared nothing: every output is empty (${shapes}), so the models' agreement is unknown`,
    hint: 'give every input dimension a positive size (--input-shape, --dim, or the --inputs files)',
    source: '@modelpass/cli',
    code: 'cli/compare-empty-outputs',
  }]);
}

export const compareCommand: Command = {
  name: 'compare',
  usage: 'modelpass compare <a> <b> [--inputs DIR | --seed N] [--dim NAME=SIZE]... [--input-shape NAME=DIMS]... [--input-value NAME=VALUES]... [--input-dtype NAME=DTYPE]... [--bind NAME=VALUE]... [--atol X] [--rtol Y] [--engine ort|reference|tflite|torch] [--json]',
  summary:
    'Run two models on the same inputs and say whether their outputs agree. Per output, every element must satisfy ' +
    `|a - b| <= atol + rtol·|a| (defaults ${DEFAULT_ATOL.toExponential()} and ${DEFAULT_RTOL.toExponential()}; a is the reference); an output entirely within atol is judged at its own scale, |a - b| <= ${UNDER_ATOL_SCALE}·max|a| + rtol·|a|. Prints the worst element, max absolute and ` +
    'relative error, cosine similarity and top-1 agreement. Exit code 0 when they agree, 1 when they disagree, 2 on any error. ' +
    'Inputs are random (seeded; symbolic dims default to 1) unless --inputs names .npy/.pb files or a folder of them.',
  errorExitCode: 2,
  flags: {
    inputs: { type: 'string', help: 'folder (or file) of inputs: <input>.npy, input_N.npy or input_N.pb', valueName: 'DIR' },
    seed: { type: 'string', help: 'seed for random inputs (default 0)', valueName: 'N' },
    dim: { type: 'list', help: 'size of a symbolic dimension for random inputs (default 1)', valueName: 'NAME=SIZE' },
    'input-shape': { ...inputShapeFlag, help: 'shape of input NAME in both models, as convert takes it (TorchScript archives record none), e.g. x=batch,time,16; symbolic dims are then sized by --dim' },
    'input-dtype': { ...inputDtypeFlag, help: 'element type of input NAME in both models, e.g. tokens=int64 (TorchScript archives record none; the --inputs files also give it)' },
    'input-value': {
      ...inputValueFlag,
      help: 'feed input NAME these values (comma-separated, row-major) instead of random ones, e.g. sr=16000; a model converted with convert --input-value NAME=… no longer takes NAME and runs without it (repeatable)',
    },
    atol: { type: 'string', help: `absolute tolerance (default ${DEFAULT_ATOL.toExponential()})`, valueName: 'X' },
    rtol: { type: 'string', help: `relative tolerance, times |a| (default ${DEFAULT_RTOL.toExponential()})`, valueName: 'Y' },
    'nan-equal': { type: 'boolean', help: 'NaN in both outputs at one position agrees (default on; --no-nan-equal: every NaN disagrees)' },
    engine: { type: 'string', help: 'ort, reference, tflite or torch for both models (default: tflite for .tflite files, torch for .pt files, ort for the others)', valueName: 'ENGINE' },
    'allow-read': allowReadFlag,
    bind: { ...bindFlag, help: `${bindFlag.help}; the .pt then runs as read (--engine ort or reference): torch itself feeds forward tensors only` },
    json: { type: 'boolean', help: 'print JSON: verdict, verdicts, perOutput (with worst), maxAbsError, cosine, top1Agreement, dims, ...' },
    report: reportFlag,
    'run-time-limit': runTimeLimitFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError('compare takes exactly two models');
    applyRunTimeLimit(args);
    const seedText = flagString(args, 'seed');
    checkSeedText(seedText, '--seed');
    const inputs = flagString(args, 'inputs');
    if (inputs !== undefined && seedText !== undefined) throw new UsageError('use either --inputs or --seed, not both');
    if (inputs !== undefined && flagList(args, 'dim').length > 0) throw new UsageError('--dim sizes random inputs; with --inputs the files give the sizes');
    const engine = flagString(args, 'engine');
    if (engine !== undefined && engine !== 'ort' && engine !== 'reference' && engine !== 'tflite' && engine !== 'torch') throw new UsageError(`--engine takes ort, reference, tflite or torch, got '${engine}'`);
    const atol = parseTolerance(args, 'atol', DEFAULT_ATOL);
    const rtol = parseTolerance(args, 'rtol', DEFAULT_RTOL);
    const given = parseDimSizes(flagList(args, 'dim'), 'dim', 'N=1');
    const reportArg = flagString(args, 'report');
    const reportPath = reportArg === undefined ? undefined : resolve(io.cwd, reportArg);
    if (reportPath !== undefined) checkOutputTarget(reportPath, 'report file', args.positionals.map((p) => resolve(io.cwd, p)));
    // An archive's inputs are float32 unless the --inputs files say otherwise (silero VAD's int64 `sr`); the files are read once.
    const facts = inputs === undefined ? undefined : inputFileFacts(resolve(io.cwd, inputs));
    const dtypes = parseInputDtypes(flagList(args, 'input-dtype'));
    const givenDtypes = new Map([...(facts?.dtypes ?? []), ...dtypes]);
    const bindings = parseBindings(flagList(args, 'bind'));
    const read = { ...readOptions(args, io), ...(givenDtypes.size > 0 ? { inputDtypes: givenDtypes } : {}), ...(bindings.size > 0 ? { bindings } : {}) };
    const shapes = parseInputShapes(flagList(args, 'input-shape'));
    const values = parseInputValues(flagList(args, 'input-value'));
    const fileShapes = () => facts?.shapes ?? new Map<string, readonly Dim[]>();
    const archives = args.positionals.map((argument) => modelInput(argument, io, undefined).format.name === 'torchscript');
    if (bindings.size > 0) {
      if (!archives.includes(true)) throw new UsageError('--bind fixes TorchScript forward arguments; neither model is a .pt');
      if (engine !== 'ort' && engine !== 'reference') {
        throw new UsageError('--bind fixes a .pt forward argument while the archive is read; torch runs the archive itself and feeds its forward tensors only: add --engine ort (or reference) to run both models as read');
      }
    }
    const namedInputs = new Set([...shapes.keys(), ...dtypes.keys()]);
    let a: Awaited<ReturnType<typeof modelSource>>;
    let b: Awaited<ReturnType<typeof modelSource>>;
    if (archives[0] !== archives[1]) {
      // One .pt: torch takes its forward arguments by position, so names given by the other model's inputs bind by position.
      const archive = archives[0] ? 0 : 1;
      const other = await withPairingHint(modelSource(args.positionals[1 - archive]!, io, read, shapes, engine, fileShapes), shapes, args.positionals[archive]!);
      // Inputs fixed by --input-value that the other model takes: an archive converted with the same --input-value no
      // longer takes them, so they lend nothing and take no position (QA s17 round 14: silero legacy's `sr` was lent to `h`).
      // An archive converted without it still takes them: read again with them paired as before.
      const fixedByValue = new Set(feedableInputs(other.model).map((input) => input.name).filter((name) => values.has(name)));
      // Each read says its notes into its own list; only the kept read's are printed.
      const readArchive = async (excluded: ReadonlySet<string>, notes: string[]) => {
        const note = (text: string) => void notes.push(text);
        const noteIO: CliIO = { ...io, stderr: note };
        // The archive records no dtypes: the other model's non-float32 inputs (token ids) lend theirs unless given.
        const lent = withoutNames(lentInputDtypes(other.model, givenDtypes), excluded);
        for (const [name, dtype] of lent) note(`modelpass: ${name}: ${dtype} (the .pt records no input dtypes; taken from '${other.path}'; set with --input-dtype ${name}=<type>)`);
        const archiveDtypes = withoutNames(new Map([...lent, ...givenDtypes]), excluded);
        const archiveRead = { ...read, ...(lent.size > 0 || excluded.size > 0 ? { inputDtypes: archiveDtypes } : {}), onNote: (text: string) => note(`modelpass: note: ${text}`) };
        // Nor shapes: the other model's fully static inputs lend theirs, unless --input-shape or the --inputs files give them;
        // with --inputs, the positional files (input_N feeds the other model's N-th input, and the archive's N-th argument) lend theirs.
        const feedOrder = feedableInputs(other.model).map((input) => input.name);
        const lentShapes = withoutNames(facts === undefined ? lentInputShapes(other.model, shapes, given) : positionalFileShapes(facts, feedOrder, shapes), excluded);
        for (const [name, dims] of lentShapes) {
          const declared = feedableInputs(other.model).find((input) => input.name === name)?.type;
          const sized = declared?.kind === 'tensor' && declared.shape?.some((dim) => typeof dim !== 'number') ? ', its symbolic dims sized as the random inputs' : '';
          const source = facts === undefined ? `'${other.path}'${sized}` : `the --inputs file input_${feedOrder.indexOf(name)}`;
          note(`modelpass: ${name}: [${dims.join(',')}] (the .pt records no input shapes; taken from ${source}; set with --input-shape ${name}=<dims>)`);
        }
        const archiveShapes = withoutNames(new Map([...shapes, ...lentShapes]), excluded);
        const named = [...namedInputs].filter((name) => !excluded.has(name));
        const order = positionalOrder(other.model, new Set([...named, ...lent.keys(), ...lentShapes.keys()]), bindings.size, excluded);
        const dtypesByName = new Map([...archiveDtypes].filter(([name]) => order?.includes(name)));
        // By name first (an archive whose forward names its arguments as the other model does is fed in its own order).
        const byName = modelSource(args.positionals[archive]!, noteIO, archiveRead, archiveShapes, engine, fileShapes);
        return !order
          ? await byName
          : await byName.catch((error: unknown) => {
              if (!ModelpassError.is(error) || !error.diagnostics.some((d) => d.code === TORCHSCRIPT_UNKNOWN_INPUT_NAME)) throw error;
              return modelSource(args.positionals[archive]!, noteIO, archiveRead, archiveShapes, engine, fileShapes, { order, otherPath: other.path, dtypes: dtypesByName });
            });
      };
      const archivePath = modelInput(args.positionals[archive]!, io, undefined).path;
      // torch runs the archive itself: one the reader cannot import (torchvision.ops.nms) is run as it is, by position.
      const torchRunsIt = engine !== 'ort' && engine !== 'reference';
      const { side, notes } = await readArchiveWithoutFixed(readArchive, fixedByValue).catch((error: unknown) => {
        if (!torchRunsIt || !isArchiveCodeRefusal(error)) throw error;
        const notes: string[] = [];
        return { side: archiveRunByTorch(archivePath, other.model, other.path, error, (text) => void notes.push(text)), notes };
      });
      for (const note of notes) io.stderr(note);
      [a, b] = archive === 0 ? [side, other] : [other, side];
    } else {
      a = await modelSource(args.positionals[0]!, io, read, shapes, engine, fileShapes);
      b = await modelSource(args.positionals[1]!, io, read, shapes, engine, fileShapes);
    }
    for (const side of [a, b]) if (dtypes.size > 0 && side.model.sourceFormat !== 'torchscript') checkInputDtypes(side.model, dtypes, side.path);
    const fixedInputs = fixedInputTensors(values, [a, b]);
    checkSameInputNames(a, b, new Set(fixedInputs.keys()));
    if (inputs === undefined) requireInputRanks(a.model, a.path);
    // A .pt first took the --dim sizes of the other model's symbolic dims into the shapes lent to it: those names are used.
    const lentDims = archives[0] && !archives[1] ? new Set(symbolicInputDims(b.model)) : new Set<string>();
    const givenForA = Object.fromEntries(Object.entries(given).filter(([name]) => !lentDims.has(name) || symbolicInputDims(a.model).includes(name)));
    const { dims, unknownDims } = inputs === undefined ? resolveDims(a.model, givenForA, io, b.model) : { dims: {}, unknownDims: false };
    const report = await compareModels(a.source, b.source, {
      ...(inputs !== undefined ? { inputs: resolve(io.cwd, inputs) } : { seed: seedText !== undefined ? Number(seedText) : 0, dims, ...(unknownDims ? { defaultDim: 1 } : {}) }),
      ...(engine !== undefined ? { engine: engine as EngineName } : {}),
      modelA: a.model,
      modelB: b.model,
      ...(fixedInputs.size > 0 ? { fixedInputs } : {}),
      atol,
      rtol,
      nanEqual: flagBoolean(args, 'nan-equal', true),
    });
    refuseEmptyComparison(report.perOutput);
    const verdict = withVerdict(report, dims, values);
    for (const note of report.layoutNotes) io.stderr(`modelpass: note: ${note}`);
    if (reportPath !== undefined) {
      writeReportFile(reportPath, {
        ...reportHeader('compare', undefined),
        inputs: [reportInput('reference', a.path), reportInput('candidate', b.path), ...(inputs !== undefined ? [reportInput('inputs', resolve(io.cwd, inputs))] : [])],
        passes: [],
        models: { before: modelSummary(a.model, a.path), after: modelSummary(b.model, b.path) },
        layers: layersOf(b.model, a.model),
        comparison: outputsCheck(report, report.engines[1] === 'ort' ? 'onnxruntime' : report.engines[1]),
      });
    }
    io.stdout(flagBoolean(args, 'json') ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict, [args.positionals[0]!, args.positionals[1]!]));
    if (verdict.verdict !== 'agree') {
      const note = quantizedDisagreementNote([a, b]);
      if (note) io.stderr(`modelpass: note: ${note}`);
    }
    return verdict.verdict === 'agree' ? 0 : 1;
  },
};
