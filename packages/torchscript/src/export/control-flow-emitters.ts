/**
 * ONNX If / Loop written as TorchScript `if` / `while` blocks. If: each branch's nodes inside its
 * block, then the If's outputs assigned from the branch outputs (TorchScript keeps a name bound in
 * both branches). Loop: the carried values live in the Loop's output names, the trip count and
 * condition in locals; each iteration binds the body's inputs (iteration number and condition as
 * tensors, only when read), runs the body, and reassigns all carried values at once. Scan outputs
 * are not written yet.
 */
import type { Graph, Node, Value } from '@modelpass/ir';
import type { EmitContext, OpEmitter } from './emit-context.js';

export type NodeEmitter = (e: EmitContext, node: Node) => void;

function emitGraph(e: EmitContext, graph: Graph, emitNode: NodeEmitter): void {
  const before = e.lines.length;
  for (const node of graph.nodes()) emitNode(e, node);
  if (e.lines.length === before) e.line('pass');
}

function block(e: EmitContext, write: () => void): void {
  e.depth++;
  try {
    write();
  } finally {
    e.depth--;
  }
}

export function ifEmitter(emitNode: NodeEmitter): OpEmitter {
  return (e, node) => {
    const thenBranch = node.attr('then_branch', 'graph');
    const elseBranch = node.attr('else_branch', 'graph');
    const outputs = node.outputs.map((output) => (output ? e.name(output) : null));
    const branch = (graph: Graph): void =>
      block(e, () => {
        emitGraph(e, graph, emitNode);
        graph.outputs.forEach((value, i) => {
          if (outputs[i]) e.line(`${outputs[i]} = ${e.name(value)}`);
        });
      });
    e.line(`if bool(${e.name(node.inputs[0] ?? null)}):`);
    branch(thenBranch);
    e.line('else:');
    branch(elseBranch);
  };
}

export function loopEmitter(emitNode: NodeEmitter): OpEmitter {
  return (e, node) => {
    const body = node.attr('body', 'graph');
    const carriedCount = node.inputs.length - 2;
    if (body.outputs.length - 1 > carriedCount) e.fail(node, 'scan outputs (per-iteration outputs stacked by the Loop)');
    const [tripCount, condition] = [node.inputs[0] ?? null, node.inputs[1] ?? null];
    const base = `${e.name(node.outputs.find((o) => o) ?? null)}_loop`;
    const trips = `${base}_trips`;
    const go = `${base}_go`;
    const counter = `${base}_i`;
    if (tripCount) e.line(`${trips} = int(${e.name(tripCount)})`);
    e.line(`${go} = ${condition ? `bool(${e.name(condition)})` : 'True'}`);
    e.line(`${counter} = 0`);
    // The carried values are the Loop's outputs: one name from the initial value to the last iteration.
    const carried = Array.from({ length: carriedCount }, (_, k) => {
      const output: Value | null = node.outputs[k] ?? null;
      const name = output ? e.name(output) : `${base}_carried${k}`;
      e.line(`${name} = ${e.name(node.inputs[2 + k] ?? null)}`);
      const input = body.inputs[2 + k];
      if (input) e.bind(input, name);
      return name;
    });
    e.line(`while ${go}${tripCount ? ` and ${counter} < ${trips}` : ''}:`);
    block(e, () => {
      const [iteration, conditionIn] = [body.inputs[0], body.inputs[1]];
      if (iteration?.hasUses) e.line(`${e.name(iteration)} = torch.tensor(${counter})`);
      if (conditionIn?.hasUses || body.outputs.includes(conditionIn!)) e.line(`${e.name(conditionIn!)} = torch.tensor(${go})`);
      for (const inner of body.nodes()) emitNode(e, inner);
      const [conditionOut, ...next] = body.outputs;
      const targets = [go, ...carried, counter];
      const values = [`bool(${e.name(conditionOut ?? null)})`, ...next.map((value) => e.name(value)), `${counter} + 1`];
      e.line(`${targets.join(', ')} = ${values.join(', ')}`);
    });
  };
}
