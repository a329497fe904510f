/**
 * Shape rules that refuse impossible inputs. An op's inference calls these where its inputs admit no
 * output shape — ONNX Runtime refuses such a node (at load when every dim is known there, else at run)
 * — and they throw an `InferenceRefusal` located at the node, with the code and wording of the matching
 * verify hook (`ops/reshape-size`, `ops/concat-rank`, …). Nothing here guesses: a symbolic or unknown
 * dim is never a clash, so those rules answer an unknown dim instead and leave the check to run time.
 */
import { InferenceRefusal, type Dim, type Node } from '@modelpass/ir';

export function formatDims(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** `'name' [dims]` of input `index`, for messages. */
export function describeOperand(node: Node, index: number, shape: readonly Dim[]): string {
  return `'${node.inputs[index]?.name ?? `input ${index}`}' ${formatDims(shape)}`;
}

/** Throws the refusal of `node`'s inputs with code `ops/<check>`. */
export function refuseShape(node: Node, check: string, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): never {
  throw new InferenceRefusal({ source: '@modelpass/ops', code: `ops/${check}`, reason, location: node.location, ...extra });
}

/**
 * `axis` normalized into `[0, rank)` (`[0, rank]` with `inclusiveEnd`), or a refusal (`ops/axis-range`)
 * naming input `index` of `node` (its shape `shape`).
 */
export function axisOrRefuse(node: Node, axis: number, shape: readonly Dim[], index = 0, inclusiveEnd = false): number {
  const rank = shape.length;
  const upper = inclusiveEnd ? rank : rank - 1;
  if (Number.isInteger(axis) && axis >= -rank && axis <= upper) return axis < 0 ? axis + rank : axis;
  return refuseShape(node, 'axis-range', `axis ${axis} is out of range for ${describeOperand(node, index, shape)} of rank ${rank}`, {
    expected: `an axis in [${-rank}, ${upper}]`,
    actual: String(axis),
  });
}

/**
 * Numpy broadcasting of `shapes` (operands `indices` of `node`): refuses (`ops/broadcast-shapes`) two static
 * dims on one axis that differ and are not 1; `what` says which dims are compared (default 'input shapes').
 */
export function refuseBroadcastClash(node: Node, shapes: readonly (readonly Dim[])[], indices: readonly number[], what = 'input shapes'): void {
  const rank = Math.max(0, ...shapes.map((shape) => shape.length));
  for (let d = 0; d < rank; d++) {
    let owner = -1;
    let size = 1;
    for (let k = 0; k < shapes.length; k++) {
      const shape = shapes[k]!;
      const dim = shape[d - (rank - shape.length)];
      if (typeof dim !== 'number' || dim === 1) continue;
      if (owner < 0) {
        owner = k;
        size = dim;
      } else if (dim !== size) {
        refuseShape(node, 'broadcast-shapes', `${what} cannot be broadcast: ${describeOperand(node, indices[owner]!, shapes[owner]!)} and ${describeOperand(node, indices[k]!, shape)} differ on dim ${d - rank} (${size} and ${dim}, neither 1)`, {
          expected: 'equal dims or 1 on each axis (numpy broadcasting)',
          actual: shapes.map(formatDims).join(' and '),
        });
      }
    }
  }
}
