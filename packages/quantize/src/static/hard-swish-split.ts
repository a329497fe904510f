/**
 * HardSwish (opset 14) between quantized ops, spelled `x · HardSigmoid(x)` before planning.
 *
 * ORT has no integer HardSwish: left as it is, a HardSwish between two quantized convs runs as
 * `DQ → HardSwish → Q`, three float kernels. Spelled `Mul(x, HardSigmoid(x))` (ONNX defines
 * HardSwish as exactly that, with α = 1/6, β = 0.5), the Mul is quantized like any other (QLinearMul)
 * and the HardSigmoid becomes a QLinearAdd after lowering (hard-sigmoid-as-add.ts): two integer
 * kernels, as for models exported at opset 13, where torch already writes HardSigmoid + Mul.
 *
 * Only a HardSwish whose input a quantized op produces (the first plan says which) and whose output an
 * op with a quantization rule reads is split: elsewhere one float HardSwish is cheaper than a float
 * HardSigmoid and a float Mul. The HardSwish's output name stays on the Mul (calibration, the report and readers see
 * the same value); the HardSigmoid's output gets a new name.
 */
import { attrs, type Graph, type Node } from '@modelpass/ir';
import { OP_RULES } from './op-rules.js';

export interface SplitHardSwish {
  readonly node: string;
}

/** HardSwish's α and β (ONNX HardSwish-14: HardSigmoid with these, times x). */
const HARD_SWISH_ALPHA = 1 / 6;
const HARD_SWISH_BETA = 0.5;

export function splitHardSwishes(graph: Graph, isQuantized: (node: Node) => boolean): SplitHardSwish[] {
  const split: SplitHardSwish[] = [];
  for (const node of [...graph.nodesOf('onnx.HardSwish')]) {
    const input = node.inputs[0];
    const output = node.output(0);
    if (!input || !input.producer || !isQuantized(input.producer) || output.isGraphOutput) continue;
    // A reader the plan can quantize once the HardSwish is split (in the first plan, an SE block's
    // GlobalAveragePool/Mul after a float HardSwish are pruned for lack of a quantized input).
    if (![...output.uses].some((use) => !!use.node && (isQuantized(use.node) || OP_RULES.has(use.node.op)))) continue;
    const gate = graph.createNode({
      op: 'onnx.HardSigmoid',
      name: graph.uniqueNodeName(`${node.name}/gate`),
      inputs: [input],
      outputs: [{ name: graph.uniqueName(`${output.name}_gate`), type: output.type }],
      attributes: { alpha: attrs.float(HARD_SWISH_ALPHA), beta: attrs.float(HARD_SWISH_BETA) },
      before: node,
    });
    const mul = graph.createNode({
      op: 'onnx.Mul',
      name: graph.uniqueNodeName(`${node.name}/mul`),
      inputs: [input, gate.output(0)],
      outputs: [{ name: graph.uniqueName(`${output.name}_product`), type: output.type }],
      before: node,
    });
    const name = output.name;
    output.replaceAllUsesWith(mul.output(0));
    node.erase();
    mul.output(0).rename(name);
    split.push({ node: node.name });
  }
  return split;
}
