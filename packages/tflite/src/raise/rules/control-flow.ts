/**
 * TFLite WHILE and IF → ONNX Loop and If. Their regions are raised first (raise.ts raises each one
 * as a model of its own), so here only the structure changes:
 * - WHILE(state) with cond C and body B → Loop(M absent, C(state), state) whose body takes
 *   (iteration, cond, state…) and returns (C(B(state)), B(state)…): the condition is computed once
 *   before the loop and again at the end of each iteration;
 * - IF(cond, operands…) with then/else regions → If(cond) whose branches read the operands from the
 *   enclosing graph (ONNX branches capture; TFLite regions take inputs).
 */
import { attrs, tensorType, type Graph, type Node, type Value } from '@modelpass/ir';
import { replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

function region(node: Node, name: string): Graph {
  return node.attr(name, 'graph');
}

/**
 * Copies the nodes of `source` (a region without nested regions) to the end of `target` with its
 * inputs bound to `bindings` (before `anchor` when given); returns the values of its outputs.
 */
function copyInto(target: Graph, source: Graph, bindings: readonly Value[], tag: string, anchor?: Node): Value[] {
  const map = new Map<Value, Value>();
  source.inputs.forEach((input, index) => map.set(input, bindings[index]!));
  for (const constant of source.constants) if (!map.has(constant)) map.set(constant, target.addConstant(target.uniqueName(`${tag}_${constant.name}`), constant.constant!));
  const resolve = (value: Value): Value => map.get(value) ?? value;
  for (const node of source.nodes()) {
    const copy = target.createNode({
      op: node.op,
      name: target.uniqueNodeName(`${tag}_${node.name}`),
      inputs: node.inputs.map((value) => (value ? resolve(value) : null)),
      outputs: node.outputs.map((value) => (value ? { name: target.uniqueName(`${tag}_${value.name}`), type: value.type } : null)),
      attributes: node.attributes,
      loc: node.location,
      ...(anchor ? { before: anchor } : {}),
    });
    node.outputs.forEach((value, index) => {
      if (value) map.set(value, copy.outputs[index]!);
    });
  }
  return source.outputs.map(resolve);
}

function nestedRegions(graph: Graph): boolean {
  return graph.nodeList().some((node) => node.subgraphs.length > 0);
}

const whileLoop: RaiseRule = {
  ops: ['tflite.WHILE'],
  targets: ['Loop'],
  check(node) {
    const cond = node.getAttribute('cond_subgraph');
    const body = node.getAttribute('body_subgraph');
    if (cond?.kind !== 'graph' || body?.kind !== 'graph') return 'WHILE needs its cond and body subgraphs';
    if (nestedRegions(cond.value)) return 'a WHILE condition holding control flow of its own is not raised (it is copied into the loop body)';
    if (node.inputs.some((value) => !value)) return 'WHILE has an absent operand';
    if (cond.value.outputs.length !== 1) return 'the WHILE condition must give one bool';
    // TFLite's WHILE kernel checks these arities at prepare; a file pointing body_subgraph_index at the
    // condition (QA s15 round 8) otherwise raised into a Loop the verifier took apart, as a pass bug.
    const carried = node.inputs.length;
    const arity = (graph: Graph) => `${graph.inputs.length} value(s) in and ${graph.outputs.length} out`;
    if (cond.value.inputs.length !== carried) return `the WHILE condition takes ${cond.value.inputs.length} value(s), but the loop carries ${carried}`;
    if (body.value.inputs.length !== carried || body.value.outputs.length !== carried) return `the WHILE body has ${arity(body.value)}, but the loop carries ${carried}`;
    if (node.outputs.length !== carried) return `WHILE gives ${node.outputs.length} value(s), but the loop carries ${carried}`;
    return undefined;
  },
  raise(node) {
    const cond = region(node, 'cond_subgraph');
    const body = region(node, 'body_subgraph');
    const state = node.inputs.map((value) => value!);
    const [initial] = copyInto(node.graph!, cond, state, `${node.name}_cond_init`, node);
    node.removeAttribute('cond_subgraph');
    node.removeAttribute('body_subgraph');
    // The body's inputs become (iteration, cond, state…), in the order ONNX gives them.
    const previous = [...body.inputs];
    body.addInput(body.uniqueName(`${node.name}_iteration`), tensorType('int64', []));
    body.addInput(body.uniqueName(`${node.name}_cond_in`), tensorType('bool', []));
    const fresh = previous.map((input) => body.addInput(body.uniqueName(`${input.name}_in`), input.type));
    previous.forEach((input, k) => {
      input.replaceUsesWith(fresh[k]!, () => true);
      body.removeInput(input);
    });
    const next = [...body.outputs];
    const [again] = copyInto(body, cond, next, `${node.name}_cond`);
    body.setOutputs([again!, ...next]);
    const loop = node.graph!.createNode({
      op: 'onnx.Loop',
      name: node.graph!.uniqueNodeName(`${node.name}_loop`),
      inputs: [null, initial!, ...state],
      outputs: node.outputs.map((output) => ({ name: node.graph!.uniqueName(`${output?.name ?? node.name}_raised`), type: output!.type })),
      attributes: { body: attrs.graph(body) },
      loc: node.location,
      before: node,
    });
    replaceRaised(node, loop.outputs);
  },
};

const ifElse: RaiseRule = {
  ops: ['tflite.IF'],
  targets: ['If'],
  check(node) {
    const thenBranch = node.getAttribute('then_subgraph');
    const elseBranch = node.getAttribute('else_subgraph');
    if (thenBranch?.kind !== 'graph' || elseBranch?.kind !== 'graph') return 'IF needs its then and else subgraphs';
    if (node.inputs.some((value) => !value)) return 'IF has an absent operand';
    return undefined;
  },
  raise(node) {
    const operands = node.inputs.slice(1).map((value) => value!);
    const branches = [region(node, 'then_subgraph'), region(node, 'else_subgraph')] as const;
    node.removeAttribute('then_subgraph');
    node.removeAttribute('else_subgraph');
    for (const branch of branches) {
      for (const [k, input] of [...branch.inputs].entries()) {
        input.replaceUsesWith(operands[k]!, () => true);
        branch.removeInput(input);
      }
      // A branch output that is now a value of the enclosing graph gets an Identity inside the branch.
      const outputs = branch.outputs.map((value) =>
        value.graph === branch ? value : branch.createNode({ op: 'onnx.Identity', name: branch.uniqueNodeName('passed_on'), inputs: [value], outputs: [{ name: branch.uniqueName(`${value.name}_passed_on`), type: value.type }] }).output(0),
      );
      branch.setOutputs(outputs);
    }
    const choice = node.graph!.createNode({
      op: 'onnx.If',
      name: node.graph!.uniqueNodeName(`${node.name}_if`),
      inputs: [node.input(0)],
      outputs: node.outputs.map((output) => ({ name: node.graph!.uniqueName(`${output?.name ?? node.name}_raised`), type: output!.type })),
      attributes: { then_branch: attrs.graph(branches[0]), else_branch: attrs.graph(branches[1]) },
      loc: node.location,
      before: node,
    });
    replaceRaised(node, choice.outputs);
  },
};

export const controlFlowRaiseRules: readonly RaiseRule[] = [whileLoop, ifElse];
