#!/usr/bin/env node
// Prints which of onnx2tf's ONNX ops legalize-tflite converts (by a lowering rule, or before lowering),
// which it refuses per node with a reason, and which it does not know. Reads the built package
// (`npx nx run @modelpass/tflite:build` first). `--json` prints the entries as JSON.
import { onnx2tfCoverage, summarizeCoverage } from '../dist/index.js';

const coverage = onnx2tfCoverage();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ summary: summarizeCoverage(coverage), ops: coverage }, null, 2));
} else {
  const summary = summarizeCoverage(coverage);
  const names = (kind) => coverage.filter((entry) => entry.kind === kind).map((entry) => entry.op);
  console.log(`onnx2tf ops: ${summary.total}; covered ${summary.covered} (lowering rules ${summary.lowered}, before lowering ${summary['before-lowering']})`);
  for (const entry of coverage.filter((e) => e.kind === 'before-lowering')) console.log(`  ${entry.op}: ${entry.how}`);
  console.log(`refused per node with a reason (${summary.refused}): ${names('refused').join(', ')}`);
  console.log(`not covered (${summary.missing}): ${names('missing').join(', ')}`);
}
