/**
 * Shared pieces of the quantize-static tests: the Fashion-MNIST fixtures, minmax ranges computed
 * here by running ONNX Runtime on the same batches (independent of the calibration module), ONNX's
 * checker, and accuracy on the 10k test set.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Model, Tensor } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { datasetBatches, evaluateAccuracy, loadDataset, OrtRunner } from '@modelpass/runtime';

export const FIXTURES = new URL('../../../../fixtures/models/', import.meta.url).pathname;
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const PYTHON = '/usr/bin/python3';

export function fixturePath(name: string): string {
  return `${FIXTURES}${name}/model.onnx`;
}

export function readFixture(name: string): Model {
  return readOnnx(fixturePath(name));
}

export function requireReferees(): void {
  if (!existsSync(`${FASHION_DIR}/t10k-images-idx3-ubyte.gz`)) throw new Error(`Fashion-MNIST is missing at ${FASHION_DIR}: run tools/setup.sh`);
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} (Debian's python3-onnx) is missing: run tools/setup.sh`);
}

/** The first `samples` training images as batches shaped for the model's input. */
export function trainBatches(model: Model, samples: number, batchSize = 64): Tensor[] {
  const input = model.graph.inputs.find((value) => !value.constant)!;
  const shape = input.type.kind === 'tensor' ? input.type.shape! : [];
  const dataset = loadDataset('fashion-mnist:train', { limit: samples });
  return [...datasetBatches(dataset, { batchSize, sampleShape: shape.slice(1) as number[] })].map((batch) => batch.input);
}

/** Minmax ranges of `tensors` over the batches, from ORT (the model gets them as extra outputs on a copy). */
export async function minmaxRanges(model: Model, tensors: readonly string[], batches: readonly Tensor[]): Promise<Map<string, { min: number; max: number }>> {
  const original = [...model.graph.outputs];
  const inputName = model.graph.inputs.find((value) => !value.constant)!.name;
  for (const name of tensors) {
    const value = model.graph.getValue(name)!;
    if (!original.includes(value) && !value.isGraphInput) model.graph.addOutput(value);
  }
  const bytes = encodeOnnx(model);
  model.graph.setOutputs(original);
  const runner = new OrtRunner({ maxSessions: 1 });
  const ranges = new Map<string, { min: number; max: number }>();
  try {
    for (const batch of batches) {
      const outputs = await runner.run(bytes, { [inputName]: batch }, { outputs: tensors.filter((t) => t !== inputName) });
      const seen = new Map(outputs);
      if (tensors.includes(inputName)) seen.set(inputName, batch);
      for (const [name, tensor] of seen) {
        const data = tensor.data() as Float32Array;
        let { min, max } = ranges.get(name) ?? { min: Infinity, max: -Infinity };
        for (const v of data) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        ranges.set(name, { min, max });
      }
    }
  } finally {
    await runner.dispose();
  }
  return ranges;
}

/** ONNX's checker with full_check (shape inference too); throws with its message on failure. */
export function checkWithOnnx(path: string): void {
  execFileSync(PYTHON, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path], { stdio: 'pipe' });
}

export async function testAccuracy(source: string | Uint8Array): Promise<number> {
  const result = await evaluateAccuracy(source, loadDataset('fashion-mnist:test'), { batchSize: 1000 });
  return result.accuracy;
}

export function fileSize(path: string): number {
  return readFileSync(path).byteLength;
}

/** Runs pipeline text with the transforms and quantize passes; returns the statistics. */
export async function runPipeline(model: Model, pipeline: string, debug?: string[]): Promise<Record<string, Record<string, number>>> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment, instrumentations: [statistics], ...(debug ? { debug: (m: string) => void debug.push(m) } : {}) });
  await manager.run(model, pipeline);
  return statistics.toJSON();
}

/**
 * Loads `path` in ONNX Runtime with every graph optimization and returns the op types of the model
 * ORT optimized (optimizedModelFilePath), and the float Conv/MatMul/Gemm still reading a
 * DequantizeLinear (groups ORT did not fuse into an integer kernel).
 */
export async function ortFusion(path: string): Promise<{ ops: string[]; unfused: string[] }> {
  const { InferenceSession } = await import('onnxruntime-node');
  const optimized = path.replace(/\.onnx$/, '.ort-optimized.onnx');
  const session = await InferenceSession.create(path, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  await session.release();
  const model = readOnnx(optimized);
  const nodes = [...model.graph.nodes()];
  const ops = nodes.map((node) => node.op.slice(node.op.lastIndexOf('.') + 1));
  const unfused = nodes
    .filter((node) => ['onnx.Conv', 'onnx.MatMul', 'onnx.Gemm'].includes(node.op) && node.inputs.some((input) => input?.producer?.op === 'onnx.DequantizeLinear'))
    .map((node) => node.name);
  return { ops, unfused };
}
