/**
 * Ifs whose conditions the fixed inputs decide, inlined before anything is checked.
 *
 * Silero VAD's ONNX files are one If on the sample rate (`Equal(sr, 16000)`) whose branches hold Ifs on
 * shapes (`Shape(x)[2] == 1`, `Size(Shape(x)) != 2`), nested up to three deep. With `--input-value sr=16000`
 * and static input shapes every condition of the taken branch is known. The branch not taken is meant for
 * other chunk sizes: fed these, some of its values have no shape (its LSTM input gets rank 5), so its shape
 * Ifs can never be resolved — and control-flow.ts, which expands bodies innermost first and refuses an If
 * whose branches still hold control flow, refused the whole model for them, constant condition or not.
 * Here the Ifs with constant conditions go first, outermost first (fold-if's `foldConstantIfs`: the taken
 * branch moves into the If's graph, nested bodies intact; the other is dropped unseen), then the types are
 * inferred afresh and the shape arithmetic and constants folded, which may make more conditions constant:
 * again, until a round inlines nothing. What is left (a condition computed at run time) goes on to
 * control-flow.ts.
 */
import type { Model, Node, Value } from '@modelpass/ir';
import { foldConstantIfs, foldShapeArithmetic } from '@modelpass/transforms';
import { staticDims } from './lowering-tools.js';

/**
 * Rounds at most (each inlines at least one If). One resolves the Silero files — shape inference types an If's
 * outputs by its branch when the condition is known, so fold-shapes makes the nested conditions constant in
 * the same round and fold-if inlines them outermost first; a condition that only fold-constants makes
 * constant (a value inference does not evaluate) takes another round.
 */
export const MAX_CONDITION_ROUNDS = 64;

export interface KnownConditionSteps {
  /** Refresh every value's type from the inputs (shape inference in `refresh` mode). */
  readonly inferTypes: () => void;
  /** Fold constants (fold-constants), after the shape arithmetic is folded. */
  readonly foldConstants: () => Promise<void>;
  readonly debug: (message: string) => void;
}

/** Inlines the Ifs whose conditions become constants, round after round (see the file comment); returns how many. */
export async function inlineIfsOfKnownConditions(model: Model, steps: KnownConditionSteps): Promise<number> {
  let inlined = 0;
  for (let round = 0; round < MAX_CONDITION_ROUNDS; round++) {
    const { ifsInlined } = foldConstantIfs(model, steps.debug);
    if (ifsInlined === 0) break;
    inlined += ifsInlined;
    steps.inferTypes();
    foldShapeArithmetic(model, { debug: steps.debug });
    await steps.foldConstants();
  }
  return inlined;
}

/** Nodes walked back from a condition at most (a condition is a few nodes of shape arithmetic or a comparison). */
const MAX_CONDITION_NODES = 10_000;

/**
 * The inputs of the main graph that an If's condition is computed from, with what of each it reads: the
 * values (`Equal(sr, 16000)`), or only the shapes (through Shape/Size). Walks producers back from the
 * condition, into enclosing graphs for captured values; constants end the walk.
 */
export function conditionInputs(ifNode: Node): { values: Value[]; shapes: Value[] } {
  const values = new Set<Value>();
  const shapes = new Set<Value>();
  // Each value is walked at most twice: once for its shape, once for its value.
  const seen = { shape: new Set<Value>(), value: new Set<Value>() };
  const pending: { value: Value; shapeOnly: boolean }[] = ifNode.inputs[0] ? [{ value: ifNode.inputs[0], shapeOnly: false }] : [];
  for (let walked = 0; pending.length > 0 && walked < MAX_CONDITION_NODES; walked++) {
    const { value, shapeOnly } = pending.pop()!;
    const visited = shapeOnly ? seen.shape : seen.value;
    if (visited.has(value)) continue;
    visited.add(value);
    if (value.isGraphInput && value.graph.parentNode === null && value.constant === undefined) {
      (shapeOnly ? shapes : values).add(value);
      continue;
    }
    const producer = value.producer;
    if (!producer) continue;
    const readsShape = shapeOnly || producer.op === 'onnx.Shape' || producer.op === 'onnx.Size';
    for (const input of producer.inputs) if (input && !input.isConstant) pending.push({ value: input, shapeOnly: readsShape });
  }
  for (const value of values) shapes.delete(value);
  return { values: [...values], shapes: [...shapes] };
}

/**
 * What fixes an If's condition at conversion time, for its refusal: `--input-value` for each input whose
 * value it reads, `--input-shape` for each whose open dims it reads; undefined when neither applies.
 */
export function conditionFixHint(ifNode: Node): string | undefined {
  const { values, shapes } = conditionInputs(ifNode);
  const openShapes = shapes.filter((input) => !staticDims(input));
  const parts: string[] = [];
  if (values.length > 0) {
    parts.push(`its condition is computed from the value of input ${values.map((v) => `'${v.name}'`).join(', ')}: fix it for the conversion (modelpass convert ${values.map((v) => `--input-value ${v.name}=…`).join(' ')}) and the branch it takes is inlined`);
  }
  if (openShapes.length > 0) {
    parts.push(`its condition reads the shape of input ${openShapes.map((v) => `'${v.name}'`).join(', ')}, which is not static: give it (${openShapes.map((v) => `--input-shape ${v.name}=…`).join(' ')})`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}
