import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ModelpassError, type Model } from '@modelpass/ir';
import { closestName } from '@modelpass/pass-manager';
import { DATASET_SCHEMES, FASHION_MNIST_CLASSES, evaluateAccuracy, loadDataset, type EngineName, type Normalization, type SampleLayout } from '@modelpass/runtime';
import { flagBoolean, flagList, flagString, type ParsedArgs } from '../args.js';
import { progressReporter } from '../cli-io.js';
import type { Command } from '../command.js';
import { checkOutputTarget, modelInput } from '../model-files.js';
import { checkEngineLoads } from '../engine-formats.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';
import { layersOf, modelSummary, reportInput } from '../report/model-report.js';
import { reportFlag, reportHeader, writeReportFile } from '../report/report-file.js';
import { distributedFlags } from '../distributed-flags.js';
import { shardedAccuracy } from '../eval-distributed.js';
import { evalShapes } from '../eval-sample-shape.js';
import { applyInputShapes, inputShapeFlag, parseInputShapes, readWithInputShapes } from '../input-shapes.js';
import { applyRunTimeLimit, runTimeLimitFlag } from '../run-time-limit-flag.js';

function positiveInteger(args: ParsedArgs, name: string): number | undefined {
  const text = flagString(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} takes a positive integer, got '${text}'`);
  return Number(text);
}

function numberList(args: ParsedArgs, name: string, positive: boolean): number[] | undefined {
  const text = flagString(args, name);
  if (text === undefined) return undefined;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (text.trim() === '' || values.some((v, i) => !Number.isFinite(v) || text.split(',')[i]!.trim() === '' || (positive && v <= 0))) {
    throw new UsageError(`--${name} takes ${positive ? 'positive ' : ''}numbers separated by commas (one per channel, or one for all), got '${text}'`);
  }
  return values;
}

/** The `scale` value: a number or a fraction such as `1/255`. */
function parseScale(args: ParsedArgs): number | undefined {
  const text = flagString(args, 'scale');
  if (text === undefined) return undefined;
  const match = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+)\s*)?$/.exec(text);
  const value = match ? Number(match[1]) / (match[2] !== undefined ? Number(match[2]) : 1) : NaN;
  if (!Number.isFinite(value)) throw new UsageError(`--scale takes a number or a fraction like 1/255, got '${text}'`);
  return value;
}

function checkDatasetName(spec: string): void {
  const name = spec.includes(':') ? spec.slice(0, spec.indexOf(':')) : spec;
  if (DATASET_SCHEMES.has(name)) return;
  const near = closestName(name, [...DATASET_SCHEMES.keys()]);
  const known = [...DATASET_SCHEMES.values()].map((s) => `${s.name}:${s.argument}`).join(', ');
  throw new UsageError(`unknown dataset '${spec}'${near ? ` — did you mean '${near}:…'?` : ''}; datasets: ${known}`);
}

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * A model read into the IR whose sample input records no shape (a scripted TorchScript archive)
 * cannot say how a sample is laid out: ask for --sample-shape instead of letting the engine fail.
 */
function requireSampleShape(model: Model, inputName: string | undefined, path: string): void {
  const inputs = model.graph.inputs.filter((value) => !value.constant);
  const input = inputName === undefined ? (inputs.length === 1 ? inputs[0] : undefined) : inputs.find((value) => value.name === inputName);
  if (!input || (input.type.kind === 'tensor' && input.type.shape)) return;
  throw new ModelpassError({
    reason: `input '${input.name}' has no recorded shape, so a sample's layout is unknown`,
    location: { file: path },
    code: 'cli/eval-sample-shape',
    source: '@modelpass/cli',
    hint: `give the shape of one sample, e.g. --sample-shape 1,28,28, or of the input, e.g. --input-shape ${input.name}=batch,1,28,28 (TorchScript archives record no input shapes)`,
  });
}

