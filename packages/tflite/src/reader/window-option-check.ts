/**
 * The reader refuses window options below 1: a stride or dilation (CONV_2D, DEPTHWISE_CONV_2D,
 * TRANSPOSE_CONV, CONV_3D, the pools) or a pooling filter size. TFLite's pools refuse them when they
 * prepare ("params->stride_height > 0 was not true"); its convolutions give empty outputs. Read as
 * they were, a stride of 0 gave NaN dims through shape inference and a cascade of "declared
 * …[1,8,1,NaN]" errors naming no cause.
 */
import type { Attribute, Location } from '@modelpass/ir';
import { tfliteError } from '../io/errors.js';

const WINDOW_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'TRANSPOSE_CONV', 'CONV_3D', 'CONV_3D_TRANSPOSE', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'L2_POOL_2D']);
const POSITIVE_OPTIONS = ['stride_w', 'stride_h', 'stride_d', 'dilation_w_factor', 'dilation_h_factor', 'dilation_d_factor', 'filter_width', 'filter_height'];

export function checkWindowOptions(builtin: string, attributes: ReadonlyMap<string, Attribute>, location: Location): void {
  if (!WINDOW_OPS.has(builtin)) return;
  for (const name of POSITIVE_OPTIONS) {
    const attribute = attributes.get(name);
    if (attribute?.kind !== 'int' || attribute.value >= 1) continue;
    throw tfliteError({
      reason: `${builtin}'s option ${name} is ${attribute.value}`,
      expected: 'a value of 1 or more',
      actual: String(attribute.value),
      location,
      code: 'tflite/malformed',
      hint: 'a window that does not move or has no size computes nothing; fix the option in the file',
    });
  }
}
