/** Elementwise ops (arithmetic, comparisons, activations, Clip, Cast) as one `torch.*` call each. */
import { isTensorType, type Value } from '@modelpass/ir';
import { pyFloat, type OpEmitter } from './emit-context.js';
import { input } from './emit-operands.js';

function isIntegral(value: Value): boolean {
  return isTensorType(value.type) && /^u?int/.test(value.type.dtype);
}

export function unary(call: string): OpEmitter {
  return (e, node) => e.assign(node, `${call}(${input(e, node)})`);
}
export function binary(call: string, minimumVersion = 3): OpEmitter {
  return (e, node) => {
    e.minimumVersion = Math.max(e.minimumVersion, minimumVersion);
    e.assign(node, `${call}(${input(e, node)}, ${input(e, node, 1)})`);
  };
}

/** PRelu: the slope broadcasts as ONNX says ([C, 1, 1] from torch's export), so a where, not torch.prelu (1-D weights at dim 1). */
const prelu: OpEmitter = (e, node) => {
  const x = input(e, node);
  e.assign(node, `torch.where(torch.lt(${x}, 0.), torch.mul(${x}, ${input(e, node, 1)}), ${x})`);
};

const clip: OpEmitter = (e, node) => {
  if (e.onnxOpset < 11) {
    // Clip-6: the bounds are the min/max attributes (absent: no bound).
    const low = node.optionalAttr('min', 'float');
    const high = node.optionalAttr('max', 'float');
    if (low === undefined && high === undefined) e.bind(node.output(0), input(e, node));
    else e.assign(node, `torch.clamp(${input(e, node)}, ${low === undefined ? 'None' : pyFloat(low)}, ${high === undefined ? 'None' : pyFloat(high)})`);
    return;
  }
  const bound = (index: number): string => {
    const value = node.inputs[index] ?? null;
    if (!value) return 'None';
    const known = e.constantNumber(value);
    return known === undefined ? e.fail(node, 'computed bounds') : pyFloat(known);
  };
  const [low, high] = [bound(1), bound(2)];
  // No bound at all is the identity (torch.clamp refuses two Nones).
  if (low === 'None' && high === 'None') e.bind(node.output(0), input(e, node));
  else e.assign(node, `torch.clamp(${input(e, node)}, ${low}, ${high})`);
};

const hardSigmoid: OpEmitter = (e, node) => {
  const alpha = node.attr('alpha', 'float', 0.2);
  const beta = node.attr('beta', 'float', 0.5);
  if (Math.abs(alpha - 1 / 6) < 1e-7 && beta === 0.5) e.assign(node, `torch.hardsigmoid(${input(e, node)})`);
  else e.assign(node, `torch.clamp(torch.add(torch.mul(${input(e, node)}, ${pyFloat(alpha)}), ${pyFloat(beta)}), 0., 1.)`);
};

/** ONNX dtype code → torch ScalarType code (the loader's source takes dtypes as ints). */
const TORCH_DTYPES: Readonly<Record<number, number>> = { 1: 6, 11: 7, 10: 5, 7: 4, 6: 3, 9: 11, 3: 1, 2: 0 };

const cast: OpEmitter = (e, node) => {
  const dtype = TORCH_DTYPES[node.attr('to', 'int')];
  if (dtype === undefined) e.fail(node, `cast to ONNX dtype ${node.attr('to', 'int')}`);
  e.assign(node, `torch.to(${input(e, node)}, ${dtype}, False, False, None)`);
};

export const elementwiseEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Where', (e, node) => e.assign(node, `torch.where(${input(e, node)}, ${input(e, node, 1)}, ${input(e, node, 2)})`)],
  ['onnx.Mod', (e, node) => {
    // fmod=0 takes the divisor's sign (Python's %, torch.remainder); fmod=1 the dividend's (C's fmod).
    e.assign(node, `torch.${node.attr('fmod', 'int', 0) === 1 ? 'fmod' : 'remainder'}(${input(e, node)}, ${input(e, node, 1)})`);
  }],
  ['onnx.LeakyRelu', (e, node) => e.assign(node, `torch.leaky_relu(${input(e, node)}, ${pyFloat(node.attr('alpha', 'float', 0.01))})`)],
  ['onnx.Elu', (e, node) => e.assign(node, `torch.elu(${input(e, node)}, ${pyFloat(node.attr('alpha', 'float', 1))})`)],
  // torch's softplus returns x above its threshold of 20, where log(1 + e^x) differs from x by under 2.1e-9.
  ['onnx.Softplus', unary('torch.softplus')],
  ['onnx.Add', binary('torch.add')],
  ['onnx.Sub', binary('torch.sub')],
  ['onnx.Mul', binary('torch.mul')],
  ['onnx.Div', (e, node) => {
    e.minimumVersion = Math.max(e.minimumVersion, 4);
    const integral = isIntegral(node.output(0));
    e.assign(node, `torch.div(${input(e, node)}, ${input(e, node, 1)}${integral ? ', rounding_mode="trunc"' : ''})`);
  }],
  ['onnx.Pow', binary('torch.pow')],
  ['onnx.Equal', binary('torch.eq')],
  ['onnx.Less', binary('torch.lt')],
  ['onnx.Greater', binary('torch.gt')],
  ['onnx.Relu', unary('torch.relu')],
  ['onnx.Sigmoid', unary('torch.sigmoid')],
  ['onnx.Tanh', unary('torch.tanh')],
  ['onnx.Exp', unary('torch.exp')],
  ['onnx.Log', unary('torch.log')],
  ['onnx.Sqrt', unary('torch.sqrt')],
  ['onnx.Neg', unary('torch.neg')],
  ['onnx.Abs', unary('torch.abs')],
  ['onnx.Erf', unary('torch.erf')],
  ['onnx.Floor', unary('torch.floor')],
  // torch.round rounds half to even, as ONNX's Round does.
  ['onnx.Round', unary('torch.round')],
  ['onnx.Reciprocal', unary('torch.reciprocal')],
  ['onnx.Not', unary('torch.logical_not')],
  // And/Or/Xor take bool tensors in ONNX and broadcast as torch's logical_* do.
  ['onnx.And', binary('torch.logical_and')],
  ['onnx.Or', binary('torch.logical_or')],
  ['onnx.Xor', binary('torch.logical_xor')],
  ['onnx.HardSwish', unary('torch.hardswish')],
  ['onnx.HardSigmoid', hardSigmoid],
  ['onnx.Clip', clip],
  ['onnx.PRelu', prelu],
  ['onnx.Sign', unary('torch.sign')],
  ['onnx.Cast', cast],
];
