/**
 * Graph outputs declared with an empty shape (`float32[]`, rank 0) whose producer computes a higher rank (an
 * exporter that wrote an empty shape for an output it did not know): ONNX Runtime runs such a model with the real
 * rank, but the declared one would steer the TFLite layout (a rank-4 output taken for a scalar gets no
 * transpose back to NCHW and comes out channels-last). The .tflite has to declare real shapes anyway, so
 * the output takes the computed type, with a warning naming it (QA s14 round 7).
 */
import { expressedType, formatType, type Model, type Node, type OpRegistry, type Type } from '@modelpass/ir';

export interface RetypedOutput {
  readonly name: string;
  readonly declared: Type;
  readonly computed: Type;
}

const rankOf = (type: Type): number | undefined => (type.kind === 'tensor' && type.shape ? type.shape.length : undefined);

const isStatic = (type: Type): boolean => type.kind === 'tensor' && !!type.shape && type.shape.every((dim) => typeof dim === 'number');
/** A declared shape the computed one contradicts: another rank, or a declared number that differs (a symbolic dim does not). */
const contradicts = (computed: Type, declared: Type): boolean =>
  computed.kind === 'tensor' && declared.kind === 'tensor' && !!computed.shape && !!declared.shape &&
  (computed.shape.length !== declared.shape.length || declared.shape.some((dim, i) => typeof dim === 'number' && dim !== computed.shape![i]));

/**
 * The producer's inferred output types, its quant<> operands read as the float32 reals they stand for (as inferShapes
 * does): OpRegistry.inferNode reads storage dtypes, and refused a float Mul of a uint8 quant<> activation and a float
 * one — a HardSwish whose output the model returns (SSDlite's backbone features, quantize-static's defaults).
 */
function inferOnReals(registry: OpRegistry, node: Node, model: Model): readonly (Type | undefined)[] | undefined {
  const schema = registry.get(node.op);
  if (!schema?.inferTypes) return undefined;
  return schema.inferTypes({
    node,
    opset: model.opset(node.dialect),
    inputType: (index) => {
      const type = node.inputs[index]?.type;
      return type && expressedType(type);
    },
    inputConstant: (index) => node.inputs[index]?.constant,
  });
}

/**
 * Gives each main-graph output declared rank 0 whose producer computes a higher rank the inferred type. With
 * `ifsInlined` (legalize inlined Ifs the fixed inputs decide), also each output whose producer now computes a
 * static shape of the declared dtype that differs from the declaration: torch declares a scripted If's
 * outputs by the branch its trace took (`y = x.sum(0) if mode == 1 else x`, traced with mode 1, declares
 * [8]), which another fixed value contradicts — ONNX Runtime runs it with the real shape (QA s17 round 15).
 */
export function retypeContradictedOutputs(model: Model, registry: OpRegistry, options: { ifsInlined?: boolean } = {}): RetypedOutput[] {
  const retyped: RetypedOutput[] = [];
  for (const output of model.graph.outputs) {
    const producer = output.producer;
    if (!producer) continue;
    const declaredRank = rankOf(output.type);
    if (declaredRank === undefined) continue;
    const computed = inferOnReals(registry, producer, model)?.[producer.outputs.indexOf(output)];
    const computedRank = computed ? rankOf(computed) : undefined;
    // Only the empty shape is taken for a mistake: a declared rank ≥ 1 that inference contradicts stays as declared (with
    // the verifier's warning), so an inference gap never overrides a model's own correct declaration.
    const inlinedContradiction =
      options.ifsInlined === true && !!computed && isStatic(computed) && computed.kind === 'tensor' && output.type.kind === 'tensor' && computed.dtype === output.type.dtype && contradicts(computed, output.type);
    if (!inlinedContradiction && (declaredRank !== 0 || !computed || computedRank === undefined || computedRank === 0)) continue;
    if (!computed) continue;
    retyped.push({ name: output.name, declared: output.type, computed });
    output.type = computed;
  }
  return retyped;
}

export function describeRetyped(entry: RetypedOutput): string {
  return `graph output '${entry.name}' is declared ${formatType(entry.declared)} but its producer computes ${formatType(entry.computed)} (as ONNX Runtime runs it): the .tflite declares the computed type`;
}
