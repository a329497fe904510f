import { resolve } from 'node:path';
import { formatDiagnostic, writeFileAtomic, type Diagnostic } from '@modelpass/ir';
import { parseValueInfoPolicy, VALUE_INFO_POLICIES } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { flagBoolean, flagList, flagString } from '../args.js';
import { progress } from '../cli-io.js';
import type { Command } from '../command.js';
import { environmentWithPlugins } from '../environment.js';
import { formatFor } from '../formats.js';
import { instrumentationFlags, instrumentationFromFlags } from '../instrumentation-flags.js';
import { checkOutputTarget, modelInput, writeModelOutput } from '../model-files.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';

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
    to: { type: 'string', help: 'output format (default: by extension)', valueName: 'FORMAT' },
    'value-info': { type: 'string', help: 'ONNX value_info to write: declared (default; what the input declared), all (inferred too), none', valueName: 'WHICH' },
    ...instrumentationFlags,
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('convert takes exactly one input model');
    const outputArg = flagString(args, 'output');
    if (!outputArg) throw new UsageError('convert needs an output file: -o <output>');
    const { path: inputPath, format: inputFormat } = modelInput(args.positionals[0]!, io, flagString(args, 'from'));
    const outputPath = resolve(io.cwd, outputArg);
    const outputFormat = formatFor(outputPath, flagString(args, 'to'), 'output');
    checkOutputTarget(outputPath);
    const statisticsJsonArg = flagString(args, 'statistics-json');
    if (statisticsJsonArg !== undefined) checkOutputTarget(resolve(io.cwd, statisticsJsonArg), 'statistics file');
    const valueInfoText = flagString(args, 'value-info');
    const valueInfo = valueInfoText === undefined ? undefined : parseValueInfoPolicy(valueInfoText);
    if (valueInfoText !== undefined && !valueInfo) throw new UsageError(`--value-info must be one of ${VALUE_INFO_POLICIES.join(', ')}, not '${valueInfoText}'`);

    const environment = await environmentWithPlugins(flagList(args, 'plugin'), io);
    const instrumentation = instrumentationFromFlags(args, io);
    const debug = flagBoolean(args, 'debug');
    const manager = new PassManager({
      environment,
      verifyEach: flagBoolean(args, 'verify-each', true),
      instrumentations: instrumentation.instrumentations,
      onDiagnostic: (d: Diagnostic) => io.stderr(`modelpass: ${d.severity}: ${formatDiagnostic(d)}`),
      ...(debug ? { debug: (message: string, pass: { pass: { name: string } }) => io.stderr(`[${pass.pass.name}] ${message}`) } : {}),
    });
    const pipelineText = flagString(args, 'pipeline');
    // Resolve the pipeline before reading the model, so a typo fails fast.
    const pipeline = pipelineText !== undefined && pipelineText.trim() !== '' ? manager.parse(pipelineText) : undefined;

    progress(io, `reading ${args.positionals[0]}`);
    const model = await inputFormat.read(inputPath, readOptions(args, io));
    if (pipeline) {
      progress(io, `running ${pipelineText}`);
      try {
        await manager.run(model, pipeline);
      } finally {
        if (instrumentation.timing) io.stderr(instrumentation.timing.report());
        if (instrumentation.statistics) io.stderr(instrumentation.statistics.report());
        const statisticsJson = flagString(args, 'statistics-json');
        if (statisticsJson && instrumentation.statistics) {
          writeFileAtomic(resolve(io.cwd, statisticsJson), JSON.stringify(instrumentation.statistics.toJSON(), null, 2) + '\n');
        }
      }
    }
    progress(io, `writing ${outputArg}`);
    await writeModelOutput(outputFormat, model, outputPath, valueInfo ? { valueInfo } : undefined);
    return 0;
  },
};
