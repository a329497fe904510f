/**
 * Validation during training: the model with its trained weights (and running statistics) as graph
 * inputs, in its own ONNX Runtime session, fed the trainer's current ORT tensors — no model copy per
 * epoch. Reports the mean cross-entropy and the top-1 accuracy over a set of samples.
 */
import { ModelpassError, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { loadOnnxRuntime, toOrtTensor } from '@modelpass/runtime';
import type { BatchMaker } from './epoch-order.js';
import type { Trainer } from './trainer.js';
import { weightsAsInputs } from './weights-as-inputs.js';

type OrtModule = Awaited<ReturnType<typeof loadOnnxRuntime>>;
type OrtSession = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
}

/** Mean cross-entropy and correct count of logits `[N, classes]` against labels. */
export function scoreLogits(logits: Float32Array | Float64Array, labels: BigInt64Array, classes: number): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let n = 0; n < labels.length; n++) {
    const row = logits.subarray(n * classes, (n + 1) * classes);
    let best = 0;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (row[c]! > max) { max = row[c]!; best = c; }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(row[c]! - max);
    const label = Number(labels[n]);
    lossSum += Math.log(sum) + max - row[label]!;
    if (best === label) correct++;
  }
  return { lossSum, correct };
}

export class Evaluator {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    private readonly input: string,
    private readonly output: string,
  ) {}

  static async create(model: Model, trainer: Trainer, input: string, threads?: number): Promise<Evaluator> {
    const copy = decodeOnnx(encodeOnnx(model));
    weightsAsInputs(copy, Object.keys(trainer.modelTensors()));
    const output = trainer.graph.prediction;
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(encodeOnnx(copy), {
      logSeverityLevel: 3, graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    });
    if (!session.outputNames.includes(output)) {
      throw new ModelpassError({ reason: `validation reads output '${output}', which the model does not have`, source: '@modelpass/train' });
    }
    return new Evaluator(ort, session, input, output);
  }

  async evaluate(trainer: Trainer, maker: BatchMaker, indices: Int32Array, batchSize: number): Promise<Evaluation> {
    let lossSum = 0;
    let correct = 0;
    const weights = trainer.modelTensors();
    for (let start = 0; start < indices.length; start += batchSize) {
      const count = Math.min(batchSize, indices.length - start);
      const batch = maker.batch(indices, start, count);
      const labels = [...Object.values(batch.lossInputs)][0]!.data() as BigInt64Array;
      const feeds = { ...weights, [this.input]: toOrtTensor(this.ort.Tensor, batch.inputs[this.input]!, this.input) };
      const result = await this.session.run(feeds, [this.output]);
      const logits = result[this.output]!;
      const classes = Number(logits.dims.at(-1));
      const score = scoreLogits(logits.data as Float32Array, labels, classes);
      lossSum += score.lossSum;
      correct += score.correct;
    }
    const samples = indices.length;
    return { loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN, samples };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
