import { readOnnx, writeOnnx } from '@modelpass/onnx';
import {
  PassManager,
  printPipeline,
  StatisticsInstrumentation,
  TimingInstrumentation,
  type PipelineStep,
  type StatisticsReport,
} from '@modelpass/pass-manager';
import { compareModels, type ModelComparison } from '@modelpass/runtime';
import { createEnvironment, inferencePipeline } from './pipeline.js';

export interface OptimizeOptions {
  /** The pipeline: steps built in code, or text (default: `inferencePipeline()`). */
  readonly pipeline?: readonly PipelineStep[] | string;
  /** Inputs for the ONNX Runtime check: a folder of `.pb`/`.npy` tensors; random (seeded) inputs when absent. */
  readonly checkInputs?: string;
  /** Tolerances of the check (defaults: atol 1e-5, rtol 1e-3; folding BatchNorm into Conv rounds differently). */
  readonly atol?: number;
  readonly rtol?: number;
}

export interface OptimizeReport {
  /** The pipeline that ran, as canonical text. */
  readonly pipeline: string;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  readonly opsAfter: Readonly<Record<string, number>>;
  /** The timing table (like `--timing`). */
  readonly timing: string;
  /** Statistics per pass (like `--statistics-json`). */
  readonly statistics: StatisticsReport;
  readonly warnings: readonly string[];
  /** The input and output models run in ONNX Runtime on the same inputs. */
  readonly comparison: ModelComparison;
}

function opHistogram(model: ReturnType<typeof readOnnx>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of model.graph.allNodes()) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}

/**
 * Reads an ONNX model, runs the pipeline with timing and statistics instrumentation (and the
 * default verify-each), writes the result as ONNX, and checks in ONNX Runtime that the outputs
 * did not change. Throws a `ModelpassError` when the input is bad or a pass fails; the output file
 * is written whole or not at all (`writeOnnx` writes a temp file and renames it).
 */
export async function optimizeOnnxFile(inputPath: string, outputPath: string, options: OptimizeOptions = {}): Promise<OptimizeReport> {
  const model = readOnnx(inputPath);
  const nodesBefore = [...model.graph.allNodes()].length;

  const environment = createEnvironment();
  const timing = new TimingInstrumentation();
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment, instrumentations: [timing, statistics] });
  const pipeline = options.pipeline ?? inferencePipeline();
  const result = await manager.run(model, typeof pipeline === 'string' ? pipeline : [...pipeline]);

  writeOnnx(model, outputPath);

  const comparison = await compareModels(inputPath, outputPath, {
    ...(options.checkInputs !== undefined ? { inputs: options.checkInputs } : { seed: 1 }),
    atol: options.atol ?? 1e-5,
    rtol: options.rtol ?? 1e-3,
  });
  return {
    pipeline: typeof pipeline === 'string' ? pipeline : printPipeline(pipeline),
    nodesBefore,
    nodesAfter: [...model.graph.allNodes()].length,
    opsAfter: opHistogram(model),
    timing: timing.report(),
    statistics: statistics.toJSON(),
    warnings: result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason),
    comparison,
  };
}
