import type { Model, Node, Tensor, Value } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { constantOf } from '../util/constants.js';
import { removeDeadCode, snapshotDead } from '../util/dead-code.js';
import { DEFAULT_FOLD_MAX_GROWTH, foldConstants, foldConstantsIn, replaceWithConstant } from '../util/fold.js';
import { constantBytes, countNodes, graphsOfModel } from '../util/graph-walk.js';
import { inferShapesIfAvailable, staticShapeQuery } from '../util/shape-facts.js';
import { preserved } from './pattern-pass.js';

export const DEFAULT_FOLD_MAX_SIZE = 1 << 20;
export { DEFAULT_FOLD_MAX_GROWTH };

export const foldConstantsPass = definePass({
  name: 'fold-constants',
  summary: 'Evaluate nodes whose inputs are all constants with the reference kernels, and store the results as constants',
  description:
    'Also turns onnx.Constant nodes into initializers (except those producing a graph output). Random ops, ops with subgraphs ' +
    'and ops without a reference kernel are left alone. The model may not grow: a node is folded only when its result is at most ' +
    'max-size bytes and exceeds the bytes of the constant inputs that die with it (read by nothing else) by at most max-growth bytes.',
  options: {
    maxSize: option.integer({ default: DEFAULT_FOLD_MAX_SIZE, min: 0, help: 'largest folded result, in bytes (a hard cap)' }),
    maxGrowth: option.integer({ default: DEFAULT_FOLD_MAX_GROWTH, min: 0, help: 'most bytes one fold may add: result bytes minus the bytes of the constant inputs that die with the node' }),
  },
  statistics: ['nodes-folded', 'constants-materialized', 'nodes-removed', 'bytes-saved', 'declined-for-growth'],
  run(model, context) {
    const dead = snapshotDead(model);
    // Whole-graph counts only when something reads them (a composite pass such as legalize-tflite drops them).
    const countsNodes = context.collectsStatistic?.('nodes-removed') ?? true;
    const countsBytes = context.collectsStatistic?.('bytes-saved') ?? true;
    const nodesBefore = countsNodes ? countNodes(model) : 0;
    const bytesBefore = countsBytes ? constantBytes(model) : 0;
    const result = foldConstants(model, { maxSize: context.options.maxSize, maxGrowth: context.options.maxGrowth, debug: (m) => context.debug(m) });
    removeDeadCode(model, { filter: (item) => !dead.has(item) });
    context.statistic('nodes-folded', result.nodesFolded);
    context.statistic('constants-materialized', result.constantNodesMaterialized);
    if (countsNodes) context.statistic('nodes-removed', Math.max(0, nodesBefore - countNodes(model)));
    if (countsBytes) context.statistic('bytes-saved', bytesBefore - constantBytes(model));
    context.statistic('declined-for-growth', result.declinedForGrowth);
    return preserved(context, result.nodesFolded + result.constantNodesMaterialized > 0);
  },
});

/** Ops that compute on shapes: folded by fold-shapes when their (small, integer) inputs are constant. */
const SHAPE_ARITHMETIC = new Set(
  [
    'Gather', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Cast', 'Add', 'Sub', 'Mul', 'Div', 'Reshape', 'Equal', 'Where',
    'ReduceProd', 'ReduceSum', 'Neg', 'Abs', 'Max', 'Min', 'Identity', 'Range', 'Mod', 'Less', 'Greater', 'Not', 'And', 'Or',
    'Floor', 'Ceil', 'Sqrt', 'Flatten', 'Transpose', 'Expand', 'ConstantOfShape', 'Tile', 'NonZero',
  ].map((op) => `onnx.${op}`),
);
const SHAPE_TENSOR_LIMIT = 1024;

function isShapeArithmetic(node: Node): boolean {
  if (!SHAPE_ARITHMETIC.has(node.op)) return false;
  const inputs = node.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (!input) continue;
    const tensor = constantOf(input);
    if (!tensor) return false;
    const size = tensor.size;
    if (size > SHAPE_TENSOR_LIMIT) return false;
    const dtype = tensor.dtype;
    if (!(dtype === 'int64' || dtype === 'int32' || dtype === 'bool' || size <= 16)) return false;
  }
  return true;
}

export const foldShapes = definePass({
  name: 'fold-shapes',
  summary: 'Replace Shape/Size (and Gather/Slice of a Shape) by constants where the dims they read are static, then fold the shape arithmetic',
  description:
    'Needs types on values: runs shape inference first when @modelpass/ops provides it, else uses the types the model declares. ' +
    'Gather/Slice of a Shape fold even when other dims are dynamic (a symbolic batch size stays dynamic).',
  options: {
    inferShapes: option.boolean({ default: true, help: 'run shape inference first (when available)' }),
  },
  statistics: ['shapes-folded', 'nodes-folded', 'nodes-removed'],
  run(model, context) {
    if (context.options.inferShapes) inferShapesIfAvailable(model, (m) => context.debug(m));
    const countsNodes = context.collectsStatistic?.('nodes-removed') ?? true;
    const result = foldShapeArithmetic(model, { countNodes: countsNodes, debug: (m) => context.debug(m) });
    context.statistic('shapes-folded', result.shapesFolded);
    context.statistic('nodes-folded', result.nodesFolded);
    if (countsNodes) context.statistic('nodes-removed', result.nodesRemoved);
    return preserved(context, result.shapesFolded + result.nodesFolded > 0);
  },
});

