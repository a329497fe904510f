/**
 * Inline expansion of model-local functions: a call node's function body is copied into a fresh
 * graph whose attribute references (`ref_attr_name`) are resolved against the call's attributes or
 * the function's defaults. Subgraphs inside the body are copied the same way.
 */
import { Graph, ModelpassError, type Attribute, type ModelFunction, type Node, type Value } from '@modelpass/ir';

/** Attributes of a body node with references resolved; references with no value are dropped. */
function resolveAttributes(
  node: Node,
  resolve: (name: string) => Attribute | undefined,
  copySubgraph: (graph: Graph) => Graph,
): Map<string, Attribute> {
  const attributes = new Map<string, Attribute>();
  for (const [name, attribute] of node.attributes) {
    if (attribute.kind === 'ref') {
      const value = resolve(attribute.refName);
      if (value === undefined) continue;
      if (value.kind === 'ref') {
        throw new ModelpassError({
          reason: `attribute '${name}' refers to '${attribute.refName}', which is itself an unresolved reference`,
          location: node.location,
          source: '@modelpass/ops',
        });
      }
      attributes.set(name, value);
    } else if (attribute.kind === 'graph') {
      attributes.set(name, { kind: 'graph', value: copySubgraph(attribute.value) });
    } else if (attribute.kind === 'graphs') {
      attributes.set(name, { kind: 'graphs', value: attribute.value.map(copySubgraph) });
    } else {
      attributes.set(name, attribute);
    }
  }
  return attributes;
}

/** Copies `source` (inputs, constants, nodes, outputs) into `target`, mapping values through `values`. */
function copyGraphInto(source: Graph, target: Graph, values: Map<Value, Value>, resolve: (name: string) => Attribute | undefined): void {
  for (const input of source.inputs) values.set(input, target.addInput(input.name, input.type));
  for (const constant of source.constants) {
    const mapped = values.get(constant);
    if (mapped) target.markConstant(mapped, constant.constant!);
    else if (constant.constant) values.set(constant, target.addConstant(constant.name, constant.constant));
  }
  const copySubgraph = (graph: Graph): Graph => {
    const copy = new Graph(graph.name);
    copyGraphInto(graph, copy, values, resolve);
    return copy;
  };
  for (const node of source.nodes()) {
    const attributes = resolveAttributes(node, resolve, copySubgraph);
    const copy = target.createNode({
      op: node.op,
      name: node.name,
      loc: node.loc,
      inputs: node.inputs.map((input) => (input ? (values.get(input) ?? input) : null)),
      outputs: node.outputs.map((output) => (output ? { name: output.name, type: output.type } : null)),
      attributes,
    });
    copy.overload = node.overload;
    node.outputs.forEach((output, i) => {
      if (output) values.set(output, copy.outputs[i]!);
    });
  }
  target.setOutputs(source.outputs.map((output) => values.get(output) ?? output));
}

/** A standalone graph computing `fn` for the call `call` (inputs by position, attributes resolved). */
export function instantiateFunction(fn: ModelFunction, call: Node): Graph {
  const resolve = (name: string): Attribute | undefined => call.getAttribute(name) ?? fn.attributeDefaults.get(name);
  const graph = new Graph(`${fn.dialect}.${fn.name}`);
  copyGraphInto(fn.body, graph, new Map(), resolve);
  return graph;
}
