/**
 * Verify hooks for windowed ops (convolutions and pools): kernel_shape against the weight's rank and
 * dims, strides/dilations/pads/output_padding lengths against the spatial rank, auto_pad with
 * explicit pads, groups against channels, pooling windows below 1 and pads that reach past them.
 */
import type { Node, VerifyContext } from '@modelpass/ir';
import { staticDim } from '../util/inference.js';
import { inputShapeOf, intAttribute, intsAttribute, reportAt, stringAttribute, type OpVerifier } from './verify-context.js';

/** Lengths of the per-axis attributes: each must match the spatial rank (pads twice it). */
function checkWindowLengths(context: VerifyContext, spatial: number, names: readonly string[]): void {
  const { node } = context;
  for (const name of names) {
    const values = intsAttribute(node, name);
    if (!values) continue;
    const want = name === 'pads' ? 2 * spatial : spatial;
    if (values.length !== want) {
      reportAt(context, 'window-attribute-length', `${name} has ${values.length} entries for ${spatial} spatial axes`, { expected: `${want} entries`, actual: `[${values.join(',')}]` });
    }
    const positive = name === 'strides' || name === 'dilations';
    const bad = values.find((v) => (positive ? v < 1 : v < 0));
    if (bad !== undefined) reportAt(context, 'window-attribute-value', `${name} holds ${bad}`, { expected: positive ? 'values >= 1' : 'values >= 0' });
  }
  const autoPad = stringAttribute(node, 'auto_pad');
  if (autoPad && autoPad !== 'NOTSET' && intsAttribute(node, 'pads')) {
    reportAt(context, 'auto-pad-with-pads', `auto_pad '${autoPad}' and explicit pads are both set`, { hint: 'ONNX uses pads only with auto_pad NOTSET; drop one of them' });
  }
}

export interface ConvolutionInputs {
  readonly x: number;
  readonly w: number;
  readonly transposed?: boolean;
}

/** Conv, ConvTranspose, ConvInteger, QLinearConv. */
export function verifyConvolution(inputs: ConvolutionInputs): OpVerifier {
  return (context) => {
    const { node } = context;
    const x = inputShapeOf(node, inputs.x);
    const w = inputShapeOf(node, inputs.w);
    const kernelShape = intsAttribute(node, 'kernel_shape');
    if (w && w.length < 3) {
      reportAt(context, 'conv-rank', `the weight has rank ${w.length}, below a convolution's 3 (M, C/group, kernel...)`, { expected: 'a weight of rank 3 or more', actual: `rank ${w.length}` });
    } else if (kernelShape && w && w.length !== kernelShape.length + 2) {
      reportAt(context, 'conv-kernel-shape', `kernel_shape has ${kernelShape.length} dims but the weight has rank ${w.length}`, { expected: `kernel_shape of ${w.length - 2} dims (weight rank - 2)`, actual: `[${kernelShape.join(',')}]` });
    } else if (kernelShape && w) {
      kernelShape.forEach((k, i) => {
        const dim = staticDim(w[i + 2]);
        if (dim !== undefined && dim !== k) reportAt(context, 'conv-kernel-shape', `kernel_shape[${i}] is ${k} but the weight's spatial dim ${i} is ${dim}`, { expected: String(dim), actual: String(k) });
      });
    }
    if (x && w && x.length !== w.length) reportAt(context, 'conv-rank', `input has rank ${x.length} but the weight has rank ${w.length}`, { expected: 'equal ranks (N, C, spatial...) and (M, C/group, kernel...)' });
    const spatial = kernelShape?.length ?? (w ? w.length - 2 : x ? x.length - 2 : undefined);
    if (spatial !== undefined) checkWindowLengths(context, spatial, inputs.transposed ? ['strides', 'dilations', 'pads', 'output_padding', 'output_shape'] : ['strides', 'dilations', 'pads']);
    checkGroups(context, node, x, w, inputs.transposed === true);
    if (!inputs.transposed && x && w && x.length === w.length) checkWindowFits(context, node, x, w);
  };
}

/** A convolution window (dilated kernel) must fit in the padded input: torch refuses it, ONNX's size formula goes to 0 or below. */
function checkWindowFits(context: VerifyContext, node: Node, x: NonNullable<ReturnType<typeof inputShapeOf>>, w: NonNullable<ReturnType<typeof inputShapeOf>>): void {
  const autoPad = stringAttribute(node, 'auto_pad') ?? 'NOTSET';
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return;
  const spatial = x.length - 2;
  const pads = autoPad === 'VALID' ? undefined : intsAttribute(node, 'pads');
  for (let i = 0; i < spatial; i++) {
    const size = staticDim(x[i + 2]);
    const kernel = staticDim(w[i + 2]);
    if (size === undefined || kernel === undefined) continue;
    const padded = size + (pads?.[i] ?? 0) + (pads?.[i + spatial] ?? 0);
    const window = (kernel - 1) * (intsAttribute(node, 'dilations')?.[i] ?? 1) + 1;
    if (padded < window) {
      reportAt(context, 'conv-window', `the kernel window of ${window} on spatial axis ${i} is larger than the padded input (${size}${padded !== size ? ` + pads = ${padded}` : ''})`, {
        expected: `a padded input of at least ${window} on axis ${i}`,
        actual: `input [${x.map((d) => (d === null ? '?' : String(d))).join(',')}], weight [${w.map((d) => (d === null ? '?' : String(d))).join(',')}]`,
      });
    }
  }
}