/**
 * The shape queries a fold-shapes walk could not answer, each with the values `staticShapeQuery` reads for it: the
 * data input of a Shape/Size (its type), every input of a Gather/Slice of a Shape and that Shape's data input. The
 * answer changes only when the fold replaces one of them (by a constant: folding keeps the other values, their
 * types and constants as they are); a Gather/Slice of anything but a Shape stays unanswered whatever is folded.
 */
class UnansweredQueries {
  /** Per query: the node, how many values follow, then the values. */
  private readonly entries: (Node | Value | null | number)[] = [];

  note(node: Node): void {
    const op = node.op;
    if (op === 'onnx.Shape' || op === 'onnx.Size') {
      this.entries.push(node, 1, node.inputs[0] ?? null);
      return;
    }
    if (op !== 'onnx.Gather' && op !== 'onnx.Slice') return;
    const shapeNode = node.inputs[0]?.producer;
    if (!shapeNode || shapeNode.op !== 'onnx.Shape') return;
    const inputs = node.inputs;
    this.entries.push(node, inputs.length + 1, shapeNode.inputs[0] ?? null);
    for (let i = 0; i < inputs.length; i++) this.entries.push(inputs[i] ?? null);
  }

  /** Whether some query still in its graph reads a value other than the one noted (its inputs were replaced). */
  anyReadReplaced(): boolean {
    const entries = this.entries;
    for (let at = 0; at < entries.length; ) {
      const node = entries[at] as Node;
      const count = entries[at + 1] as number;
      const reads = at + 2;
      at = reads + count;
      if (node.graph === null) continue; // erased: nothing left to ask
      if (count === 1) {
        if (node.inputs[0] !== entries[reads]) return true;
        continue;
      }
      if (node.inputs.length !== count - 1 || node.inputs[0]?.producer?.inputs[0] !== entries[reads]) return true;
      for (let i = 0; i < count - 1; i++) if (node.inputs[i] !== entries[reads + 1 + i]) return true;
    }
    return false;
  }
}

/**
 * fold-shapes' work on a model whose types are inferred: Shape/Size (and Gather/Slice of a Shape) of static dims
 * become constants, then the shape arithmetic is folded, until nothing changes; the nodes this leaves dead are removed.
 * `known` (shape inference's `knownConstant`, from the inference that typed the model) spares re-running the
 * kernels on values inference evaluated; `countNodes` counts the nodes removed (a whole-graph walk before and after).
 */
export function foldShapeArithmetic(
  model: Model,
  options: { known?: (value: Value) => Tensor | undefined; countNodes?: boolean; debug(message: string): void },
): { shapesFolded: number; nodesFolded: number; nodesRemoved: number } {
  const dead = snapshotDead(model);
  const nodesBefore = options.countNodes ? countNodes(model) : 0;
  let shapesFolded = 0;
  let nodesFolded = 0;
  // Listed once: answering a query and folding erase no node that holds a subgraph, and add none.
  const graphs = graphsOfModel(model);
  for (let round = 0; round < 16; round++) {
    let changed = false;
    // The queries left unanswered by this round's walk, with the values their answers read.
    const unanswered = new UnansweredQueries();
    for (const graph of graphs) {
      // A walk of the links, the next node taken first as `graph.nodes()` does (the node is erased when its query is answered).
      for (let node = graph.firstNode, next: Node | null; node; node = next) {
        next = node.next;
        if (node.graph !== graph) continue;
        const output = node.outputs[0];
        if (!output || node.outputs.length !== 1 || constantOf(output)) continue;
        const tensor = staticShapeQuery(node);
        if (!tensor) {
          unanswered.note(node);
          continue;
        }
        replaceWithConstant(output, tensor, node);
        node.erase();
        shapesFolded++;
        changed = true;
      }
    }
    const folded = foldConstantsIn(graphs, model, { maxSize: 64 * 1024, filter: isShapeArithmetic, ...(options.known ? { known: options.known } : {}), debug: options.debug });
    nodesFolded += folded.nodesFolded;
    if (!changed && folded.nodesFolded === 0) break;
    // Another round would find nothing: every query left reads the values it read in this round's walk (so the
    // next walk answers none of them), and the fold reached its fixpoint in one walk (one graph in topological
    // order: a node's constant inputs are folded before it is visited; only a fold declined for growth can change
    // its mind once a later fold drops a reader of its inputs).
    if (!unanswered.anyReadReplaced() && graphs.length === 1 && folded.declinedForGrowth === 0) break;
  }
  removeDeadCode(model, { filter: (item) => !dead.has(item) });
  return { shapesFolded, nodesFolded, nodesRemoved: options.countNodes ? Math.max(0, nodesBefore - countNodes(model)) : 0 };
}
