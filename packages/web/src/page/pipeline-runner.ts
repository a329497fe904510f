/**
 * The page's engine room: the same steps as `modelpass convert in.onnx -o out.onnx --pipeline P`
 * (decode, run the pipeline with verify-each, encode), on bytes in memory.
 */
import type { Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation, TimingInstrumentation, describePasses, type PassDescription } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';

/** The passes the page offers: the transforms registry (the CLI's built-ins that need no native engine). */
export function pageEnvironment(): PassEnvironment {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  return environment;
}

export function availablePasses(environment: PassEnvironment): PassDescription[] {
  return describePasses(environment.passes);
}

export interface PassRow {
  readonly pass: string;
  readonly runs: number;
  readonly wallMs: number;
  readonly statistics: Readonly<Record<string, number>>;
}

export interface PipelineRun {
  readonly output: Uint8Array;
  readonly pipeline: string;
  readonly before: ModelCounts;
  readonly after: ModelCounts;
  readonly passes: readonly PassRow[];
  readonly totalMs: number;
  readonly warnings: readonly string[];
}

export interface ModelCounts {
  /** Nodes in the main graph and every subgraph. */
  readonly nodes: number;
  readonly constantBytes: number;
}

export function countModel(model: Model): ModelCounts {
  let constantBytes = 0;
  for (const value of model.graph.constants) constantBytes += value.constant?.byteLength ?? 0;
  let nodes = 0;
  for (const _node of model.graph.allNodes()) nodes += 1;
  return { nodes, constantBytes };
}

/** Decodes `bytes` (named `fileName` in messages), runs `pipelineText`, encodes the result. */
export async function runPipelineOnBytes(bytes: Uint8Array, fileName: string, pipelineText: string, environment = pageEnvironment()): Promise<PipelineRun> {
  const timing = new TimingInstrumentation();
  const statistics = new StatisticsInstrumentation();
  const warnings: string[] = [];
  const manager = new PassManager({
    environment,
    verifyEach: true,
    instrumentations: [timing, statistics],
    onDiagnostic: (diagnostic) => warnings.push(`${diagnostic.severity}: ${diagnostic.reason}`),
  });
  // Parse first, so a typo fails before the model is decoded (as the CLI does).
  const pipeline = pipelineText.trim() === '' ? undefined : manager.parse(pipelineText);
  const model = decodeOnnx(bytes, { file: fileName });
  const before = countModel(model);
  if (pipeline) await manager.run(model, pipeline);
  const output = encodeOnnx(model);
  const perPass = statistics.toJSON();
  const report = timing.toJSON();
  return {
    output,
    pipeline: pipelineText,
    before,
    after: countModel(model),
    passes: report.passes.map((row) => ({ pass: row.pass, runs: row.runs, wallMs: row.wallMs, statistics: perPass[row.pass] ?? {} })),
    totalMs: report.totalMs,
    warnings,
  };
}
