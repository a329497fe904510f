/**
 * How each layer kind turns calibration activations into least-squares rows, and a solution back
 * into weights: a table by op. Conv (2-D, any group count: one system per group, im2col rows, a bias
 * column), Gemm (one row per sample, a bias column; alpha/beta folded to 1), MatMul (rows over the
 * leading dims, no bias).
 */
import { attrs, Builder, ModelpassError, Tensor, type Node } from '@modelpass/ir';
import { NormalEquations } from './least-squares.js';

export interface LayerFit {
  /** One system per convolution group. */
  systems(node: Node): NormalEquations[];
  /** Adds the rows of one batch: `x` the layer's (pruned) input, `y` its target output channels. */
  addBatch(node: Node, systems: NormalEquations[], x: Tensor, y: Float32Array, yShape: readonly number[]): void;
  /** The layer's present weights as solutions of its systems. */
  current(node: Node): Float64Array[];
  /** Writes solutions into the layer's weights (and bias). */
  write(node: Node, solutions: readonly Float64Array[]): void;
}

function fitError(node: Node, reason: string): ModelpassError {
  return new ModelpassError({ reason: `reconstruct: ${node.opType} '${node.name}' ${reason}`, location: { node: node.name, op: node.op }, source: '@modelpass/prune', code: 'prune/reconstruct' });
}

function ints(node: Node, name: string, fallback: number[]): number[] {
  return node.optionalAttr(name, 'ints')?.map(Number) ?? fallback;
}

interface ConvGeometry {
  readonly groups: number;
  readonly outChannels: number;
  readonly perGroupIn: number;
  readonly kh: number;
  readonly kw: number;
  readonly strides: number[];
  readonly pads: number[];
  readonly dilations: number[];
}

function convGeometry(node: Node): ConvGeometry {
  const weight = node.input(1).constant;
  if (!weight || weight.rank !== 4) throw fitError(node, 'is not a 2-D convolution with constant weights');
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw fitError(node, `uses auto_pad=${autoPad}; only explicit pads are supported`);
  return {
    groups: node.optionalAttr('group', 'int') ?? 1,
    outChannels: weight.shape[0]!,
    perGroupIn: weight.shape[1]!,
    kh: weight.shape[2]!,
    kw: weight.shape[3]!,
    strides: ints(node, 'strides', [1, 1]),
    pads: autoPad === 'VALID' ? [0, 0, 0, 0] : ints(node, 'pads', [0, 0, 0, 0]),
    dilations: ints(node, 'dilations', [1, 1]),
  };
}

const conv: LayerFit = {
  systems(node) {
    const g = convGeometry(node);
    return Array.from({ length: g.groups }, () => new NormalEquations(g.perGroupIn * g.kh * g.kw + 1, g.outChannels / g.groups));
  },
  addBatch(node, systems, x, y, yShape) {
    const g = convGeometry(node);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const [, , oh, ow] = yShape as [number, number, number, number];
    const data = x.dtype === 'float32' ? (x.data() as Float32Array) : Float32Array.from(x.toNumbers());
    const perGroupOut = g.outChannels / g.groups;
    const d = g.perGroupIn * g.kh * g.kw;
    const features = new Float64Array(d + 1);
    const targets = new Float64Array(perGroupOut);
    for (let group = 0; group < g.groups; group++) {
      const system = systems[group]!;
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            let f = 0;
            for (let ci = 0; ci < g.perGroupIn; ci++) {
              const base = (b * c + group * g.perGroupIn + ci) * h * w;
              for (let ky = 0; ky < g.kh; ky++) {
                const iy = oy * g.strides[0]! - g.pads[0]! + ky * g.dilations[0]!;
                for (let kx = 0; kx < g.kw; kx++) {
                  const ix = ox * g.strides[1]! - g.pads[1]! + kx * g.dilations[1]!;
                  features[f++] = iy >= 0 && iy < h && ix >= 0 && ix < w ? data[base + iy * w + ix]! : 0;
                }
              }
            }
            features[d] = 1;
            for (let o = 0; o < perGroupOut; o++) targets[o] = y[((b * g.outChannels + group * perGroupOut + o) * oh + oy) * ow + ox]!;
            system.addRow(features, targets);
          }
        }
      }
    }
  },
  current(node) {
    const g = convGeometry(node);
    const weight = node.input(1).constant!.toNumbers();
    const bias = node.inputs[2]?.constant?.toNumbers();
    const perGroupOut = g.outChannels / g.groups;
    const d = g.perGroupIn * g.kh * g.kw;
    return Array.from({ length: g.groups }, (_, group) => {
      const w = new Float64Array((d + 1) * perGroupOut);
      for (let o = 0; o < perGroupOut; o++) {
        const row = group * perGroupOut + o;
        for (let i = 0; i < d; i++) w[i * perGroupOut + o] = weight[row * d + i]!;
        w[d * perGroupOut + o] = bias?.[row] ?? 0;
      }
      return w;
    });
  },
  write(node, solutions) {
    const g = convGeometry(node);
    const perGroupOut = g.outChannels / g.groups;
    const d = g.perGroupIn * g.kh * g.kw;
    const weight = new Float32Array(g.outChannels * d);
    const bias = new Float32Array(g.outChannels);
    solutions.forEach((w, group) => {
      for (let o = 0; o < perGroupOut; o++) {
        const row = group * perGroupOut + o;
        for (let i = 0; i < d; i++) weight[row * d + i] = w[i * perGroupOut + o]!;
        bias[row] = w[d * perGroupOut + o]!;
      }
    });
    replaceOperand(node, 1, Tensor.fromValues('float32', [g.outChannels, g.perGroupIn, g.kh, g.kw], weight));
    replaceOperand(node, 2, Tensor.fromValues('float32', [g.outChannels], bias));
  },
};

