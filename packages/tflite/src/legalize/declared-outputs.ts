/**
 * Graph outputs declared with an empty shape (`float32[]`, rank 0) whose producer computes a higher rank (an
 * exporter that wrote an empty shape for an output it did not know): ONNX Runtime runs such a model with the real
 * rank, but the declared one would steer the TFLite layout (a rank-4 output taken for a scalar gets no
 * transpose back to NCHW and comes out channels-last). The .tflite has to declare real shapes anyway, so
 * the output takes the computed type, with a warning naming it (QA s14 round 7).
 */
import { formatType, type Model, type OpRegistry, type Type } from '@modelpass/ir';

export interface RetypedOutput {
  readonly name: string;
  readonly declared: Type;
  readonly computed: Type;
}

const rankOf = (type: Type): number | undefined => (type.kind === 'tensor' && type.shape ? type.shape.length : undefined);

/** Gives each main-graph output declared rank 0 whose producer computes a higher rank the inferred type. */
export function retypeContradictedOutputs(model: Model, registry: OpRegistry): RetypedOutput[] {
  const retyped: RetypedOutput[] = [];
  for (const output of model.graph.outputs) {
    const producer = output.producer;
    if (!producer) continue;
    const declaredRank = rankOf(output.type);
    if (declaredRank === undefined) continue;
    const computed = registry.inferNode(producer, model)?.[producer.outputs.indexOf(output)];
    const computedRank = computed ? rankOf(computed) : undefined;
    // Only the empty shape is taken for a mistake: a declared rank ≥ 1 that inference contradicts stays as declared (with
    // the verifier's warning), so an inference gap never overrides a model's own correct declaration.
    if (declaredRank !== 0 || !computed || computedRank === undefined || computedRank === 0) continue;
    retyped.push({ name: output.name, declared: output.type, computed });
    output.type = computed;
  }
  return retyped;
}

export function describeRetyped(entry: RetypedOutput): string {
  return `graph output '${entry.name}' is declared ${formatType(entry.declared)} but its producer computes ${formatType(entry.computed)} (as ONNX Runtime runs it): the .tflite declares the computed type`;
}