function checkGroups(context: VerifyContext, node: Node, x: ReturnType<typeof inputShapeOf>, w: ReturnType<typeof inputShapeOf>, transposed: boolean): void {
  const group = intAttribute(node, 'group') ?? 1;
  if (group < 1) {
    reportAt(context, 'conv-group', `group is ${group}`, { expected: 'a positive integer' });
    return;
  }
  const channels = staticDim(x?.[1]);
  const [w0, w1] = [staticDim(w?.[0]), staticDim(w?.[1])];
  if (transposed) {
    if (channels !== undefined && w0 !== undefined && channels !== w0) reportAt(context, 'conv-channels', `input has ${channels} channels but the weight's first dim is ${w0}`, { expected: 'W of shape (C, M/group, kernel...)' });
    if (channels !== undefined && channels % group !== 0) reportAt(context, 'conv-group', `${channels} input channels do not split into ${group} groups`);
    return;
  }
  if (channels !== undefined && w1 !== undefined && channels !== w1 * group) {
    reportAt(context, 'conv-channels', `input has ${channels} channels but the weight expects ${w1} per group × ${group} groups`, { expected: `${w1 * group} channels`, actual: String(channels) });
  }
  if (w0 !== undefined && w0 % group !== 0) reportAt(context, 'conv-group', `${w0} output channels do not split into ${group} groups`);
}

/** MaxPool, AveragePool, LpPool: kernel_shape against the input rank; pads smaller than the window. */
export const verifyPool: OpVerifier = (context) => {
  const { node } = context;
  const kernelShape = intsAttribute(node, 'kernel_shape');
  if (!kernelShape) return;
  const x = inputShapeOf(node, 0);
  if (x && x.length !== kernelShape.length + 2) {
    reportAt(context, 'pool-kernel-shape', `kernel_shape has ${kernelShape.length} dims for an input of rank ${x.length}`, { expected: `${x.length - 2} dims (input rank - 2)` });
  }
  const emptyWindow = kernelShape.find((k) => k < 1);
  if (emptyWindow !== undefined) reportAt(context, 'pool-kernel-shape', `kernel_shape holds ${emptyWindow}`, { expected: 'window sizes of 1 or more', actual: `[${kernelShape.join(',')}]` });
  checkWindowLengths(context, kernelShape.length, ['strides', 'dilations', 'pads']);
  const pads = intsAttribute(node, 'pads');
  if (pads?.length === 2 * kernelShape.length) {
    kernelShape.forEach((k, i) => {
      const dilated = (k - 1) * (intsAttribute(node, 'dilations')?.[i] ?? 1) + 1;
      if (pads[i]! >= dilated || pads[i + kernelShape.length]! >= dilated) {
        reportAt(context, 'pool-pads', `pads on spatial axis ${i} (${pads[i]}, ${pads[i + kernelShape.length]}) reach past the window of ${dilated}`, { expected: `pads < ${dilated}`, hint: 'a window made only of padding has no input element' });
      }
    });
  }
  // QA s16: a 5x5 MaxPool over a 2x2 input converted with exit 0; ONNX Runtime: 'Invalid dimension: -2'.
  // (The message says 'larger than the padded input'; only windows whose output size ORT computes below 1 are refused.)
  const autoPad = stringAttribute(node, 'auto_pad') ?? 'NOTSET';
  // With ceil_mode a window that overhangs the input by less than a stride still gives one output.
  if (!x || x.length !== kernelShape.length + 2 || (autoPad !== 'NOTSET' && autoPad !== 'VALID') || intAttribute(node, 'ceil_mode') === 1) return;
  kernelShape.forEach((k, i) => {
    const size = staticDim(x[i + 2]);
    if (size === undefined || k < 1) return;
    const padded = size + (autoPad === 'VALID' ? 0 : (pads?.[i] ?? 0) + (pads?.[i + kernelShape.length] ?? 0));
    const window = (k - 1) * (intsAttribute(node, 'dilations')?.[i] ?? 1) + 1;
    const stride = intsAttribute(node, 'strides')?.[i] ?? 1;
    // ONNX's shape inference and ORT divide in C++ integers (toward zero): a 2/2 window over 1 still gives one output
    // (PaddleOCR's classifier at small sizes; window-overhang conformance test); only an output size below 1 is refused.
    if (padded < window && stride >= 1 && Math.trunc((padded - window) / stride) + 1 < 1) {
      reportAt(context, 'pool-window', `the pooling window of ${window} on spatial axis ${i} is larger than the padded input (${size}${padded !== size ? ` + pads = ${padded}` : ''})`, {
        expected: `a padded input of at least ${window} on axis ${i}`,
        actual: `input [${x.map((d) => (d === null ? '?' : String(d))).join(',')}]`,
      });
    }
  });
};
