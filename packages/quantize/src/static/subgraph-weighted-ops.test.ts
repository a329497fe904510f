import { describe, expect, it } from 'vitest';
import { attrs, Graph, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';
import { describeSubgraphWeightedOps, weightedOpsInSubgraphs } from './subgraph-weighted-ops.js';

function weight(seed: number, shape: number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 0.3));
}

/** silero VAD v5's shape: every Conv inside the branches of an If on a run-time flag; `mainConv` adds one outside. */
function modelWithConvsInBranches(mainConv: boolean): Model {
  const b = new GraphBuilder();
  const flag = b.input('flag', tensorType('bool', []));
  let x: Value = b.input('x', tensorType('float32', [1, 8, 8, 8]));
  if (mainConv) x = b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, b.constant(weight(3, [8, 8, 3, 3]), 'w_main')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'main_conv' })]);
  const branch = (name: string, seed: number): Graph => {
    const graph = new Graph(name);
    const g = new GraphBuilder(graph);
    const conv = g.op1('onnx.Conv', [x, g.constant(weight(seed, [8, 8, 1, 1]), `w_${name}`)], {}, { outputs: [`${name}_out`] });
    g.output(g.op1('onnx.Relu', [conv], {}, { outputs: [`${name}_relu`] }));
    return graph;
  };
  const out = b.op1('onnx.If', [flag], { then_branch: attrs.graph(branch('then', 1)), else_branch: attrs.graph(branch('else', 2)) }, { outputs: ['y'], name: 'If_0' });
  b.output(out);
  return b.model();
}

async function warningsOf(model: Model): Promise<string[]> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  const warnings: string[] = [];
  await new PassManager({ environment, onDiagnostic: (d) => void warnings.push(`${d.reason}${d.hint ? ` | hint: ${d.hint}` : ''}`) }).run(model, 'quantize-static{samples=4}');
  return warnings;
}

describe('weighted ops inside If/Loop bodies', () => {
  it('are counted and their holders named', () => {
    const found = weightedOpsInSubgraphs(modelWithConvsInBranches(false));
    expect(found.count).toBe(2);
    expect(found.holders.map((node) => node.name)).toEqual(['If_0']);
    expect(describeSubgraphWeightedOps(found)).toBe("2 Conv/MatMul/Gemm node(s) inside the subgraphs of If 'If_0'");
    expect(describeSubgraphWeightedOps(weightedOpsInSubgraphs(modelWithConvsInBranches(true)))).toBe("2 Conv/MatMul/Gemm node(s) inside the subgraphs of If 'If_0'");
  });

  it('quantize-static with all Convs in branches says they stay float32 because it does not enter If/Loop bodies (not "no Conv")', async () => {
    const warnings = await warningsOf(modelWithConvsInBranches(false));
    const warning = warnings.find((w) => w.includes('nothing to quantize'));
    expect(warning).toMatch(/nothing to quantize in the main graph; 2 Conv\/MatMul\/Gemm node\(s\) inside the subgraphs of If 'If_0' stay float32: quantize-static does not enter If\/Loop bodies/);
    expect(warning).toContain('hint: calibration reads activations as graph outputs');
    expect(warnings.some((w) => w.includes('no Conv/MatMul/Gemm with float32 constant weights'))).toBe(false);
  });

  it('quantize-static that quantizes the main graph still names the ops it left inside the If', async () => {
    const model = modelWithConvsInBranches(true);
    const warnings = await warningsOf(model);
    expect(warnings.some((w) => w.startsWith("quantize-static leaves 2 Conv/MatMul/Gemm node(s) inside the subgraphs of If 'If_0' float32"))).toBe(true);
    expect([...model.graph.nodesOf('onnx.QuantizeLinear', 'onnx.DequantizeLinear')].length).toBeGreaterThan(0);
  });
});