/** Sets a constant operand (adding it when the optional input is absent). */
function replaceOperand(node: Node, index: number, tensor: Tensor): void {
  const value = node.inputs[index];
  if (value?.constant && value.useCount === 1 && !value.isGraphInput && !value.isGraphOutput) {
    value.setConstant(tensor);
    return;
  }
  const fresh = Builder.before(node).constant(tensor, value?.name ?? `${node.name}_bias`);
  if (index < node.inputs.length) node.setInput(index, fresh);
  else {
    while (node.inputs.length < index) node.addInput(null);
    node.addInput(fresh);
  }
  if (value?.constant && !value.hasUses) node.graph?.removeConstant(value);
}

function gemmShape(node: Node): { features: number; outputs: number; transB: boolean } {
  const weight = node.input(1).constant;
  if (!weight || weight.rank !== 2 || (node.optionalAttr('transA', 'int') ?? 0) !== 0) throw fitError(node, 'needs constant 2-D weights and transA=0');
  const transB = (node.optionalAttr('transB', 'int') ?? 0) === 1;
  return { features: weight.shape[transB ? 1 : 0]!, outputs: weight.shape[transB ? 0 : 1]!, transB };
}

/** Rows of a [.., F] input and [.., O] target: one row per leading index. */
function addMatrixRows(system: NormalEquations, x: Tensor, y: Float32Array, outputs: number, bias: boolean): void {
  const data = x.dtype === 'float32' ? (x.data() as Float32Array) : Float32Array.from(x.toNumbers());
  const features = x.shape[x.rank - 1]!;
  const rows = data.length / features;
  const row = new Float64Array(features + (bias ? 1 : 0));
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < features; i++) row[i] = data[r * features + i]!;
    if (bias) row[features] = 1;
    system.addRow(row, y.subarray(r * outputs, (r + 1) * outputs));
  }
}

const gemm: LayerFit = {
  systems(node) {
    const s = gemmShape(node);
    return [new NormalEquations(s.features + 1, s.outputs)];
  },
  addBatch(node, systems, x, y) {
    addMatrixRows(systems[0]!, x, y, gemmShape(node).outputs, true);
  },
  current(node) {
    const s = gemmShape(node);
    const alpha = node.optionalAttr('alpha', 'float') ?? 1;
    const beta = node.optionalAttr('beta', 'float') ?? 1;
    const weight = node.input(1).constant!.toNumbers();
    const bias = node.inputs[2]?.constant;
    const biasValues = bias?.toNumbers();
    const w = new Float64Array((s.features + 1) * s.outputs);
    for (let i = 0; i < s.features; i++) for (let o = 0; o < s.outputs; o++) w[i * s.outputs + o] = alpha * weight[s.transB ? o * s.features + i : i * s.outputs + o]!;
    for (let o = 0; o < s.outputs; o++) w[s.features * s.outputs + o] = beta * (biasValues ? (biasValues.length === 1 ? biasValues[0]! : biasValues[o]!) : 0);
    return [w];
  },
  write(node, [w]) {
    const s = gemmShape(node);
    const weight = new Float32Array(s.features * s.outputs);
    for (let i = 0; i < s.features; i++) for (let o = 0; o < s.outputs; o++) weight[s.transB ? o * s.features + i : i * s.outputs + o] = w![i * s.outputs + o]!;
    const bias = Float32Array.from({ length: s.outputs }, (_, o) => w![s.features * s.outputs + o]!);
    replaceOperand(node, 1, Tensor.fromValues('float32', s.transB ? [s.outputs, s.features] : [s.features, s.outputs], weight));
    replaceOperand(node, 2, Tensor.fromValues('float32', [s.outputs], bias));
    node.setAttribute('alpha', attrs.float(1));
    node.setAttribute('beta', attrs.float(1));
  },
};

const matMul: LayerFit = {
  systems(node) {
    const weight = node.input(1).constant;
    if (!weight || weight.rank !== 2) throw fitError(node, 'needs a constant 2-D weight');
    return [new NormalEquations(weight.shape[0]!, weight.shape[1]!)];
  },
  addBatch(node, systems, x, y) {
    addMatrixRows(systems[0]!, x, y, node.input(1).constant!.shape[1]!, false);
  },
  current(node) {
    return [Float64Array.from(node.input(1).constant!.toNumbers())];
  },
  write(node, [w]) {
    const shape = node.input(1).constant!.shape;
    replaceOperand(node, 1, Tensor.fromValues('float32', shape, Float32Array.from(w!)));
  },
};

export const LAYER_FITS: ReadonlyMap<string, LayerFit> = new Map([
  ['onnx.Conv', conv],
  ['onnx.Gemm', gemm],
  ['onnx.MatMul', matMul],
]);
