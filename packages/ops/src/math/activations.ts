import type { CanonicalOp, KernelContext } from '../op-definition.js';
import { defineCanonicalOp } from '../op-definition.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { inputTensorType } from '../util/inference.js';
import { tensorType } from '@modelpass/ir';
import { defineUnaryOp, mapBinary, requireSameDType } from './elementwise.js';
import { erf } from './erf.js';
import { verifyPreluSlope } from '../verify/operand-shape-checks.js';

const legacy = { consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' } } as const;

function floatAttr(context: KernelContext, name: string, fallback: number): number {
  return context.node.attr(name, 'float', fallback);
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export const relu = defineUnaryOp({
  op: 'onnx.Relu',
  summary: 'Elementwise max(0, X)',
  attributes: legacy,
  functions: () => ({
    float: (x) => (x > 0 ? x : x === x ? 0 : x),
    floatArray: (data, out) => {
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        out[i] = x > 0 ? x : x === x ? 0 : x;
      }
    },
    int: (x) => (x > 0 ? x : 0), bigint: (x) => (x > 0n ? x : 0n) }),
});

export const leakyRelu = defineUnaryOp({
  op: 'onnx.LeakyRelu',
  summary: 'Elementwise X >= 0 ? X : alpha * X',
  attributes: { alpha: { kind: 'float', default: 0.01 }, ...legacy },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 0.01);
    return { float: (x) => (x >= 0 ? x : alpha * x) };
  },
});

export const elu = defineUnaryOp({
  op: 'onnx.Elu',
  summary: 'Elementwise X >= 0 ? X : alpha * (e^X - 1)',
  attributes: { alpha: { kind: 'float', default: 1 }, ...legacy },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 1);
    return { float: (x) => (x >= 0 ? x : alpha * Math.expm1(x)) };
  },
});

export const selu = defineUnaryOp({
  op: 'onnx.Selu',
  summary: 'Elementwise gamma * (X > 0 ? X : alpha * (e^X - 1))',
  attributes: {
    alpha: { kind: 'float', default: 1.6732631921768188 },
    gamma: { kind: 'float', default: 1.0507010221481323 },
    ...legacy,
  },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 1.6732631921768188);
    const gamma = floatAttr(context, 'gamma', 1.0507010221481323);
    return { float: (x) => (x > 0 ? gamma * x : gamma * alpha * Math.expm1(x)) };
  },
});

export const celu = defineUnaryOp({
  op: 'onnx.Celu',
  summary: 'Elementwise max(0, X) + min(0, alpha * (e^(X/alpha) - 1))',
  attributes: { alpha: { kind: 'float', default: 1 } },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 1);
    return { float: (x) => Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha)) };
  },
});

export const thresholdedRelu = defineUnaryOp({
  op: 'onnx.ThresholdedRelu',
  summary: 'Elementwise X > alpha ? X : 0',
  attributes: { alpha: { kind: 'float', default: 1 } },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 1);
    return { float: (x) => (x > alpha ? x : 0) };
  },
});

export const sigmoid = defineUnaryOp({
  op: 'onnx.Sigmoid',
  summary: 'Elementwise 1 / (1 + e^-X)',
  attributes: legacy,
  functions: () => ({
    float: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    floatArray: (data, out) => {
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        out[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
      }
    },
  }),
});

export const hardSigmoid = defineUnaryOp({
  op: 'onnx.HardSigmoid',
  summary: 'Elementwise max(0, min(1, alpha * X + beta))',
  attributes: { alpha: { kind: 'float', default: 0.2 }, beta: { kind: 'float', default: 0.5 }, ...legacy },
  functions: (context) => {
    const alpha = floatAttr(context, 'alpha', 0.2);
    const beta = floatAttr(context, 'beta', 0.5);
    return { float: (x) => Math.max(0, Math.min(1, Math.fround(Math.fround(alpha * x) + beta))) };
  },
});

export const hardSwish = defineUnaryOp({
  op: 'onnx.HardSwish',
  summary: 'Elementwise X * max(0, min(1, X / 6 + 0.5))',
  functions: () => ({ float: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)) }),
});

export const softplusOp = defineUnaryOp({ op: 'onnx.Softplus', summary: 'Elementwise log(1 + e^X)', functions: () => ({ float: softplus }) });
export const softsign = defineUnaryOp({ op: 'onnx.Softsign', summary: 'Elementwise X / (1 + |X|)', functions: () => ({ float: (x) => x / (1 + Math.abs(x)) }) });
export const mish = defineUnaryOp({ op: 'onnx.Mish', summary: 'Elementwise X * tanh(softplus(X))', functions: () => ({ float: (x) => x * Math.tanh(softplus(x)) }) });

export const gelu = defineUnaryOp({
  op: 'onnx.Gelu',
  summary: "Elementwise X * Phi(X); approximate='tanh' uses the tanh approximation",
  attributes: { approximate: { kind: 'string', default: 'none', oneOf: ['none', 'tanh'] } },
  functions: (context) => {
    const approximate = context.node.attr('approximate', 'string', 'none');
    if (approximate === 'tanh') {
      const k = Math.sqrt(2 / Math.PI);
      return { float: (x) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x))) };
    }
    if (approximate !== 'none') throw opError(context.node, `unknown Gelu approximation '${approximate}'`, { expected: "'none' or 'tanh'" });
    return { float: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)) };
  },
});

export const prelu = defineCanonicalOp({
  op: 'onnx.PRelu',
  summary: 'Elementwise X >= 0 ? X : slope * X, slope broadcast to X',
  inputs: [{ name: 'X' }, { name: 'slope' }],
  outputs: [{ name: 'Y' }],
  attributes: legacy,
  verify: verifyPreluSlope,
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    return [x ? tensorType(x.dtype, x.shape) : undefined];
  },
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    let slope = inputTensor(inputs, 1, context);
    requireSameDType([x, slope], context);
    // Opsets before 7 (and common exporters) give a per-channel slope [C] for X [N, C, ...].
    if (slope.rank === 1 && x.rank > 2 && slope.shape[0] === x.shape[1] && slope.shape[0] !== x.shape[x.rank - 1]) {
      slope = slope.reshape([slope.shape[0]!, ...new Array<number>(x.rank - 2).fill(1)]);
    }
    return [
      mapBinary(x, slope, {
        float: (a, s) => (a >= 0 ? a : a * s),
        floatRun: (out, o, a, ai, as, b, bi, bs, n) => {
          for (let i = 0; i < n; i++, ai += as, bi += bs) {
            const v = a[ai]!;
            out[o + i] = v >= 0 ? v : v * b[bi]!;
          }
        },
        int: (a, s) => (a >= 0 ? a : Math.imul(a, s)),
        bigint: (a, s) => (a >= 0n ? a : a * s),
      }, context),
    ];
  },
});

export const activationOps: readonly CanonicalOp[] = [
  relu, leakyRelu, prelu, elu, selu, celu, thresholdedRelu, sigmoid, hardSigmoid, hardSwish, softplusOp, softsign, gelu, mish,
];
