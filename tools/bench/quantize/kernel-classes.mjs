// Which kind of work each ORT profile node is, from the model ORT was given: Conv kernels by shape
// (1×1, depthwise, grouped, other k×k), the Mul of an activation x·σ(x) / x·hσ(x) (SiLU, HardSwish)
// against other Muls (the SE scale x·s[C]), and every other kernel by its op type. ORT renames what it
// rewrites: an int8 QLinearConv is `<Conv node>_token_N`, a float NCHWc Conv is `<output>_nchwc`,
// where the output may be that of an activation ORT fused into it; both are mapped back here.
import { readOnnx } from '@modelpass/onnx';

const FUSABLE_ACTIVATIONS = new Set(['onnx.Relu', 'onnx.Clip', 'onnx.HardSigmoid', 'onnx.Sigmoid', 'onnx.LeakyRelu', 'onnx.HardSwish']);
const GATES = new Set(['onnx.Sigmoid', 'onnx.HardSigmoid']);

/** The float value behind QuantizeLinear/DequantizeLinear (a QDQ model's weights and activations). */
function throughQdq(value) {
  while (value?.producer && (value.producer.op === 'onnx.DequantizeLinear' || value.producer.op === 'onnx.QuantizeLinear')) value = value.producer.inputs[0];
  return value;
}

function convKind(node) {
  const weight = throughQdq(node.inputs[1])?.constant;
  if (!weight || weight.rank < 3) return 'Conv (other)';
  const group = node.optionalAttr('group', 'int') ?? 1;
  const kernel = weight.shape.slice(2);
  if (group > 1) return weight.shape[1] === 1 ? 'Conv depthwise' : 'Conv grouped';
  return kernel.every((k) => k === 1) ? 'Conv 1×1' : `Conv ${kernel.join('×')}`;
}

/** `x · gate(x)`: a Mul reading a value and a Sigmoid/HardSigmoid of that same value (quantize-static writes an int8 HardSigmoid as an Add of a constant, hard-sigmoid-as-add.ts). */
function isActivationMul(node) {
  const [a, b] = node.inputs.map(throughQdq);
  const gateOf = (gate, x) => gate?.producer && (GATES.has(gate.producer.op) || gate.producer.op === 'onnx.Add') && gate.producer.inputs.some((input) => throughQdq(input) === x);
  return !!a && !!b && (gateOf(b, a) || gateOf(a, b));
}

/** A function from an ORT profile node name to its class, for the model at `path`. */
export function kernelClassifier(path) {
  const byName = new Map();
  for (const node of readOnnx(path).graph.nodes()) {
    if (node.op === 'onnx.Conv') {
      const kind = convKind(node);
      byName.set(node.name, kind);
      const output = node.output(0);
      byName.set(output.name, kind);
      const readers = [...output.uses].map((use) => use.node).filter(Boolean);
      if (readers.length === 1 && FUSABLE_ACTIVATIONS.has(readers[0].op)) byName.set(readers[0].output(0).name, kind);
    } else if (node.op === 'onnx.Mul') {
      byName.set(node.name, isActivationMul(node) ? 'Mul x·σ(x) (SiLU/HardSwish)' : 'Mul (other, e.g. SE scale)');
    }
  }
  return (name, op) => {
    const base = name.replace(/_token_\d+$/, '').replace(/_nchwc$/, '');
    const known = byName.get(base);
    if (!known) return op;
    if (/Conv/.test(op) || op === 'FusedConv') return known.startsWith('Conv') ? `${known} (${op})` : op;
    if (/Mul/.test(op)) return `${known} (${op})`;
    return op;
  };
}
