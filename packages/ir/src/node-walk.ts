import type { Graph } from './graph.js';
import type { Node } from './node.js';

/**
 * The walks behind `Graph.nodes()`, `nodesOf`, `allNodes` and `allNodesOf`, as plain iterators
 * instead of generators: passes walk the graph dozens of times per run, and a generator allocates
 * its own object plus one `{ value, done }` per node, which a conversion of a 1000-node model paid
 * in megabytes of garbage. Each iterator keeps the generators' semantics exactly:
 *
 * - it starts at the graph's first node when `next()` is first called, not when it is created;
 * - the node after the one returned is taken before the caller sees it, so erasing the current node
 *   is safe and nodes inserted right after it are not visited;
 * - `allNodes` reads a node's subgraphs only when the walk resumes after returning that node, and
 *   descends into them (depth-first) before going on.
 *
 * The `{ value, done }` object is reused between calls (as the iterator protocol allows): read
 * `value` before calling `next()` again, as `for…of` and spreading do.
 */
interface Frame {
  readonly graph: Graph;
  started: boolean;
  /** The node `next()` returns next (taken before the previous one was handed out). */
  pending: Node | null;
  /** The node just returned, whose subgraphs are walked before `pending` (allNodes only). */
  descendFrom: Node | null;
  subgraphs: readonly Graph[] | null;
  subgraphIndex: number;
}

const NO_WANTED: ReadonlySet<string> | undefined = undefined;

export class NodeWalk implements IterableIterator<Node> {
  private readonly frames: Frame[];
  private readonly result = { done: false, value: undefined as Node | undefined };
  private finished = false;

  /**
   * @param graph where the walk starts
   * @param deep whether to descend into subgraphs (allNodes)
   * @param wanted only nodes with one of these ops (nodesOf / allNodesOf)
   */
  constructor(
    graph: Graph,
    private readonly deep: boolean,
    private readonly wanted: ReadonlySet<string> | undefined = NO_WANTED,
  ) {
    this.frames = [frameOf(graph)];
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Node, undefined> {
    const result = this.result;
    if (!this.finished) {
      const node = this.deep ? this.nextDeep() : this.nextFlat();
      if (node) {
        result.value = node;
        return result as IteratorResult<Node, undefined>;
      }
      this.finished = true;
      this.frames.length = 0;
    }
    result.done = true;
    result.value = undefined;
    return result as IteratorResult<Node, undefined>;
  }

  /** Ends the walk (what `break` in a `for…of` calls). */
  return(): IteratorResult<Node, undefined> {
    this.finished = true;
    this.frames.length = 0;
    this.result.done = true;
    this.result.value = undefined;
    return this.result as IteratorResult<Node, undefined>;
  }

  private nextFlat(): Node | null {
    const frame = this.frames[0]!;
    if (!frame.started) {
      frame.started = true;
      frame.pending = frame.graph.firstNode;
    }
    const wanted = this.wanted;
    for (let node = frame.pending; node; node = frame.pending) {
      frame.pending = node._next;
      if (!wanted || wanted.has(node.op)) return node;
    }
    return null;
  }

  private nextDeep(): Node | null {
    const frames = this.frames;
    const wanted = this.wanted;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (!frame.started) {
        frame.started = true;
        frame.pending = frame.graph.firstNode;
      }
      const parent = frame.descendFrom;
      if (parent) {
        frame.descendFrom = null;
        // The subgraphs as they are now, after the caller saw the node (a generator read them on resuming).
        if (parent._graphAttributeCount > 0) {
          frame.subgraphs = parent.subgraphs;
          frame.subgraphIndex = 0;
        }
      }
      const subgraphs = frame.subgraphs;
      if (subgraphs) {
        if (frame.subgraphIndex < subgraphs.length) {
          frames.push(frameOf(subgraphs[frame.subgraphIndex++]!));
          continue;
        }
        frame.subgraphs = null;
      }
      const node = frame.pending;
      if (!node) {
        frames.pop();
        continue;
      }
      frame.pending = node._next;
      frame.descendFrom = node;
      if (!wanted || wanted.has(node.op)) return node;
    }
    return null;
  }
}

function frameOf(graph: Graph): Frame {
  return { graph, started: false, pending: null, descendFrom: null, subgraphs: null, subgraphIndex: 0 };
}