export const evalCommand: Command = {
  name: 'eval',
  usage: 'modelpass eval <model> --dataset SPEC [--limit N] [--engine ort|reference|tflite|torch] [--sample-shape D,D,... | --input-shape NAME=DIMS] [--scale X] [--mean M] [--std S] [--json]',
  summary:
    'Measure classification accuracy on labelled data (the argmax of the model\'s output against the labels). Datasets: ' +
    'fashion-mnist:train|test (Debian dataset-fashion-mnist), idx:IMAGES,LABELS, npy:DIR (DIR/x.npy, DIR/y.npy). Samples become ' +
    'float32 (x·scale - mean) / std, reshaped to the model input (NCHW). Exit code 0, or 1 below --min-accuracy, 2 on any error.',
  errorExitCode: 2,
  flags: {
    'allow-read': allowReadFlag,
    dataset: { type: 'string', short: 'd', help: 'fashion-mnist:test, fashion-mnist:train, idx:IMAGES,LABELS or npy:DIR', valueName: 'SPEC' },
    limit: { type: 'string', help: 'evaluate only the first N samples', valueName: 'N' },
    engine: { type: 'string', help: 'ort, reference, tflite or torch (default: tflite for .tflite files, ort for the others: a .pt runs as the model it was read into; torch runs the archive itself in /usr/bin/python3)', valueName: 'ENGINE' },
    'batch-size': { type: 'string', help: 'samples per run (default 256; a fixed batch dimension wins)', valueName: 'N' },
    scale: { type: 'string', help: 'multiply samples by X first (default 1/255 for uint8 samples, else 1)', valueName: 'X' },
    mean: { type: 'string', help: 'subtract after scaling (default 0; a list gives one per channel)', valueName: 'M[,M...]' },
    std: { type: 'string', help: 'then divide (default 1; a list gives one per channel)', valueName: 'S[,S...]' },
    layout: { type: 'string', help: 'layout of the samples: nchw (default; channels first or none) or nhwc (transposed to NCHW)', valueName: 'LAYOUT' },
    'sample-shape': { type: 'string', help: 'shape of one sample as the model takes it, e.g. 1,28,28 (default: from the model input)', valueName: 'D,D,...' },
    'input-shape': { ...inputShapeFlag, help: 'shape of input NAME, batch dim first, as convert takes it, e.g. image=batch,1,28,28 (instead of --sample-shape; a numeric batch dim is the default --batch-size)' },
    input: { type: 'string', help: 'the model input that takes the samples (default: the only one)', valueName: 'NAME' },
    output: { type: 'string', help: 'the output holding the logits (default: the first)', valueName: 'NAME' },
    'min-accuracy': { type: 'string', help: 'exit 1 when the accuracy is below X (0 to 1)', valueName: 'X' },
    json: { type: 'boolean', help: 'print JSON: accuracy, correct, total, perClass, engine, dataset, normalization, seconds, ...' },
    report: reportFlag,
    ...distributedFlags,
    'run-time-limit': runTimeLimitFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('eval takes exactly one model');
    applyRunTimeLimit(args);
    const spec = flagString(args, 'dataset');
    if (spec === undefined) throw new UsageError('eval needs a dataset: --dataset fashion-mnist:test (or idx:IMAGES,LABELS, npy:DIR)');
    checkDatasetName(spec);
    const engine = flagString(args, 'engine');
    if (engine !== undefined && engine !== 'ort' && engine !== 'reference' && engine !== 'tflite' && engine !== 'torch') throw new UsageError(`--engine takes ort, reference, tflite or torch, got '${engine}'`);
    const layout = (flagString(args, 'layout') ?? 'nchw').toLowerCase();
    if (layout !== 'nchw' && layout !== 'nhwc') throw new UsageError(`--layout takes nchw or nhwc, got '${flagString(args, 'layout')}'`);
    const minText = flagString(args, 'min-accuracy');
    const minAccuracy = minText === undefined ? undefined : Number(minText);
    if (minAccuracy !== undefined && (minText!.trim() === '' || !(minAccuracy >= 0 && minAccuracy <= 1))) throw new UsageError(`--min-accuracy takes a number from 0 to 1, got '${minText}'`);
    const inputShapes = parseInputShapes(flagList(args, 'input-shape'));
    const shapes = evalShapes(flagString(args, 'sample-shape'), inputShapes, flagString(args, 'input'));
    const sampleShape = shapes.sampleShape === undefined ? undefined : [...shapes.sampleShape];
    const limit = positiveInteger(args, 'limit');
    const batchSize = positiveInteger(args, 'batch-size') ?? shapes.batchSize;
    const scale = parseScale(args);
    const mean = numberList(args, 'mean', false);
    const std = numberList(args, 'std', true);

    const reportArg = flagString(args, 'report');
    const reportPath = reportArg === undefined ? undefined : resolve(io.cwd, reportArg);
    if (reportPath !== undefined) checkOutputTarget(reportPath, 'report file', args.positionals.map((p) => resolve(io.cwd, p)));
    const { path, format } = modelInput(args.positionals[0]!, io, undefined);
    checkEngineLoads(engine, format.name, path);
    const runsFile = format.name === 'onnx' || format.name === 'tflite';
    // A file the engine runs as it is still has its --input-shape names, ranks and fixed dims checked.
    if (runsFile && inputShapes.size > 0) applyInputShapes(await format.read(path, readOptions(args, io)), inputShapes, path);
    const source = runsFile ? path : await readWithInputShapes(format, path, readOptions(args, io), inputShapes);
    if (typeof source !== 'string' && sampleShape === undefined) requireSampleShape(source, flagString(args, 'input'), path);
    const dataset = loadDataset(spec, { cwd: io.cwd, ...(limit !== undefined ? { limit } : {}) });
    if (dataset.size === 0) {
      throw new ModelpassError({ reason: `dataset '${spec}' has no samples, so there is no accuracy to measure`, code: 'cli/eval-empty-dataset', source: '@modelpass/cli' });
    }
    const normalization: Normalization = {
      scale: scale ?? (dataset.samples.dtype === 'uint8' ? 1 / 255 : 1),
      mean: mean === undefined ? 0 : mean.length === 1 ? mean[0]! : mean,
      std: std === undefined ? 1 : std.length === 1 ? std[0]! : std,
    };
    const started = performance.now();
    const bar = progressReporter(io, 'evaluating', spec, 'count');
    let result: Awaited<ReturnType<typeof evaluateAccuracy>>;
    try {
      const sharded = await shardedAccuracy(args, io, source, spec, {
        normalization, layout: layout as SampleLayout, limit, batchSize, sampleShape, engine,
        inputName: flagString(args, 'input'), outputName: flagString(args, 'output'), onProgress: (done, all) => bar.update(done, all),
      });
      result = sharded ?? await evaluateAccuracy(source, dataset, {
        onProgress: (done, all) => bar.update(done, all),
        ...(engine !== undefined ? { engine: engine as EngineName } : {}),
        normalization,
        layout: layout as SampleLayout,
        datasetName: spec,
        ...(limit !== undefined ? { limit } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(sampleShape ? { sampleShape } : {}),
        ...(flagString(args, 'input') !== undefined ? { inputName: flagString(args, 'input')! } : {}),
        ...(flagString(args, 'output') !== undefined ? { outputName: flagString(args, 'output')! } : {}),
      });
      bar.done();
    } finally {
      bar.done(false);
    }
    const seconds = (performance.now() - started) / 1000;
    const classNames = spec.startsWith('fashion-mnist:') ? FASHION_MNIST_CLASSES : undefined;
    const perClass = result.perClass.map((c, label) => ({
      label,
      ...(classNames?.[label] ? { name: classNames[label] } : {}),
      correct: c.correct,
      total: c.total,
      accuracy: c.total ? c.correct / c.total : null,
    }));
    const passed = minAccuracy === undefined || result.accuracy >= minAccuracy;
    if (result.nonFiniteSamples) {
      io.stderr(`modelpass: warning: ${result.nonFiniteSamples} of ${result.total} samples of '${spec}' hold NaN or ±Infinity values: the accuracy scores them as the model happens to answer (an int8 model quantizes them to finite codes)`);
    }
    if (result.nanRows) {
      io.stderr(
        `modelpass: warning: ${result.nanRows} of ${result.total} samples gave NaN logits (no prediction; counted wrong): ` +
          `the samples of '${spec}' hold NaN/Infinity, or the model overflows on them`,
      );
    }
    if (reportPath !== undefined) {
      const model = typeof source === 'string' ? await format.read(path, readOptions(args, io)) : source;
      writeReportFile(reportPath, {
        ...reportHeader('eval', undefined),
        inputs: [reportInput('model', path, format.name), { role: 'dataset', path: spec }],
        passes: [],
        models: { before: modelSummary(model, path) },
        accuracy: { before: { top1: result.accuracy, samples: result.total, dataset: spec } },
        layers: layersOf(model),
      });
    }
    if (flagBoolean(args, 'json')) {
      const report = {
        model: args.positionals[0]!,
        dataset: spec,
        accuracy: result.accuracy,
        correct: result.correct,
        total: result.total,
        engine: result.engine,
        batchSize: result.batchSize,
        sampleShape: result.sampleShape,
        layout,
        normalization,
        perClass,
        ...(result.nanRows !== undefined ? { nanRows: result.nanRows } : {}),
        ...(result.nonFiniteSamples !== undefined ? { nonFiniteSamples: result.nonFiniteSamples } : {}),
        seconds,
        ...(minAccuracy !== undefined ? { minAccuracy, passed } : {}),
      };
      io.stdout(JSON.stringify(report, null, 2));
    } else {
      const lines = [
        `model:    ${args.positionals[0]} (${result.engine})`,
        `dataset:  ${spec}, ${result.total} samples fed as float32[${result.sampleShape.join(',')}] (${layout}), ` +
          `x·${Number(normalization.scale!.toPrecision(6))}, mean ${JSON.stringify(normalization.mean)}, std ${JSON.stringify(normalization.std)}`,
        `accuracy: ${percent(result.accuracy)} (${result.correct} / ${result.total}) in ${seconds.toFixed(2)} s`,
        'per class:',
        ...perClass.map((c) => `  ${String(c.label).padStart(3)} ${(c.name ?? '').padEnd(12)} ${c.accuracy === null ? '   n/a' : percent(c.accuracy).padStart(7)} (${c.correct} / ${c.total})`),
      ];
      if (minAccuracy !== undefined) lines.push(passed ? `passed: ${percent(result.accuracy)} ≥ ${percent(minAccuracy)}` : `FAILED: ${percent(result.accuracy)} < ${percent(minAccuracy)}`);
      io.stdout(lines.join('\n'));
    }
    return passed ? 0 : 1;
  },
};
