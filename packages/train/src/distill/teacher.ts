/**
 * The teacher of a distillation: any model `loadModel` reads (ONNX, TFLite, the formats an application
 * registers), run once per batch — in ONNX Runtime when its ops are ONNX ops, otherwise on the engine
 * of its file (`defaultEngineFor`: the TFLite interpreter for `.tflite`, torch for TorchScript). Its first
 * output gives the soft targets (`teacher_logits`); the tensors named by feature matching are added as
 * outputs (ONNX teachers only: other engines give the file's outputs).
 */
import { ModelpassError, type Model, type Tensor, type TensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { closestName } from '@modelpass/pass-manager';
import { encodeOnnx } from '@modelpass/onnx';
import { createEngine, defaultEngineFor, loadModel, OrtRunner, type Engine, type EngineName } from '@modelpass/runtime';
import type { TrainBatch } from '../train-steps.js';
import { inFixedBatches } from './fixed-batch-teacher.js';

/** Op domains ONNX Runtime runs (the IR writes the default domain as `onnx`). */
const ORT_DOMAINS = new Set(['onnx', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft']);

export interface Teacher {
  readonly path: string;
  /** The teacher with its feature tensors as extra outputs, shapes inferred. */
  readonly model: Model;
  /** Where it runs: `ort`, or the engine of its file format. */
  readonly engine: EngineName;
  readonly input: string;
  readonly inputShape: readonly (number | string | null)[];
  readonly logits: string;
  run(feeds: Readonly<Record<string, Tensor>>, outputs: readonly string[]): Promise<Map<string, Tensor>>;
  dispose(): Promise<void>;
}

function error(path: string, reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason: `distill teacher '${path}': ${reason}`, ...(hint ? { hint } : {}), source: '@modelpass/train' });
}

/**
 * The hint for a feature tensor name that `model` lacks: the closest name, a few of its intermediate
 * tensors (node outputs), and how to see them all. `modelpass inspect` does not list tensors; the
 * textual IR does.
 */
export function missingTensorHint(model: Model, name: string, role: 'teacher' | 'student'): string {
  const names: string[] = [];
  for (const node of model.graph.nodes()) for (const output of node.outputs) if (output?.name) names.push(output.name);
  const closest = closestName(name, names);
  const sample = names.slice(0, 6).map((n) => `'${n}'`).join(', ');
  return (
    `${closest ? `did you mean '${closest}'? ` : ''}name an intermediate tensor (a node output) of the ${role}` +
    `${sample ? `, e.g. ${sample}${names.length > 6 ? ` (${names.length} in all)` : ''}` : ''}; ` +
    `'modelpass convert MODEL -o MODEL.mpir' writes the model as text with every tensor's name and shape`
  );
}

export function tensorTypeOf(model: Model, name: string): TensorType | undefined {
  const type = model.graph.getValue(name)?.type;
  return type?.kind === 'tensor' ? type : undefined;
}

/** `run`, in runs of the teacher's fixed batch when its input has one (`inFixedBatches`). */
function batched(teacher: { readonly path: string; readonly input: string; readonly inputShape: readonly (number | string | null)[] }, run: Teacher['run']): Teacher['run'] {
  const fixed = teacher.inputShape[0];
  return typeof fixed === 'number' && fixed > 0 ? inFixedBatches(run, teacher.input, fixed, (reason) => error(teacher.path, reason)) : run;
}

/** Reads the teacher and exposes `featureTensors` as outputs; `threads`: ONNX Runtime intra-op threads of its session (default ORT's). */
export function loadTeacher(path: string, featureTensors: readonly string[], options: { readonly threads?: number } = {}): Teacher {
  const model = loadModel(path);
  inferShapes(model);
  const graph = model.graph;
  const input = graph.inputs.find((value) => !value.isConstant);
  const logits = graph.outputs[0];
  if (!input || !logits) throw error(path, 'has no runtime input or no output');
  if (graph.inputs.filter((value) => !value.isConstant).length > 1) throw error(path, `has ${graph.inputs.length} inputs; distillation feeds one (the student's batch)`);
  for (const name of featureTensors) {
    const value = graph.getValue(name);
    if (!value) throw error(path, `has no tensor '${name}' to match features with`, missingTensorHint(model, name, 'teacher'));
    if (!graph.outputs.includes(value)) graph.addOutput(value);
  }
  const inputType = input.type;
  const common = { path, model, input: input.name, inputShape: inputType.kind === 'tensor' && inputType.shape ? inputType.shape : [], logits: logits.name };
  const foreign = graph.nodeList().find((node) => !ORT_DOMAINS.has(node.op.slice(0, node.op.lastIndexOf('.'))));
  if (foreign) {
    const engineName = defaultEngineFor(path);
    if (engineName === 'ort') throw error(path, `has ${foreign.op} ('${foreign.name}'), which ONNX Runtime does not run`);
    if (featureTensors.length > 0) {
      throw error(path, `runs on the ${engineName} engine, which gives only the file's outputs; feature matching needs an ONNX teacher`, `convert it first, e.g. modelpass convert ${path} -o teacher.onnx${engineName === 'tflite' ? ' -p raise-tflite' : ''}`);
    }
    const engine: Engine = createEngine(engineName);
    return { ...common, engine: engineName, run: batched(common, (feeds, outputs) => engine.run(path, feeds, { outputs: [...outputs] })), dispose: () => engine.dispose() };
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeOnnx(model);
  } catch (cause) {
    throw error(path, `cannot run in ONNX Runtime (${cause instanceof Error ? cause.message : String(cause)})`, 'convert the teacher to ONNX first (modelpass convert … -o teacher.onnx)');
  }
  const runner = new OrtRunner({ maxSessions: 1, ...(options.threads ? { sessionOptions: { intraOpNumThreads: options.threads } } : {}) });
  return { ...common, engine: 'ort', run: batched(common, (feeds, outputs) => runner.run(bytes, feeds, { outputs: [...outputs] })), dispose: () => runner.dispose() };
}

/** The student's batch reshaped for the teacher's input (same values per sample, the teacher's layout). */
function teacherFeed(teacher: Teacher, batch: Tensor): Tensor {
  const dims = teacher.inputShape.slice(1);
  if (dims.length === 0 || !dims.every((d): d is number => typeof d === 'number')) return batch;
  // Same layout up to size-1 axes, or one side flat ([1,28,28] ↔ [28,28,1] ↔ [784]; [3,32,32] ↔ [32,32,3] is refused).
  const withoutOnes = (shape: readonly number[]) => shape.filter((d) => d !== 1).join(',');
  const studentDims = batch.shape.slice(1);
  const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const flat = (shape: readonly number[]) => shape.filter((d) => d !== 1).length <= 1;
  const sameLayout = withoutOnes(dims) === withoutOnes(studentDims) || ((flat(dims) || flat(studentDims)) && count(dims) === count(studentDims));
  if (!sameLayout) {
    throw error(teacher.path, `takes samples of [${dims.join(',')}], the student [${studentDims.join(',')}]`, 'teacher and student must read the same sample layout');
  }
  return batch.reshape([batch.shape[0]!, ...dims]);
}

/** Adds the teacher's logits (and features, under their target input names) to each batch's loss inputs. */
export async function* withTeacherTargets(
  batches: Iterable<TrainBatch>,
  options: { teacher: Teacher; studentInput: string; logitsInput: string; features: ReadonlyMap<string, string> },
): AsyncGenerator<TrainBatch> {
  const { teacher } = options;
  const outputs = [teacher.logits, ...options.features.keys()];
  for (const batch of batches) {
    const images = batch.inputs[options.studentInput]!;
    const feed = teacherFeed(teacher, images);
    let result: Awaited<ReturnType<Teacher['run']>>;
    try {
      result = await teacher.run({ [teacher.input]: feed }, outputs);
    } catch (cause) {
      // The engine names the model by its bytes: say which teacher, and what it was fed.
      const message = cause instanceof Error ? cause.message : String(cause);
      throw error(
        teacher.path,
        `failed on a batch of ${feed.dtype}[${feed.shape.join(',')}] (the student's samples): ${message}`,
        teacher.inputShape.length === 0
          ? 'this teacher records no input shape (a TorchScript archive), so it gets the student\'s samples as they are: give it a model that reads that layout'
          : 'teacher and student must read the same sample layout',
      );
    }
    const lossInputs: Record<string, Tensor> = { ...batch.lossInputs, [options.logitsInput]: result.get(teacher.logits)! };
    for (const [tensor, target] of options.features) lossInputs[target] = result.get(tensor)!;
    yield { inputs: batch.inputs, lossInputs };
  }
}
