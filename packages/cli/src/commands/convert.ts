import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatDiagnostic, writeFileAtomic, type Diagnostic, type Model } from '@modelpass/ir';
import { encodeOnnx, parseValueInfoPolicy, VALUE_INFO_POLICIES } from '@modelpass/onnx';
import { PassManager, printPipeline, StatisticsInstrumentation, TimingInstrumentation } from '@modelpass/pass-manager';
import type { AccuracyFigure, Report } from '@modelpass/report';
import { flagBoolean, flagList, flagString } from '../args.js';
import { progressReporter } from '../cli-io.js';
import { silentProgress, type ProgressReporter } from '../progress-bar.js';
import { pipelineProgress } from '../pipeline-progress.js';
import type { Command } from '../command.js';
import { environmentWithPlugins } from '../environment.js';
import { formatFor, type ModelFormat, type ModelReadOptions } from '../formats.js';
import { instrumentationFlags, instrumentationFromFlags } from '../instrumentation-flags.js';
import { checkOutputTarget, modelInput, writeModelOutput } from '../model-files.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';
import { bindFlag, parseBindings } from '../forward-bindings.js';
import { applyInputShapes, inputShapeFlag, parseInputShapes } from '../input-shapes.js';
import { checkInputDtypes, inputDtypeFlag, parseInputDtypes } from '../input-dtypes.js';
import { applyInputValues, inputValueFlag, parseInputValues } from '../input-values.js';
import { opChanges, passSummaries, roundMs, type ConvertSummary } from '../convert-summary.js';
import { formatConvertSummary } from '../convert-summary-table.js';
import { countModel } from '../model-counts.js';
import { checkTfliteInputDims, staticShapeNotes, withSymbolicInputNote } from '../tflite-static-shapes.js';
import { colorEnabled, stylist } from '../terminal-style.js';
import { checkFlags, checkOptionsFromFlags } from '../check/check-options.js';
// --check's and --report's modules (and through them @modelpass/report) are imported only when those flags are given.
import type { CheckInstrumentation } from '../check/check-instrumentation.js';
import { PassRecorder } from '../report/pass-recorder.js';
import { reportFlag } from '../report/report-flag.js';
import { DEFAULT_LATENCY_RUNS, measureLatency } from '../report/latency.js';
import { checkDistributedFlagsApply, distributedFlags, withDistributedCalibration } from '../distributed-flags.js';
import { checkOutputNotInputData } from '../input-data-files.js';
import { blameModelShapeComputation } from '../model-shape-computation.js';

const PIPELINE_HELP = `pipeline syntax (every pass and its options: modelpass passes):
  a,b,c                          passes in order, separated by commas
  pass{opt=value other=value}    options in braces, separated by spaces (kebab-case names)
  pass{list=[a,b,"c d"]}         list values in brackets; quote a value with spaces or commas
  repeat{times=N}(a,b)           run the nested pipeline N times (N ≤ 1000; a round that changes nothing ends it)
  fixed-point(a,b)               run it until one whole run changes nothing (max-iterations=N, default 10, ≤ 1000)
  anchors nest: fixed-point(canonicalize,repeat{times=2}(cse,dce)),dce

after the pipeline, convert prints a before/after summary (nodes, parameters, bytes by dtype, ops that
changed, time and statistics per pass, output size) on stderr when stderr is a terminal (--summary to
print it anyway, --no-summary to never), or as JSON on stdout with --json. Colour only on a terminal;
NO_COLOR turns it off, FORCE_COLOR on.

examples:
  modelpass convert model.onnx -o model.opt.onnx --pipeline 'simplify,fuse-bn,dce'
  modelpass convert model.onnx -o out.onnx -p 'fixed-point(canonicalize,fuse-bn),dce' --json > summary.json
  modelpass convert model.onnx -o model.mpir                      # no pipeline: change the format only`;

