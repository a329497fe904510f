import { type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, viewElements, tensorFromElements } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { elementClassOf } from './element-class.js';

function scalarOf(tensor: Tensor | undefined): number | bigint | undefined {
  if (!tensor) return undefined;
  if (tensor.size !== 1) return NaN;
  return (readElements(tensor) as ArrayLike<number | bigint>)[0];
}

/**
 * Clip: min/max are float attributes before opset 11 and optional scalar inputs from 11 on
 * (integer types from 12). Absent bounds do not clip.
 */
export const clip = defineCanonicalOp({
  op: 'onnx.Clip',
  summary: 'Elementwise min(max(X, min), max)',
  inputs: [{ name: 'input' }, { name: 'min', optional: true }, { name: 'max', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: {
    min: { kind: 'float', doc: 'opset < 11: lower bound (default: lowest float)' },
    max: { kind: 'float', doc: 'opset < 11: upper bound (default: largest float)' },
    consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' },
  },
  inferTypes: sameAsInput(0),
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    const node = context.node;
    let low: number | bigint | undefined = node.optionalAttr('min', 'float');
    let high: number | bigint | undefined = node.optionalAttr('max', 'float');
    const minInput = optionalInputTensor(inputs, 1, context);
    const maxInput = optionalInputTensor(inputs, 2, context);
    if (minInput) low = scalarOf(minInput);
    if (maxInput) high = scalarOf(maxInput);
    for (const [name, bound] of [['min', low], ['max', high]] as const) {
      if (typeof bound === 'number' && Number.isNaN(bound) && (name === 'min' ? minInput : maxInput)!.size !== 1) {
        throw opError(node, `Clip's ${name} must be a scalar`, { actual: `shape [${(name === 'min' ? minInput : maxInput)!.shape.join(',')}]` });
      }
    }
    const cls = elementClassOf(x.dtype);
    const data = viewElements(x) as ArrayLike<number | bigint>;
    const out = allocateElements(x.dtype, x.size) as unknown as (number | bigint)[];
    if (cls === 'bigint') {
      const lo = low === undefined ? undefined : BigInt(low);
      const hi = high === undefined ? undefined : BigInt(high);
      for (let i = 0, end = x.size; i < end; i++) {
        let v = data[i] as bigint;
        if (lo !== undefined && v < lo) v = lo;
        if (hi !== undefined && v > hi) v = hi;
        out[i] = v;
      }
    } else {
      const lo = low === undefined ? -Infinity : Number(low);
      const hi = high === undefined ? Infinity : Number(high);
      for (let i = 0, end = x.size; i < end; i++) {
        const v = data[i] as number;
        out[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
    return [tensorFromElements(x.dtype, x.shape, out as unknown as ArrayLike<number>)];
  },
});
