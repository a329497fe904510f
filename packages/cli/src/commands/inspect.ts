import { flagBoolean, flagList, flagString } from '../args.js';
import { inputShapeFlag, parseInputShapes, readWithInputShapes } from '../input-shapes.js';
import { checkInputDtypes, inputDtypeFlag, parseInputDtypes } from '../input-dtypes.js';
import type { Command } from '../command.js';
import { modelInput } from '../model-files.js';
import { formatSummary, summarizeModel } from '../inspect-model.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';
import { bindFlag, parseBindings } from '../forward-bindings.js';
import { resolve } from 'node:path';
import { checkOutputTarget } from '../model-files.js';
import { layersOf, modelSummary, reportInput } from '../report/model-report.js';
import { reportFlag, reportHeader, writeReportFile } from '../report/report-file.js';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'modelpass inspect <model> [--json] [--report FILE] [--from FORMAT] [--input-shape NAME=DIMS]... [--input-dtype NAME=DTYPE]... [--bind NAME=VALUE]...',
  summary: 'Summarize a model: op histogram, node and parameter counts, bytes by dtype, inputs and outputs. Weights are not loaded.',
  flags: {
    json: { type: 'boolean', help: 'print JSON (format, nodes, ops, parameters, bytes, inputs, outputs, ...)' },
    from: { type: 'string', help: 'input format (default: by extension)', valueName: 'FORMAT' },
    'allow-read': allowReadFlag,
    'input-shape': inputShapeFlag,
    'input-dtype': inputDtypeFlag,
    bind: bindFlag,
    report: reportFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('inspect takes exactly one model file');
    const reportArg = flagString(args, 'report');
    const reportPath = reportArg === undefined ? undefined : resolve(io.cwd, reportArg);
    if (reportPath !== undefined) checkOutputTarget(reportPath, 'report file', args.positionals.map((p) => resolve(io.cwd, p)));
    const { path, format } = modelInput(args.positionals[0]!, io, flagString(args, 'from'));
    const inputDtypes = parseInputDtypes(flagList(args, 'input-dtype'));
    const bindings = parseBindings(flagList(args, 'bind'));
    if (bindings.size > 0 && format.name !== 'torchscript') throw new UsageError(`--bind fixes TorchScript forward arguments; '${args.positionals[0]}' is ${format.name}`);
    const read = { ...readOptions(args, io), ...(inputDtypes.size > 0 ? { inputDtypes } : {}), ...(bindings.size > 0 ? { bindings } : {}) };
    const model = await readWithInputShapes(format, path, read, parseInputShapes(flagList(args, 'input-shape')));
    if (inputDtypes.size > 0 && format.name !== 'torchscript') checkInputDtypes(model, inputDtypes, path);
    model.sourcePath = args.positionals[0]!;
    const summary = summarizeModel(model, format.name);
    if (reportPath !== undefined) {
      writeReportFile(reportPath, {
        ...reportHeader('inspect', undefined),
        inputs: [reportInput('model', path, format.name)],
        passes: [],
        models: { before: modelSummary(model, path) },
        layers: layersOf(model),
      });
    }
    io.stdout(flagBoolean(args, 'json') ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return 0;
  },
};
