import { defineUnaryOp } from './elementwise.js';

/** Shrink: x < -lambd → x + bias; x > lambd → x - bias; otherwise 0 (numeric types; ints truncate). */
export const shrink = defineUnaryOp({
  op: 'onnx.Shrink',
  summary: 'Elementwise x < -lambd ? x + bias : x > lambd ? x - bias : 0',
  attributes: { lambd: { kind: 'float', default: 0.5 }, bias: { kind: 'float', default: 0 } },
  functions: (context) => {
    const lambd = context.node.attr('lambd', 'float', 0.5);
    const bias = context.node.attr('bias', 'float', 0);
    const float = (x: number) => (x < -lambd ? x + bias : x > lambd ? x - bias : 0);
    return {
      float,
      int: (x) => Math.trunc(float(x)),
      bigint: (x) => {
        const value = Number(x);
        return value < -lambd || value > lambd ? x + BigInt(Math.trunc(value < -lambd ? bias : -bias)) : 0n;
      },
    };
  },
});
