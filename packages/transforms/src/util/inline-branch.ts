import type { Attribute, Graph, Node, Value } from '@modelpass/ir';
import { eraseDeep } from './graph-walk.js';

/** What `inlineBranch` did, for statistics and debug lines. */
export interface InlinedBranch {
  nodesMoved: number;
  constantsMoved: number;
  /** Identity nodes added for branch outputs that could not take the If output's name. */
  identitiesAdded: number;
}

/**
 * Why a branch cannot be spliced into the If's graph, or undefined when it can. ONNX branches take no
 * inputs; a sparse initializer has no dense tensor to move.
 */
export function whyBranchCannotBeInlined(ifNode: Node, branch: Graph): string | undefined {
  if (!ifNode.graph) return 'the If is not in a graph';
  if (branch.inputs.length > 0) return `branch '${branch.name}' declares ${branch.inputs.length} input(s); If bodies take none`;
  for (const constant of branch.constants) {
    if (!constant.constant) return `branch '${branch.name}' holds initializer '${constant.name}' without dense data`;
  }
  if (branch.outputs.length !== ifNode.outputs.length) {
    return `branch '${branch.name}' returns ${branch.outputs.length} value(s) for the If's ${ifNode.outputs.length} output(s)`;
  }
  return undefined;
}

/**
 * Replaces `ifNode` by the nodes of `branch` (one of its subgraphs), placed just before it in its graph:
 * the branch's initializers become initializers of that graph, its nodes are recreated there reading
 * the same outer values, and subgraphs held by its nodes (nested If/Loop/Scan bodies) move with them,
 * their reads of branch values rewired. Each If output keeps its name: the branch value that computes
 * it takes the name, or, when that value is an outer value, a constant, a graph input/output or already
 * stands for another If output, an `onnx.Identity` named after the output produces it. The If and both
 * branches are then erased. Call `whyBranchCannotBeInlined` first.
 *
 * Not the same job as the TFLite lowering's `BodyInliner` (packages/tflite/src/legalize/rules/inline-body.ts),
 * on purpose: this one MOVES one branch, once, and keeps what a later export shows (the branch's value and
 * node names, doc strings, metadata, overloads) and its nested If/Loop/Scan bodies, which move with their
 * nodes. `BodyInliner` COPIES a body as many times as a Loop/Scan is unrolled (or both branches of an If
 * lowered to Where), binds body inputs to per-iteration values, prefixes every name with the copy's tag,
 * shares constants between copies, and refuses bodies holding control flow. A shared core would have to
 * take both a move and a copy mode, with two naming schemes: two short functions read better.
 */
export function inlineBranch(ifNode: Node, branch: Graph): InlinedBranch {
  const outer = ifNode.graph!;
  const result: InlinedBranch = { nodesMoved: 0, constantsMoved: 0, identitiesAdded: 0 };
  const moved = new Map<Value, Value>();
  const resolve = (value: Value | null): Value | null => (value ? (moved.get(value) ?? value) : null);

  for (const constant of branch.constants) {
    const copy = outer.addConstant(outer.uniqueName(constant.name), constant.constant!);
    copy.type = constant.type;
    copyMetadata(constant.metadata, copy.metadata);
    moved.set(constant, copy);
    result.constantsMoved++;
  }

  const movedSubgraphs: Graph[] = [];
  for (const node of branch.nodeList()) {
    const attributes = new Map<string, Attribute>(node.attributes);
    // Detach held subgraphs from the old node first: the new node becomes their parent.
    for (const [key, attribute] of attributes) {
      if (attribute.kind === 'graph' || attribute.kind === 'graphs') {
        movedSubgraphs.push(...(attribute.kind === 'graph' ? [attribute.value] : attribute.value));
        node.removeAttribute(key);
      }
    }
    const copy = outer.createNode({
      op: node.op,
      name: outer.uniqueNodeName(node.name),
      loc: node.loc,
      inputs: node.inputs.map(resolve),
      outputs: node.outputs.map((output) => (output ? { name: outer.uniqueName(output.name), type: output.type } : null)),
      attributes,
      before: ifNode,
    });
    copy.docString = node.docString;
    copy.overload = node.overload;
    copyMetadata(node.metadata, copy.metadata);
    node.outputs.forEach((output, index) => {
      if (!output) return;
      const value = copy.output(index);
      value.docString = output.docString;
      copyMetadata(output.metadata, value.metadata);
      moved.set(output, value);
    });
    result.nodesMoved++;
  }

  for (const subgraph of movedSubgraphs) rewireReads(subgraph, resolve);

  const created = new Set(moved.values());
  const named = new Set<Value>();
  ifNode.outputs.forEach((ifOutput, index) => {
    if (!ifOutput) return;
    let replacement = resolve(branch.outputs[index]!)!;
    const canTakeName =
      created.has(replacement) && replacement.producer !== null && !replacement.isGraphOutput && !named.has(replacement);
    if (!canTakeName) {
      const identity = outer.createNode({
        op: 'onnx.Identity',
        name: outer.uniqueNodeName(`${ifNode.name}_${ifOutput.name}`),
        loc: ifNode.loc,
        inputs: [replacement],
        outputs: [{ name: outer.uniqueName(`${ifOutput.name}__branch`), type: ifOutput.type }],
        before: ifNode,
      });
      replacement = identity.output(0);
      result.identitiesAdded++;
    }
    named.add(replacement);
    const name = ifOutput.name;
    ifOutput.replaceAllUsesWith(replacement, { keepOutputNames: false });
    ifOutput.rename(outer.uniqueName(`${name}__if`));
    replacement.rename(name);
    if (replacement.type.kind === 'unknown') replacement.type = ifOutput.type;
  });

  eraseDeep(ifNode);
  return result;
}

/** Points every read of a moved branch value, in `graph` and the graphs nested in it, at its copy. */
function rewireReads(graph: Graph, resolve: (value: Value | null) => Value | null): void {
  const graphs = [graph];
  for (const node of graph.allNodes()) {
    graphs.push(...node.subgraphs);
    node.inputs.forEach((input, index) => {
      const target = resolve(input);
      if (target !== input) node.setInput(index, target);
    });
  }
  for (const g of graphs) {
    const outputs = g.outputs.map((value) => resolve(value)!);
    if (outputs.some((value, index) => value !== g.outputs[index])) g.setOutputs(outputs);
  }
}

function copyMetadata(from: ReadonlyMap<string, string>, to: Map<string, string>): void {
  for (const [key, value] of from) to.set(key, value);
}