/** Whether `output` names the same file as `input` (same path, or the same inode through a link). */
/**
 * Whether writing `output` replaces what `input` reads. The write renames a new file onto the output's own
 * directory entry, so it replaces the input only when the input resolves to that entry (the same path, or the input
 * a symbolic link to it). An output that is another link to the input's file — a symbolic link to it, or a hard
 * link — is itself replaced by the new file, and the input keeps the old model (QA s18 round 16: the warning said
 * "it will be replaced" for `-o link.onnx` → the input, which stayed as it was).
 */
function replacesInput(input: string, output: string): boolean {
  if (resolve(input) === resolve(output)) return true;
  try {
    return realpathSync(input) === join(realpathSync(dirname(resolve(output))), basename(output));
  } catch {
    return false;
  }
}

function isSameFile(input: string, output: string): boolean {
  if (resolve(input) === resolve(output)) return true;
  try {
    const a = statSync(input);
    const b = statSync(output);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

export const convertCommand: Command = {
  name: 'convert',
  usage: 'modelpass convert <input> -o <output> [--pipeline TEXT] [--plugin P]... [--from F] [--to F]',
  summary:
    'Read a model, run a pass pipeline on it, write it out. Formats come from the file extensions ' +
    '(.onnx, .mpir) or --from/--to. The output is written whole or not at all.',
  flags: {
    output: { type: 'string', short: 'o', help: 'output file', valueName: 'FILE' },
    pipeline: { type: 'string', short: 'p', help: "pass pipeline, e.g. 'simplify' or 'canonicalize,dce'", valueName: 'TEXT' },
    plugin: { type: 'list', help: 'load a plugin by npm package name or path', valueName: 'P' },
    from: { type: 'string', help: 'input format (default: by extension)', valueName: 'FORMAT' },
    'allow-read': allowReadFlag,
    'input-shape': inputShapeFlag,
    'input-dtype': inputDtypeFlag,
    'input-value': inputValueFlag,
    bind: bindFlag,
    to: { type: 'string', help: 'output format (default: by extension)', valueName: 'FORMAT' },
    'io-layout': {
      type: 'string',
      help: "with a .tflite output: how image-like inputs/outputs are laid out, nchw (default: as the ONNX model has them) or nhwc (channels-last: no Transpose left at all); sets the legalize-tflite that convert adds",
      valueName: 'LAYOUT',
    },
    legalize: { type: 'boolean', help: "between formats, run the source's raise pass first and the target's legalize pass last (default; e.g. raise-tflite, legalize-tflite); --no-legalize runs only --pipeline" },
    'value-info': { type: 'string', help: 'ONNX value_info to write: declared (default; what the input declared), all (inferred too), none', valueName: 'WHICH' },
    json: { type: 'boolean', help: 'print the before/after summary as JSON on stdout (keys input, output, before, after, opsChanged, passes)' },
    summary: { type: 'boolean', help: 'print the before/after table on stderr (default: only when stderr is a terminal)' },
    ...instrumentationFlags,
    ...checkFlags,
    report: reportFlag,
    ...distributedFlags,
    latency: { type: 'optional', help: `with --report: time the input and the output model in ONNX Runtime (RUNS interleaved runs each after warm-up, default ${DEFAULT_LATENCY_RUNS})`, valueName: 'RUNS' },
  },
  details: PIPELINE_HELP,
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('convert takes exactly one input model');
    const outputArg = flagString(args, 'output');
    if (!outputArg) throw new UsageError('convert needs an output file: -o <output>');
    const { path: inputPath, format: inputFormat } = modelInput(args.positionals[0]!, io, flagString(args, 'from'));
    const outputPath = resolve(io.cwd, outputArg);
    const outputFormat = formatFor(outputPath, flagString(args, 'to'), 'output');
    checkOutputTarget(outputPath);
    const statisticsJsonArg = flagString(args, 'statistics-json');
    if (statisticsJsonArg !== undefined) checkOutputTarget(resolve(io.cwd, statisticsJsonArg), 'statistics file', [inputPath, outputPath]);
    const checkOptions = checkOptionsFromFlags(args, io.cwd);
    const reportArg = flagString(args, 'report');
    const reportPath = reportArg === undefined ? undefined : resolve(io.cwd, reportArg);
    if (reportPath !== undefined) checkOutputTarget(reportPath, 'report file', [inputPath, outputPath]);
    const latencyRuns = latencyRunsFromFlags(args.flags.get('latency'), reportPath !== undefined);
    const valueInfoText = flagString(args, 'value-info');
    const valueInfo = valueInfoText === undefined ? undefined : parseValueInfoPolicy(valueInfoText);
    if (valueInfoText !== undefined && !valueInfo) throw new UsageError(`--value-info must be one of ${VALUE_INFO_POLICIES.join(', ')}, not '${valueInfoText}'`);

    const inputShapes = parseInputShapes(flagList(args, 'input-shape'));
    const inputValues = parseInputValues(flagList(args, 'input-value'));
    const inputDtypes = parseInputDtypes(flagList(args, 'input-dtype'));
    const bindings = parseBindings(flagList(args, 'bind'));
    if (bindings.size > 0 && inputFormat.name !== 'torchscript') throw new UsageError(`--bind fixes TorchScript forward arguments; '${args.positionals[0]}' is ${inputFormat.name}`);
    // Formats that record input shapes get them checked and set after reading; TorchScript needs them while importing.
    const readInput = async (options: ModelReadOptions): Promise<Model> => {
      const read = await inputFormat.read(inputPath, {
        ...options,
        ...(bindings.size > 0 ? { bindings } : {}),
        ...(inputShapes.size > 0 ? { inputShapes } : {}),
        ...(inputDtypes.size > 0 ? { inputDtypes } : {}),
      });
      if (inputDtypes.size > 0 && inputFormat.name !== 'torchscript') checkInputDtypes(read, inputDtypes, inputPath);
      if (inputShapes.size > 0) applyInputShapes(read, inputShapes, inputPath);
      if (inputValues.size > 0) applyInputValues(read, inputValues, inputPath);
      return read;
    };

    const json = flagBoolean(args, 'json');
    const showTable = flagBoolean(args, 'summary', io.stderrIsTTY);
    const overwritesInput = isSameFile(inputPath, outputPath) && replacesInput(inputPath, outputPath);
    if (overwritesInput) io.stderr(`modelpass: warning: the output ${outputArg} is the input model: it will be replaced`);
    else if (isSameFile(inputPath, outputPath)) {
      io.stderr(`modelpass: warning: the output ${outputArg} is the input model through a link: the link is replaced by the new file, and '${args.positionals[0]}' keeps the old model`);
    }

    const environment = await environmentWithPlugins(flagList(args, 'plugin'), io);
    const instrumentation = instrumentationFromFlags(args, io);
    // The summary needs time and statistics per pass even without --timing/--statistics.
    const timing = instrumentation.timing ?? new TimingInstrumentation();
    const statistics = instrumentation.statistics ?? new StatisticsInstrumentation();
    const debug = flagBoolean(args, 'debug');
    // The bar on screen now, erased before a diagnostic prints so the two do not share a line.
    let activeBar: ProgressReporter = silentProgress;
    // Ctrl-C asks the pipeline to stop (between passes; train/distill between steps, naming the checkpoint that resumes them).
    const interruption = new AbortController();
    const manager = new PassManager({
      environment,
      signal: interruption.signal,
      // The input check sees the data the model computes from known shapes (the op registry's knownValuesOf): a declared output
      // contradicting a Reshape target computed from Shape(x) is the input's stale declaration (a warning), not the fault of
      // the pass that folds the computation.
      verifyEach: flagBoolean(args, 'verify-each', true),
      instrumentations: [
        ...instrumentation.instrumentations,
        ...(instrumentation.timing ? [] : [timing]),
        ...(instrumentation.statistics ? [] : [statistics]),
      ],
      onDiagnostic: (d: Diagnostic) => {
        activeBar.interrupt();
        io.stderr(`modelpass: ${d.severity}: ${formatDiagnostic(d)}`);
      },
      ...(debug ? { debug: (message: string, pass: { pass: { name: string } }) => io.stderr(`[${pass.pass.name}] ${message}`) } : {}),
    });
    const userPipelineText = flagString(args, 'pipeline');
    const formatPasses = flagBoolean(args, 'legalize', true) ? formatChangePasses(inputFormat, outputFormat, userPipelineText) : { before: [], after: [] };
    applyIoLayout(flagString(args, 'io-layout'), formatPasses, outputFormat, outputArg);
    const pipelineText = withFormatPasses(userPipelineText, formatPasses);
    for (const pass of [...formatPasses.before, ...formatPasses.after]) {
      io.stderr(`modelpass: ${inputFormat.name} → ${outputFormat.name}: running ${pass} ${formatPasses.before.includes(pass) ? 'before' : 'after'} the pipeline (--no-legalize to skip)`);
    }
    // Resolve the pipeline before reading the model, so a typo fails fast.
    const pipeline = pipelineText !== undefined && pipelineText.trim() !== '' ? manager.parse(pipelineText) : undefined;
    if (checkOptions && !pipeline) throw new UsageError('--check checks the model after every pass: give a pipeline with --pipeline');
    checkDistributedFlagsApply(args, pipeline);
    const passRecorder = reportPath !== undefined ? new PassRecorder() : undefined;
    if (passRecorder) manager.addInstrumentation(passRecorder);
    const checking = checkOptions ? await checkModules() : undefined;
    const check = checkOptions && checking
      ? new checking.CheckInstrumentation(checkOptions, {
          cwd: io.cwd,
          reproducerDirectory: checking.checkReproducerDirectory(flagString(args, 'reproducer'), io.cwd),
          onChecked: (pass, result) => {
            activeBar.interrupt();
            io.stderr(checking.formatCheckLine(pass, result));
          },
        })
      : undefined;
    if (check) manager.addInstrumentation(check);

    const reading = progressReporter(io, 'reading', args.positionals[0]!, 'bytes');
    let model: Model;
    try {
      model = await readInput({ ...readOptions(args, io), onProgress: (done, total) => reading.update(done, total) });
      reading.done();
    } finally {
      reading.done(false);
    }
    checkOutputNotInputData(model, inputPath, outputPath, outputFormat.name);
    const inputBytes = fileSize(inputPath);
    const before = countModel(model);
    if (outputFormat.name === 'tflite') checkTfliteInputDims(model, inputPath);
    if (outputFormat.name === 'tflite' && inputFormat.name !== 'tflite') for (const note of staticShapeNotes(model)) io.stderr(note);
    const reporting = reportPath !== undefined ? await reportModules() : undefined;
    const summaryBefore = reporting ? reporting.modelSummary(model, inputPath) : undefined;
    const buildReport = async (after: Model, written: boolean): Promise<Report> => {
      const { layersOf, modelSummary, reportHeader, reportInput } = reporting ?? (await reportModules());
      // The model changed in place: read the input again (lazily) for the per-layer comparison.
      const original = await readInput(readOptions(args, io));
      const latency = latencyRuns !== undefined ? await measureLatency(original, encodeOnnx(original), after, latencyRuns) : undefined;
      if (latency) io.stderr(`modelpass: latency (onnxruntime, median of ${latencyRuns}): ${latency.before.medianMs} ms → ${latency.after.medianMs} ms`);
      return {
        ...reportHeader('convert', undefined),
        inputs: [reportInput('model', inputPath, inputFormat.name), ...(checkOptions?.inputs.kind === 'folder' ? [reportInput('inputs', checkOptions.inputs.path)] : []), ...(checkOptions?.inputs.kind === 'dataset' ? [{ role: 'dataset', path: checkOptions.inputs.spec }] : [])],
        ...(pipeline ? { pipeline: printPipeline(pipeline, { defaults: true }) } : {}),
        passes: (passRecorder?.records ?? []).map((record) => {
          const result = check?.results.get(record.index);
          return result ? { ...record, check: result } : record;
        }),
        models: { before: summaryBefore!, after: modelSummary(after, written ? outputPath : undefined) },
        ...(check?.originalAccuracy ? { accuracy: { before: check.originalAccuracy, ...(lastAccuracy(check) ? { after: lastAccuracy(check)! } : {}) } } : {}),
        ...(latency ? { latency } : {}),
        layers: layersOf(after, original),
        ...(check ? { check: check.report() } : {}),
      };
    };
    if (pipeline) {
      activeBar = progressReporter(io, 'running passes', undefined, 'count');
      const passes = pipelineProgress(activeBar, pipeline);
      manager.addInstrumentation(passes.instrumentation);
      const onInterrupt = (): void => {
        if (interruption.signal.aborted) process.exit(130);
        activeBar.interrupt();
        io.stderr('modelpass: interrupted: stopping at the next step or pass, nothing is written (Ctrl-C again to quit at once)');
        interruption.abort(new Error('interrupted (SIGINT)'));
      };
      process.on('SIGINT', onInterrupt);
      try {
        if (check) await check.prepare(model);
        await withDistributedCalibration(args, io, () => manager.run(model, pipeline));
        passes.done();
      } catch (error) {
        if (interruption.signal.aborted) {
          io.stderr(`modelpass: error: ${error instanceof Error ? error.message : String(error)}`);
          return 130;
        }
        // A node the model's own shape computation already makes impossible (a Reshape to a target computed from Shape(x)) is not the pass's fault.
        const blamed = await blameModelShapeComputation(error, () => readInput(readOptions(args, io)));
        throw outputFormat.name === 'tflite' ? withSymbolicInputNote(blamed, model) : blamed;
      } finally {
        process.off('SIGINT', onInterrupt);
        await check?.dispose();
        passes.stop();
        activeBar = silentProgress;
        if (instrumentation.timing) io.stderr(instrumentation.timing.report());
        if (instrumentation.statistics) io.stderr(instrumentation.statistics.report());
        const statisticsJson = flagString(args, 'statistics-json');
        if (statisticsJson && instrumentation.statistics) {
          writeFileAtomic(resolve(io.cwd, statisticsJson), JSON.stringify(instrumentation.statistics.toJSON(), null, 2) + '\n');
        }
      }
    }
    // Without a pipeline the input is still verified (an empty pipeline runs verify-each's input check), so a
    // model whose static shapes cannot work (an Add of [1048576,13] and [7,13]) is refused before writing.
    else if (flagBoolean(args, 'verify-each', true)) await manager.run(model, { steps: [] });
    if (check && !check.failure) for (const note of check.report().notes ?? []) io.stderr(`modelpass: check: note: ${note}`);
    if (check?.failure) {
      io.stderr(checking!.formatCheckFailure(check.failure, check.report()));
      if (reportPath !== undefined) reporting!.writeReportFile(reportPath, await buildReport(model, false));
      return 1;
    }
    const writing = progressReporter(io, 'writing', outputArg, 'bytes');
    try {
      await writeModelOutput(outputFormat, model, outputPath, { ...(valueInfo ? { valueInfo } : {}), onProgress: (done, total) => writing.update(done, total) });
      writing.done();
    } finally {
      writing.done(false);
    }
    if (json || showTable) {
      const after = countModel(model);
      const timingReport = pipeline ? timing.toJSON() : undefined;
      const summary: ConvertSummary = {
        input: { path: inputPath, bytes: inputBytes },
        output: { path: outputPath, bytes: fileSize(outputPath) },
        overwroteInput: overwritesInput,
        pipeline: pipeline ? pipelineText! : null,
        before,
        after,
        opsChanged: opChanges(before, after),
        passes: pipeline ? passSummaries(timingReport, statistics.toJSON()) : [],
        pipelineMs: roundMs(timingReport?.totalMs ?? 0),
      };
      if (json) io.stdout(JSON.stringify(summary, null, 2));
      if (showTable) {
        const colour = io.stderrStyled !== undefined && colorEnabled(io.stderrIsTTY);
        (colour ? io.stderrStyled! : io.stderr)(formatConvertSummary(summary, stylist(colour)));
      }
    }
    if (reportPath !== undefined) reporting!.writeReportFile(reportPath, await buildReport(model, true));
    return 0;
  },
};

/**
 * Passes convert adds when the formats differ: the source's raise first, the target's legalize last (unless the pipeline
 * names them). Within one format, a pipeline that raises the model itself (`-p 'raise-tflite,quantize-static{…}'` on a
 * .tflite, the way to calibrate one) gets the legalize pass last too: its canonical ops could not be written otherwise.
 */
function formatChangePasses(input: ModelFormat, output: ModelFormat, pipelineText: string | undefined): { before: string[]; after: string[] } {
  const named = (pass: string) => pipelineText !== undefined && new RegExp(`(^|[^\\w-])${pass}($|[^\\w-])`).test(pipelineText);
  if (input.name === output.name) {
    const raisesItself = input.raisePass !== undefined && named(input.raisePass);
    return { before: [], after: raisesItself && output.legalizePass !== undefined && !named(output.legalizePass) ? [output.legalizePass] : [] };
  }
  return {
    before: input.raisePass !== undefined && !named(input.raisePass) ? [input.raisePass] : [],
    after: output.legalizePass !== undefined && !named(output.legalizePass) ? [output.legalizePass] : [],
  };
}

/** The layouts `--io-layout` takes (legalize-tflite's `io-layout` option). */
const IO_LAYOUTS = ['nchw', 'nhwc'];

/** `--io-layout X`: the legalize-tflite convert adds runs as `legalize-tflite{io-layout=X}`; refused where convert adds none. */
function applyIoLayout(layout: string | undefined, passes: { after: string[] }, output: ModelFormat, outputArg: string): void {
  if (layout === undefined) return;
  if (!IO_LAYOUTS.includes(layout)) throw new UsageError(`--io-layout must be one of ${IO_LAYOUTS.join(', ')}, not '${layout}'`);
  if (output.name !== 'tflite') throw new UsageError(`--io-layout lays out a .tflite output; '${outputArg}' is written as ${output.name}`);
  const index = passes.after.indexOf(output.legalizePass ?? '');
  if (index < 0) {
    throw new UsageError(`--io-layout sets the legalize-tflite that convert adds, and here it adds none (the input is .tflite already, the pipeline names legalize-tflite, or --no-legalize): give legalize-tflite{io-layout=${layout}} in --pipeline instead`);
  }
  passes.after[index] = `${passes.after[index]}{io-layout=${layout}}`;
}

function withFormatPasses(pipelineText: string | undefined, passes: { before: string[]; after: string[] }): string | undefined {
  const user = pipelineText !== undefined && pipelineText.trim() !== '' ? [pipelineText] : [];
  const all = [...passes.before, ...user, ...passes.after];
  return all.length > 0 ? all.join(',') : pipelineText;
}

/** `--latency[=RUNS]`: undefined when absent; it needs --report. */
function latencyRunsFromFlags(flag: string | boolean | string[] | undefined, withReport: boolean): number | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (!withReport) throw new UsageError('--latency measures for the report: give --report FILE');
  if (flag === true) return DEFAULT_LATENCY_RUNS;
  const text = String(flag);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100000) throw new UsageError(`--latency takes a number of runs from 1 to 100000, got '${text}'`);
  return Number(text);
}

/** What --check needs: the instrumentation, its output lines, the reproducer folder. */
async function checkModules() {
  const [{ CheckInstrumentation }, { formatCheckFailure, formatCheckLine }, { checkReproducerDirectory }] = await Promise.all([
    import('../check/check-instrumentation.js'),
    import('../check/check-output.js'),
    import('../check/check-reproducer.js'),
  ]);
  return { CheckInstrumentation, formatCheckFailure, formatCheckLine, checkReproducerDirectory };
}

/** What --report needs: the model summaries and layer table, the header and the file writer. */
async function reportModules() {
  const [{ layersOf, modelSummary, reportInput }, { reportHeader, writeReportFile }] = await Promise.all([import('../report/model-report.js'), import('../report/report-file.js')]);
  return { layersOf, modelSummary, reportInput, reportHeader, writeReportFile };
}

/** Accuracy after the last pass that was checked on a labelled dataset. */
function lastAccuracy(check: CheckInstrumentation): AccuracyFigure | undefined {
  let last: AccuracyFigure | undefined;
  for (const result of check.results.values()) if (result.accuracy) last = result.accuracy;
  return last;
}
