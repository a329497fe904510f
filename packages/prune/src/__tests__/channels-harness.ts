/** Shared helpers of the channel-pruning tests (not a test file). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { writeOnnx } from '@modelpass/onnx';
import { PassEnvironment, PassManager, StatisticsInstrumentation, type PipelineResult } from '@modelpass/pass-manager';
import { prunePasses } from '@modelpass/prune';

export async function runPrune(model: Model, pipeline: string): Promise<{ statistics: Record<string, number>; result: PipelineResult }> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(prunePasses, '@modelpass/prune');
  const statistics = new StatisticsInstrumentation();
  const result = await new PassManager({ environment, instrumentations: [statistics] }).run(model, pipeline);
  const totals = statistics.toJSON() as Record<string, Record<string, number>>;
  return { statistics: Object.assign({}, ...Object.values(totals)), result };
}

/** ONNX's own checker (python3-onnx, full_check) on the model as written to a file; '' when clean. */
export function onnxChecker(model: Model): string {
  const dir = mkdtempSync(join(tmpdir(), 'prune-check-'));
  try {
    const file = join(dir, 'model.onnx');
    writeOnnx(model, file);
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
      return '';
    } catch (error) {
      return String((error as { stderr?: Buffer }).stderr ?? error);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parameterCount(model: Model): number {
  let count = 0;
  for (const constant of model.graph.constants) if (constant.constant && constant.constant.dtype.startsWith('float')) count += constant.constant.shape.reduce((a, b) => a * b, 1);
  return count;
}

/** Multiply-accumulates of the Conv, Gemm and MatMul nodes for one sample (static shapes, batch dim ignored). */
export function multiplyAccumulates(model: Model): number {
  let total = 0;
  const elements = (dims: readonly (number | string | null)[]): number => dims.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  for (const node of model.graph.nodes()) {
    const output = node.outputs[0]?.type;
    const weight = node.inputs[1]?.constant;
    if (!weight || output?.kind !== 'tensor' || !output.shape) continue;
    if (node.op === 'onnx.Conv') total += elements(output.shape) * weight.shape.slice(1).reduce((a, b) => a * b, 1);
    else if (node.op === 'onnx.Gemm' || node.op === 'onnx.MatMul') total += weight.shape[0]! * weight.shape[1]!;
  }
  return total;
}
