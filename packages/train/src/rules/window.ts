/** Window geometry shared by the Conv and pooling gradients: strides, dilations and explicit pads (auto_pad resolved). */
import type { Node } from '@modelpass/ir';
import { ruleError } from '../gradient-context.js';

export interface WindowGeometry {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  /** ONNX layout: all begins, then all ends. */
  readonly pads: number[];
  /** `outputPadding[i] = in - (s·(out−1) + (k−1)·d + 1 − begin − end)`: what ConvTranspose needs to give back the input size. */
  readonly outputPadding: number[];
}

export function windowGeometry(node: Node, kernel: readonly number[], inSpatial: readonly number[], outSpatial: readonly number[]): WindowGeometry {
  const n = kernel.length;
  const strides = node.optionalAttr('strides', 'ints')?.slice() ?? new Array<number>(n).fill(1);
  const dilations = node.optionalAttr('dilations', 'ints')?.slice() ?? new Array<number>(n).fill(1);
  const autoPad = node.attr('auto_pad', 'string', 'NOTSET');
  let pads = node.optionalAttr('pads', 'ints')?.slice() ?? new Array<number>(2 * n).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(inSpatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - inSpatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i]!;
    }
  } else if (autoPad !== 'NOTSET') throw ruleError(node, `unknown auto_pad '${autoPad}'`);
  const outputPadding = kernel.map((k, i) => inSpatial[i]! - (strides[i]! * (outSpatial[i]! - 1) + (k - 1) * dilations[i]! + 1 - pads[i]! - pads[i + n]!));
  if (outputPadding.some((p) => p < 0)) throw ruleError(node, 'the window geometry does not fit the input (negative output padding)');
  return { kernel: kernel.slice(), strides, dilations, pads, outputPadding };
}
