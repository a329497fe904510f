import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, type Graph, type Node } from '@modelpass/ir';

// The generators these walks replaced, kept here as the reference for their semantics.
function* referenceNodes(graph: Graph): Generator<Node> {
  let node = graph.firstNode;
  while (node) {
    const next = node.next;
    yield node;
    node = next;
  }
}
function* referenceAllNodes(graph: Graph): Generator<Node> {
  for (const node of referenceNodes(graph)) {
    yield node;
    for (const subgraph of node.subgraphs) yield* referenceAllNodes(subgraph);
  }
}

/** A chain of `count` Relus named r0…, and a graph holding two bodies with nested nodes. */
function chain(count: number): GraphBuilder {
  const b = new GraphBuilder();
  let value = b.input('x');
  for (let i = 0; i < count; i++) value = b.node('onnx.Relu', [value], {}, { name: `r${i}` }).output();
  b.output(value);
  return b;
}

function nested(): GraphBuilder {
  const outer = chain(2);
  const x = outer.graph.inputs[0]!;
  const body = (name: string, inner: GraphBuilder | undefined) => {
    const b = new GraphBuilder();
    b.graph.name = name;
    const relu = b.node('onnx.Relu', [x], {}, { name: `${name}_relu` });
    if (inner) b.node('test.Loop', [relu.output()], { body: attrs.graph(inner.graph) }, { name: `${name}_loop` });
    b.output(relu.output());
    return b;
  };
  const deepest = body('deepest', undefined);
  outer.node('test.If', [x], { then_branch: attrs.graph(body('then', deepest).graph), else_branch: attrs.graph(body('else', undefined).graph) }, { name: 'if' });
  outer.node('onnx.Relu', [x], {}, { name: 'after' });
  return outer;
}

/** Names seen by walking `walk()` while `visit` mutates the graph at each node. */
function namesWhile(walk: () => Iterable<Node>, visit: (node: Node) => void = () => {}): string[] {
  const seen: string[] = [];
  for (const node of walk()) {
    seen.push(node.name);
    visit(node);
  }
  return seen;
}

describe('graph walks (nodes, nodesOf, allNodes, allNodesOf)', () => {
  it('visit the same nodes in the same order as the generators they replaced', () => {
    const b = nested();
    expect(namesWhile(() => b.graph.nodes())).toEqual(namesWhile(() => referenceNodes(b.graph)));
    expect(namesWhile(() => b.graph.allNodes())).toEqual(['r0', 'r1', 'if', 'then_relu', 'then_loop', 'deepest_relu', 'else_relu', 'after']);
    expect(namesWhile(() => b.graph.allNodes())).toEqual(namesWhile(() => referenceAllNodes(b.graph)));
    expect(namesWhile(() => b.graph.nodesOf('onnx.Relu'))).toEqual(['r0', 'r1', 'after']);
    expect(namesWhile(() => b.graph.allNodesOf('onnx.Relu', 'test.Loop'))).toEqual(['r0', 'r1', 'then_relu', 'then_loop', 'deepest_relu', 'else_relu', 'after']);
  });

  it('survive erasing the current node, skip nodes inserted right after it, and see nodes inserted further on', () => {
    const mutate = (b: GraphBuilder) => (node: Node) => {
      if (node.name === 'r1') {
        b.graph.createNode({ op: 'onnx.Identity', inputs: [node.inputs[0]!], after: node, name: 'right_after' });
        b.graph.createNode({ op: 'onnx.Identity', inputs: [node.inputs[0]!], before: b.graph.lastNode!, name: 'further_on' });
      }
      if (node.name === 'r2') {
        node.output().replaceAllUsesWith(node.input(0));
        node.erase();
      }
    };
    const ours = chain(5);
    const reference = chain(5);
    const seen = namesWhile(() => ours.graph.nodes(), mutate(ours));
    expect(seen).toEqual(namesWhile(() => referenceNodes(reference.graph), mutate(reference)));
    expect(seen).not.toContain('right_after');
    expect(seen).toContain('further_on');
    expect(seen).toContain('r3');
  });

  it('start at the first node when first asked, not when created', () => {
    const b = chain(2);
    const walk = b.graph.nodes();
    b.graph.createNode({ op: 'onnx.Identity', inputs: [b.graph.inputs[0]!], before: b.graph.firstNode!, name: 'new_first' });
    expect([...walk].map((node) => node.name)).toEqual(['new_first', 'r0', 'r1']);
  });

  it('read a node’s subgraphs after the caller saw it (a body attached then is walked)', () => {
    const withBody = (b: GraphBuilder) => (node: Node) => {
      if (node.name !== 'r0') return;
      const body = new GraphBuilder();
      body.output(body.node('onnx.Relu', [b.graph.inputs[0]!], {}, { name: 'late_body_relu' }).output());
      node.setAttribute('body', attrs.graph(body.graph));
    };
    const ours = chain(2);
    const reference = chain(2);
    const seen = namesWhile(() => ours.graph.allNodes(), withBody(ours));
    expect(seen).toEqual(['r0', 'late_body_relu', 'r1']);
    expect(seen).toEqual(namesWhile(() => referenceAllNodes(reference.graph), withBody(reference)));
  });

  it('stop for good after a break, and report done from then on', () => {
    const b = chain(3);
    const walk = b.graph.allNodes();
    for (const node of walk) if (node.name === 'r0') break;
    expect(walk.next()).toEqual({ done: true, value: undefined });
    const flat = b.graph.nodesOf('onnx.Relu');
    expect(flat.next().value?.name).toBe('r0');
    expect([...flat].map((node) => node.name)).toEqual(['r1', 'r2']);
    expect(flat.next().done).toBe(true);
  });
});
