/**
 * The teacher of a distillation: any model `loadModel` reads (ONNX, TFLite, the formats an application
 * registers), run in ONNX Runtime once per batch. Its first output gives the soft targets
 * (`teacher_logits`); the tensors named by feature matching are added as outputs.
 */
import { ModelpassError, type Model, type Tensor, type TensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { encodeOnnx } from '@modelpass/onnx';
import { loadModel, type OrtRunner } from '@modelpass/runtime';
import type { TrainBatch } from '../train-steps.js';

export interface Teacher {
  readonly path: string;
  /** The teacher with its feature tensors as extra outputs, shapes inferred. */
  readonly model: Model;
  readonly bytes: Uint8Array;
  readonly input: string;
  readonly inputShape: readonly (number | string | null)[];
  readonly logits: string;
}

function error(path: string, reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason: `distill teacher '${path}': ${reason}`, ...(hint ? { hint } : {}), source: '@modelpass/train' });
}

export function tensorTypeOf(model: Model, name: string): TensorType | undefined {
  const type = model.graph.getValue(name)?.type;
  return type?.kind === 'tensor' ? type : undefined;
}

/** Reads the teacher and exposes `featureTensors` as outputs. */
export function loadTeacher(path: string, featureTensors: readonly string[]): Teacher {
  const model = loadModel(path);
  inferShapes(model);
  const graph = model.graph;
  const input = graph.inputs.find((value) => !value.isConstant);
  const logits = graph.outputs[0];
  if (!input || !logits) throw error(path, 'has no runtime input or no output');
  if (graph.inputs.filter((value) => !value.isConstant).length > 1) throw error(path, `has ${graph.inputs.length} inputs; distillation feeds one (the student's batch)`);
  for (const name of featureTensors) {
    const value = graph.getValue(name);
    if (!value) throw error(path, `has no tensor '${name}' to match features with`, 'name a tensor of the teacher (modelpass inspect lists node outputs)');
    if (!graph.outputs.includes(value)) graph.addOutput(value);
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeOnnx(model);
  } catch (cause) {
    throw error(path, `cannot run in ONNX Runtime (${cause instanceof Error ? cause.message : String(cause)})`, 'convert the teacher to ONNX first (modelpass convert … -o teacher.onnx)');
  }
  const inputType = input.type;
  return { path, model, bytes, input: input.name, inputShape: inputType.kind === 'tensor' && inputType.shape ? inputType.shape : [], logits: logits.name };
}

/** The student's batch reshaped for the teacher's input (same values per sample, the teacher's layout). */
function teacherFeed(teacher: Teacher, batch: Tensor): Tensor {
  const dims = teacher.inputShape.slice(1);
  if (dims.length === 0 || !dims.every((d): d is number => typeof d === 'number')) return batch;
  const perSample = dims.reduce((a, b) => a * b, 1);
  const studentPerSample = batch.shape.slice(1).reduce((a, b) => a * b, 1);
  if (perSample !== studentPerSample) {
    throw error(teacher.path, `takes ${perSample} values per sample ([${dims.join(',')}]), the student ${studentPerSample} ([${batch.shape.slice(1).join(',')}])`);
  }
  return batch.reshape([batch.shape[0]!, ...dims]);
}

/** Adds the teacher's logits (and features, under their target input names) to each batch's loss inputs. */
export async function* withTeacherTargets(
  batches: Iterable<TrainBatch>,
  options: { teacher: Teacher; runner: OrtRunner; studentInput: string; logitsInput: string; features: ReadonlyMap<string, string> },
): AsyncGenerator<TrainBatch> {
  const { teacher, runner } = options;
  const outputs = [teacher.logits, ...options.features.keys()];
  for (const batch of batches) {
    const images = batch.inputs[options.studentInput]!;
    const result = await runner.run(teacher.bytes, { [teacher.input]: teacherFeed(teacher, images) }, { outputs });
    const lossInputs: Record<string, Tensor> = { ...batch.lossInputs, [options.logitsInput]: result.get(teacher.logits)! };
    for (const [tensor, target] of options.features) lossInputs[target] = result.get(tensor)!;
    yield { inputs: batch.inputs, lossInputs };
  }
}
