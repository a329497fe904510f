#!/usr/bin/env node
/** `optimize-onnx-example <in.onnx> <out.onnx> [test-data-folder]`: the example as a command. */
import { ModelpassError } from '@modelpass/ir';
import { optimizeOnnxFile } from './optimize.js';

async function run(argv: readonly string[]): Promise<number> {
  const [input, output, checkInputs] = argv;
  if (!input || !output) {
    process.stderr.write('usage: optimize-onnx-example <in.onnx> <out.onnx> [test-data-folder]\n');
    return 2;
  }
  try {
    const report = await optimizeOnnxFile(input, output, checkInputs ? { checkInputs } : {});
    process.stderr.write(`${report.timing}\n`);
    process.stdout.write(`pipeline: ${report.pipeline}\nnodes: ${report.nodesBefore} -> ${report.nodesAfter}\n`);
    process.stdout.write(`statistics: ${JSON.stringify(report.statistics)}\n`);
    for (const warning of report.warnings) process.stdout.write(`warning: ${warning}\n`);
    const { maxAbsError, withinTolerance } = report.comparison;
    process.stdout.write(`ONNX Runtime: max |difference| ${maxAbsError.toExponential(2)}, ${withinTolerance ? 'within tolerance' : 'OUTSIDE TOLERANCE'}\n`);
    return withinTolerance ? 0 : 1;
  } catch (error) {
    if (ModelpassError.is(error)) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await run(process.argv.slice(2));
