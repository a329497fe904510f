/** Shared helpers of the quantize-weights tests: tiny models, a pipeline runner, ORT and the checker. */
import { execFileSync } from 'node:child_process';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { SeededRandom } from '@modelpass/runtime';
import { quantizePasses } from '@modelpass/quantize';

export function randomTensor(shape: readonly number[], seed: number, scale = 1): Tensor {
  const random = new SeededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  // a heavy-ish tailed mix, like trained weights: mostly small, a few large
  return Tensor.fromValues('float32', shape, Array.from({ length: size }, () => scale * (random.uniform(-1, 1) ** 3 + 0.1 * random.uniform(-1, 1))));
}

/** `y = x·W` (MatMul, W [K,N]) and `z = Gemm(x, Wt, bias, transB=1, alpha, beta)` side by side. */
export function linearModel(k: number, n: number, options: { alpha?: number; beta?: number } = {}): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', k]));
  const w = b.constant(randomTensor([k, n], 1), 'w');
  const wt = b.constant(randomTensor([n, k], 2), 'wt');
  const bias = b.constant(randomTensor([n], 3), 'bias');
  const y = b.op1('onnx.MatMul', [x, w], {}, { outputs: ['y'], name: 'matmul' });
  const z = b.op1(
    'onnx.Gemm',
    [x, wt, bias],
    { transB: { kind: 'int', value: 1 }, alpha: { kind: 'float', value: options.alpha ?? 1 }, beta: { kind: 'float', value: options.beta ?? 1 } },
    { outputs: ['z'], name: 'gemm' },
  );
  y.type = tensorType('float32', ['batch', n]);
  z.type = tensorType('float32', ['batch', n]);
  b.output(y, z);
  return b.model({ onnx: 13 });
}

export interface PipelineRun {
  readonly warnings: string[];
  /** The hints of the warnings (those that have one). */
  readonly hints: string[];
  readonly notes: string[];
  /** Statistics of the last pass run, by name. */
  readonly statistics: ReadonlyMap<string, number>;
}

/** Runs `pipeline` on `model`; `debug` collects the passes' debug lines. */
export async function runPipeline(model: Model, pipeline: string, debug?: string[]): Promise<PipelineRun> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment, instrumentations: [statistics], ...(debug ? { debug: (line: string) => void debug.push(line) } : {}) });
  const result = await manager.run(model, pipeline);
  const passName = pipeline.split(/[{,]/)[0]!.trim();
  return {
    warnings: result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason),
    hints: result.diagnostics.filter((d) => d.severity === 'warning' && d.hint !== undefined).map((d) => d.hint!),
    notes: result.diagnostics.filter((d) => d.severity !== 'warning').map((d) => d.reason),
    statistics: statistics.get(passName) ?? new Map(),
  };
}

export function onnxChecker(path: string): void {
  const check = 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)';
  execFileSync('/usr/bin/python3', ['-c', check, path], { stdio: 'pipe' });
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.data() as Float32Array;
  const y = b.data() as Float32Array;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

/** Cosine similarity of two equally long vectors, or of two tensors' elements. */
export function cosine(a: ArrayLike<number> | Tensor, b: ArrayLike<number> | Tensor): number {
  const x = a instanceof Tensor ? a.toNumbers() : a;
  const y = b instanceof Tensor ? b.toNumbers() : b;
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return dot / Math.sqrt(xx * yy);
}

/** The message of the error `run` fails with; the test fails if it succeeds. */
export async function pipelineFailure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the pipeline to fail');
}
