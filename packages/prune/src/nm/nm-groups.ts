/**
 * Where the groups of m consecutive weights of N:M sparsity lie: along the reduction dimension of
 * each layer, the dimension a sparse tensor-core kernel (cuSPARSELt, TensorRT) reads in groups of m.
 *
 * | op | weight layout | reduction axis | a group of m |
 * |---|---|---|---|
 * | Conv | `[M, C/g, k…]` | 1 | m consecutive input channels at one (output channel, kernel position) |
 * | ConvTranspose | `[C, M/g, k…]` | 0 | m consecutive input channels at one (output channel, kernel position), within one group |
 * | Gemm | `[K, N]`, `[N, K]` with transB | 0, or 1 with transB | m consecutive K at one output column |
 * | MatMul | `[…, K, N]` | rank − 2 (0 for a vector) | m consecutive K at one output column (per batch) |
 */
import { axisLayout, type Node } from '@modelpass/ir';

export interface GroupLayout {
  /** The reduction axis of the weight. */
  readonly axis: number;
  /** Weights per step along the reduction axis are `inner` apart; `outer` blocks of `dim·inner`. */
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** Groups must not cross these segments of the axis (ConvTranspose groups); equals `dim` otherwise. */
  readonly segment: number;
}

export function reductionAxis(node: Node, rank: number): number {
  switch (node.op) {
    case 'onnx.Conv':
      return 1;
    case 'onnx.ConvTranspose':
      return 0;
    case 'onnx.Gemm':
      return node.attr('transB', 'int', 0) ? 1 : 0;
    default:
      return Math.max(0, rank - 2);
  }
}

export function groupLayout(node: Node, shape: readonly number[]): GroupLayout {
  const axis = reductionAxis(node, shape.length);
  const { outer, dim, inner } = axisLayout(shape, axis);
  const groups = node.op === 'onnx.ConvTranspose' ? node.attr('group', 'int', 1) : 1;
  return { axis, outer, dim, inner, segment: groups > 0 && dim % groups === 0 ? dim / groups : dim };
}

/** Why the layout cannot be split into groups of m, or undefined when it can. */
export function indivisibleReason(layout: GroupLayout, m: number): string | undefined {
  if (layout.segment % m === 0) return undefined;
  const what = layout.segment === layout.dim ? `its reduction dim (axis ${layout.axis}) is ${layout.dim}` : `its input channels per group are ${layout.segment}`;
  return `${what}, not a multiple of m=${m}`;
}

/** Calls `visit` with the flat indices of every group of m. */
export function forEachGroup(layout: GroupLayout, m: number, visit: (indices: readonly number[]) => void): void {
  const indices = new Array<number>(m);
  for (let o = 0; o < layout.outer; o++) {
    for (let i = 0; i < layout.inner; i++) {
      for (let start = 0; start < layout.dim; start += m) {
        for (let j = 0; j < m; j++) indices[j] = (o * layout.dim + start + j) * layout.inner + i;
        visit(indices);
      }
    }
  }
}
