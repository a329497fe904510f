/**
 * Intermediate-feature matching (FitNets-style hints): `teacherTensor:studentTensor` pairs, each an mse
 * term of the distillation loss. When the channel counts differ (e.g. after `prune-channels`), the
 * student's tensor goes through a learned projection first — a 1×1 Conv for 4-D tensors, a MatMul for
 * 2-D ones — added to the training copy only, trained with the student and dropped afterwards.
 */
import { attrs, Builder, ModelpassError, Tensor, type Model, type TensorType } from '@modelpass/ir';
import { SeededRandom } from '@modelpass/runtime';
import type { FeatureMatchSpec } from '../losses.js';
import { missingTensorHint, tensorTypeOf } from './teacher.js';

export interface FeaturePair {
  readonly teacher: string;
  readonly student: string;
}

export interface PlannedFeature extends FeatureMatchSpec {
  readonly teacherTensor: string;
  /** The projection's weight initializer, when one was added. */
  readonly projection?: string;
}

function featureError(reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason: `distill option features: ${reason}`, ...(hint ? { hint } : {}), source: '@modelpass/train' });
}

/** `teacherTensor:studentTensor` items. */
export function parseFeaturePairs(items: readonly string[]): FeaturePair[] {
  return items.map((item) => {
    const parts = item.split(':');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw featureError(`'${item}' is not 'teacherTensor:studentTensor'`);
    return { teacher: parts[0], student: parts[1] };
  });
}

function staticDims(type: TensorType | undefined): number[] | null {
  if (!type?.shape) return null;
  const rest = type.shape.slice(1);
  return rest.every((d): d is number => typeof d === 'number') ? rest : null;
}

/**
 * Plans each pair on the student's training copy (shapes inferred on both models), adding projections
 * where the channel counts differ. `seed` initializes projections (uniform ±1/√fan-in, PyTorch's default bound).
 */
export function addFeatureProjections(student: Model, teacher: Model, pairs: readonly FeaturePair[], seed: number): PlannedFeature[] {
  const random = new SeededRandom(seed);
  const graph = student.graph;
  return pairs.map((pair, index): PlannedFeature => {
    const target = `teacher_feature_${index}`;
    const studentValue = graph.getValue(pair.student);
    const studentType = tensorTypeOf(student, pair.student);
    if (!studentValue || !studentType) throw featureError(`the student has no tensor '${pair.student}'`, missingTensorHint(student, pair.student, 'student'));
    const studentDims = staticDims(studentType);
    const teacherDims = staticDims(tensorTypeOf(teacher, pair.teacher));
    if (!studentDims || !teacherDims) throw featureError(`'${pair.teacher}:${pair.student}' needs static shapes after the batch axis on both sides`);
    const describe = `teacher '${pair.teacher}' [N,${teacherDims.join(',')}] and student '${pair.student}' [N,${studentDims.join(',')}]`;
    if (studentDims.join(',') === teacherDims.join(',')) return { teacherTensor: pair.teacher, student: pair.student, target };
    const rank = studentDims.length + 1;
    const sameOtherDims = rank === teacherDims.length + 1 && studentDims.slice(1).join(',') === teacherDims.slice(1).join(',');
    if (!sameOtherDims || (rank !== 4 && rank !== 2)) {
      throw featureError(`${describe} differ in more than the channel count`, 'match tensors of equal spatial size; a projection covers channels only (1×1 Conv for 4-D, MatMul for 2-D)');
    }
    const [inChannels, outChannels] = [studentDims[0]!, teacherDims[0]!];
    const bound = 1 / Math.sqrt(inChannels);
    const values = Float32Array.from({ length: inChannels * outChannels }, () => random.uniform(-bound, bound));
    const builder = Builder.atEnd(graph);
    const weightShape = rank === 4 ? [outChannels, inChannels, 1, 1] : [inChannels, outChannels];
    const weight = graph.addConstant(graph.uniqueName(`projection.${index}.weight`), Tensor.fromValues('float32', weightShape, values));
    const node = rank === 4
      ? builder.create('onnx.Conv', [studentValue, weight], { kernel_shape: attrs.ints([1, 1]) }, { name: `projection_${index}`, outputs: [`projection_${index}`] })
      : builder.create('onnx.MatMul', [studentValue, weight], {}, { name: `projection_${index}`, outputs: [`projection_${index}`] });
    return { teacherTensor: pair.teacher, student: node.output(0).name, target, projection: weight.name };
  });
}
