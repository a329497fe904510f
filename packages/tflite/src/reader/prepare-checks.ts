/**
 * The reader refuses operators TFLite refuses when it prepares them (QA s15 round 8: mutated MediaPipe
 * files with these faults were converted with exit 0, and only the TFLite runtime said what was wrong):
 * a binary elementwise operator whose operands have different element types ("input1->type !=
 * input2->type"), a PAD whose constant paddings are negative ("Pad value has to be greater than equal
 * to 0"), and a CONV_2D / DEPTHWISE_CONV_2D whose bias does not hold one value per output channel
 * ("NumElements(bias) != SizeOfDimension(filter, 0)"). The writer refuses the same operators
 * (`preparableProblem`), so it never writes a file this reader refuses.
 */
import { isTensorType, type Location, type Value } from '@modelpass/ir';
import { tfliteError } from '../io/errors.js';

const SAME_TYPE_OPERANDS = new Set(['ADD', 'SUB', 'MUL', 'DIV', 'POW', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE', 'FLOOR_DIV', 'FLOOR_MOD', 'LOGICAL_AND', 'LOGICAL_OR', 'EQUAL', 'NOT_EQUAL', 'LESS', 'LESS_EQUAL', 'GREATER', 'GREATER_EQUAL']);
const HINT = 'TFLite refuses this file too when it prepares the operator; fix the file';

function staticShape(value: Value | null | undefined): readonly number[] | undefined {
  const type = value?.type;
  if (!type || !isTensorType(type) || !type.shape || !type.shape.every((d) => typeof d === 'number')) return undefined;
  return type.shape as readonly number[];
}

/** What TFLite would refuse about this operator when it prepares it, or undefined (the writer refuses the same). */
export function preparableProblem(builtin: string, inputs: readonly (Value | null | undefined)[]): { reason: string; expected: string; actual: string } | undefined {
  if (SAME_TYPE_OPERANDS.has(builtin) && inputs.length === 2) {
    const [a, b] = inputs;
    if (a && b && isTensorType(a.type) && isTensorType(b.type) && a.type.dtype !== b.type.dtype) {
      return {
        reason: `${builtin}'s operands have different element types: '${a.name}' ${a.type.dtype} and '${b.name}' ${b.type.dtype}`,
        expected: 'operands of one element type',
        actual: `${a.type.dtype} and ${b.type.dtype}`,
      };
    }
  }
  if (builtin === 'PAD' || builtin === 'PADV2') {
    const paddings = inputs[1]?.constant;
    if (paddings && paddings.dtype !== 'string' && paddings.size <= 64) {
      const negative = paddings.toNumbers().find((v) => v < 0);
      if (negative !== undefined) return { reason: `${builtin}'s paddings '${inputs[1]!.name}' hold ${negative}`, expected: 'paddings of 0 or more', actual: String(negative) };
    }
  }
  if (builtin === 'CONV_2D' || builtin === 'DEPTHWISE_CONV_2D') {
    const filter = staticShape(inputs[1]);
    const bias = staticShape(inputs[2]);
    if (filter?.length === 4 && bias) {
      const channels = builtin === 'CONV_2D' ? filter[0]! : filter[3]!;
      const values = bias.reduce((n, d) => n * d, 1);
      if (values !== channels) {
        return {
          reason: `${builtin}'s bias '${inputs[2]!.name}' [${bias.join(',')}] holds ${values} values for the ${channels} output channels of filter '${inputs[1]!.name}' [${filter.join(',')}]`,
          expected: `${channels} bias values`,
          actual: String(values),
        };
      }
    }
  }
  return undefined;
}

export function checkPreparable(builtin: string, inputs: readonly (Value | null)[], location: Location): void {
  const problem = preparableProblem(builtin, inputs);
  if (problem) throw tfliteError({ ...problem, location, code: 'tflite/malformed', hint: HINT });
}
