import { describe, expect, it } from 'vitest';
import { parseModel, printModel } from '@modelpass/ir';

/** A chain of `count` nodes written as text directly (no recursion in the parser for long graphs). */
function chainText(count: number): string {
  const lines = ['model opsets{onnx=17} {', 'graph @main(%v0: float32[N,8]) {'];
  for (let i = 1; i <= count; i++) lines.push(`  %v${i}: float32[N,8] = onnx.Relu(%v${i - 1}) name="n${i}"`);
  lines.push(`  return %v${count}`, '}', '}', '');
  return lines.join('\n');
}

describe('textual IR on long graphs', () => {
  it('parses and prints a 100k-node chain without deep recursion', () => {
    const text = chainText(100_000);
    const model = parseModel(text);
    expect(model.graph.nodeCount).toBe(100_000);
    expect(model.graph.outputs[0]!.name).toBe('v100000');
    expect(printModel(model)).toBe(text);
  });

  it('parses deeply nested subgraphs', () => {
    const depth = 50;
    let body = '    return %x';
    for (let d = depth; d >= 1; d--) {
      body = `    %y${d} = onnx.If(%c) {then_branch=graph @g${d}() {\n${body}\n  }} name="if${d}"\n    return %y${d}`;
    }
    const text = `graph @main(%c: bool[], %x: float32[]) {\n${body}\n}`;
    const model = parseModel(text);
    let graph = model.graph;
    for (let d = 1; d <= depth; d++) graph = graph.firstNode!.attr('then_branch', 'graph');
    expect(graph.outputs[0]!.name).toBe('x');
    expect(graph.outputs[0]).toBe(model.graph.inputs[1]);
  });
});
