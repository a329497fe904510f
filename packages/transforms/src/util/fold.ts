import { attrs, byteLengthOf, isTensorType, Tensor, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { isRandomOp, kernelFor, type RuntimeValue } from '@modelpass/ops';
import { constantNodeTensor, constantOf } from './constants.js';
import { graphsOfModel } from './graph-walk.js';

export interface FoldOptions {
  /** Largest folded result in bytes (all outputs of one node together): a hard cap. */
  maxSize: number;
  /**
   * Most bytes one fold may add to the model: result bytes minus the bytes of the constant inputs
   * that die with the node. Default 1024.
   */
  maxGrowth?: number;
  /** Which nodes to try (default: every onnx node with a kernel and constant inputs). */
  filter?: (node: Node) => boolean;
  /**
   * A single-output node's result already computed (shape inference's `knownConstant`): taken instead of
   * running the kernel when its dtype and shape are the output's declared ones. Every other check still applies.
   */
  known?: (value: Value) => Tensor | undefined;
  debug(message: string): void;
}

export interface FoldResult {
  nodesFolded: number;
  constantNodesMaterialized: number;
  /** Folds declined because the result would grow the model by more than max-growth. */
  declinedForGrowth: number;
}

export const DEFAULT_FOLD_MAX_GROWTH = 1024;

/**
 * Most bytes of constant inputs one fold evaluates (1 GiB): reference kernels work on whole
 * tensors in memory, so a node reading a larger weight is left alone (with a debug reason).
 */
export const MAX_FOLD_INPUT_BYTES = 2 ** 30;

function constantInputBytes(node: Node): number {
  let total = 0;
  const inputs = node.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const tensor = constantOf(inputs[i]);
    if (tensor) total += tensorBytes(tensor);
  }
  return total;
}

export function tensorBytes(tensor: Tensor): number {
  return tensor.dtype === 'string' ? (tensor.strings ?? []).reduce((n, s) => n + s.length, 0) : tensor.byteLength;
}

/**
 * Replaces `value` by a constant holding `tensor`, under the same name. Graph outputs keep being
 * produced by a node (an `onnx.Constant`), since an initializer cannot be a graph output everywhere.
 */
export function replaceWithConstant(value: Value, tensor: Tensor, before: Node): Value {
  const graph = value.graph;
  const name = value.name;
  value.rename(graph.uniqueName(`${name}__folded`));
  let replacement: Value;
  if (value.isGraphOutput) {
    // the Constant takes the folded node's name (that node is erased right after)
    const node = graph.createNode({
      op: 'onnx.Constant',
      attributes: { value: attrs.tensor(tensor) },
      outputs: [{ name, type: typeOfTensor(tensor) }],
      before,
      ...(before.name ? { name: before.name } : {}),
    });
    replacement = node.output(0);
  } else {
    replacement = graph.addConstant(name, tensor);
  }
  value.replaceAllUsesWith(replacement, { keepOutputNames: false });
  return replacement;
}

function typeOfTensor(tensor: Tensor) {
  return { kind: 'tensor' as const, dtype: tensor.dtype, shape: tensor.shape };
}

/** Runs the reference kernel of `node` on constant inputs; undefined when it cannot. */
export function evaluateConstantNode(node: Node, model: Model, debug: (m: string) => void): Tensor[] | undefined {
  const kernel = kernelFor(node.op);
  if (!kernel) return undefined;
  const inputs: RuntimeValue[] = [];
  for (const input of node.inputs) {
    if (!input) {
      inputs.push(null);
      continue;
    }
    const tensor = constantOf(input);
    if (!tensor) return undefined;
    inputs.push(tensor);
  }
  let outputs: RuntimeValue[];
  try {
    outputs = kernel(inputs, {
      node,
      opset: model.opset(node.dialect) ?? 17,
      runSubgraph: () => {
        throw new Error('subgraphs are not folded');
      },
    });
  } catch (error) {
    debug(`fold-constants: left ${node.op} '${node.name}' alone: its reference kernel failed: ${(error as Error).message}`);
    return undefined;
  }
  const tensors: Tensor[] = [];
  for (let i = 0; i < node.outputs.length; i++) {
    const output = outputs[i];
    if (!node.outputs[i]) continue;
    if (!(output instanceof Tensor)) {
      debug(`fold-constants: left ${node.op} '${node.name}' alone: output #${i} is not a tensor`);
      return undefined;
    }
    tensors[i] = output;
  }
  return tensors;
}

/** Folds nodes with constant inputs into constants, in every graph; materializes Constant nodes. */
/** The name of an input or output with a quant<> type (its reals are not its stored integers), if any. */
function quantizedOperand(node: Node): string | undefined {
  return quantizedAmong(node.inputs) ?? quantizedAmong(node.outputs);
}

function quantizedAmong(values: readonly (Value | null)[]): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value && ((value.type.kind === 'tensor' && value.type.quant) || constantOf(value)?.quant)) return value.name;
  }
  return undefined;
}

export function foldConstants(model: Model, options: FoldOptions): FoldResult {
  return foldConstantsIn(graphsOfModel(model), model, options);
}

/**
 * `foldConstants` over `graphs`, the model's graphs as `graphsOfModel` lists them (a caller that has just listed them:
 * folding adds and removes no node that holds a subgraph, so the list stays the model's).
 */
export function foldConstantsIn(graphs: readonly Graph[], model: Model, options: FoldOptions): FoldResult {
  const result: FoldResult = { nodesFolded: 0, constantNodesMaterialized: 0, declinedForGrowth: 0 };
  for (let i = 0; i < graphs.length; i++) foldGraph(graphs[i]!, model, options, result);
  return result;
}

/**
 * The walk of one graph: only the cheap tests every node meets (a Constant node, an onnx node with no subgraph whose
 * inputs are all constants) are here; the rest is `foldNode`, asked of the few candidates. Kept small on purpose:
 * a conversion walks every node twice (fold-shapes' arithmetic, then fold-constants), so V8 optimizes this loop in
 * a long run, and with every check inlined into it that one compile was among the conversion's largest.
 */
function foldGraph(graph: Graph, model: Model, options: FoldOptions, result: FoldResult): void {
  // Rounds: a walk, then the folds declined for growth that only pay off together (readers of one shared weight);
  // a group fold makes new constants, so their readers get another walk.
  for (let round = 0; round < MAX_SHARED_ROUNDS; round++) {
    const declined: Node[] = [];
    walkGraph(graph, model, options, result, declined);
    if (declined.length === 0 || foldSharedReaders(graph, declined, model, options, result) === 0) return;
    // The next walk declines the ones left again: counted once.
    for (const node of declined) if (node.graph === graph) result.declinedForGrowth--;
  }
}

/** Walks of a graph that end in group folds: each round needs a group folded in the round before, so a few suffice. */
const MAX_SHARED_ROUNDS = 8;

function walkGraph(graph: Graph, model: Model, options: FoldOptions, result: FoldResult, declined: Node[]): void {
  // A walk of the links, the next node taken first as `graph.nodes()` does (a fold erases the node it folds; a Constant it adds goes before it).
  for (let node = graph.firstNode, next: Node | null; node; node = next) {
    next = node.next;
    if (node.graph !== graph) continue;
    if (node.op === 'onnx.Constant') {
      if (materializeConstantNode(node)) result.constantNodesMaterialized++;
      continue;
    }
    if (node.dialect !== 'onnx' || node.subgraphs.length > 0 || node.outputs.length === 0 || !allInputsConstant(node)) continue;
    if (foldNode(node, model, options, result)) declined.push(node);
  }
}

/** An `onnx.Constant` node → an initializer (not one writing a graph output); whether it was. */
function materializeConstantNode(node: Node): boolean {
  const output = node.outputs[0];
  const tensor = constantNodeTensor(node);
  if (!output || !tensor || output.isGraphOutput) return false;
  replaceWithConstant(output, tensor, node);
  node.erase();
  return true;
}

/**
 * The checks a node with constant inputs must pass before its result is weighed: not random, the filter, a
 * kernel, no quant<> operand, inputs and declared result within the caps. A message saying why not, or undefined.
 */
function foldBlocker(node: Node, options: FoldOptions): string | undefined {
  if (isRandomOp(node.op)) return 'it is a random op';
  if (options.filter && !options.filter(node)) return 'the filter leaves it out';
  return blockerPastFilter(node, options, declaredOutputBytes(node));
}

/** `foldBlocker`'s checks after the random-op test and the filter, with the node's declared result bytes. */
function blockerPastFilter(node: Node, options: FoldOptions, declared: number | undefined): string | undefined {
  if (!kernelFor(node.op)) return 'it has no reference kernel';
  const quantized = quantizedOperand(node);
  if (quantized) return `'${quantized}' has a quant<> type and the reference kernels compute on stored integers (run materialize-qdq first)`;
  const inputBytes = constantInputBytes(node);
  if (inputBytes > MAX_FOLD_INPUT_BYTES) return `its constant inputs hold ${inputBytes} bytes, more than the ${MAX_FOLD_INPUT_BYTES} the reference kernels evaluate in memory`;
  if (declared !== undefined && declared > options.maxSize) return `its declared result of ${declared} bytes exceeds max-size ${options.maxSize}`;
  return undefined;
}

/**
 * One onnx node whose present inputs are all constants: folded (or forwarded) when every check allows it.
 * Returns true when it was declined for growth only (a candidate for a group fold with the other readers of its inputs).
 */
function foldNode(node: Node, model: Model, options: FoldOptions, result: FoldResult): boolean {
  if (isRandomOp(node.op)) return false;
  if (options.filter && !options.filter(node)) return false;
  if (node.op === 'onnx.Identity' && forwardIdentityOfConstant(node)) {
    result.nodesFolded++;
    return false;
  }
  // The random-op test and the filter passed above; the declared bytes and the bytes freed are each computed once.
  const declared = declaredOutputBytes(node);
  const blocker = blockerPastFilter(node, options, declared);
  if (blocker) {
    if (kernelFor(node.op)) options.debug(`fold-constants: left ${node.op} '${node.name}' alone: ${blocker}`);
    return false;
  }
  const freed = bytesFreedByFolding(node);
  const maxGrowth = options.maxGrowth ?? DEFAULT_FOLD_MAX_GROWTH;
  if (declared !== undefined && declared - freed > maxGrowth) {
    options.debug(`fold-constants: left ${node.op} '${node.name}' alone: its declared result of ${declared} bytes would grow the model by more than max-growth`);
    result.declinedForGrowth++;
    return true;
  }
  const outputs = (options.known && knownOutputs(node, options.known)) || evaluateConstantNode(node, model, options.debug);
  if (!outputs) return false;
  let outputBytes = 0;
  for (let i = 0; i < outputs.length; i++) {
    const tensor = outputs[i];
    if (tensor) outputBytes += tensorBytes(tensor);
  }
  if (outputBytes > options.maxSize) {
    options.debug(`fold-constants: left ${node.op} '${node.name}' alone: its result of ${outputBytes} bytes exceeds max-size ${options.maxSize}`);
    return false;
  }
  const growth = outputBytes - freed;
  if (growth > maxGrowth) {
    options.debug(
      `fold-constants: left ${node.op} '${node.name}' alone: its result of ${outputBytes} bytes would replace only ${freed} bytes of ` +
        `constants that die with it (growth ${growth} > max-growth ${maxGrowth})`,
    );
    result.declinedForGrowth++;
    return true;
  }
  const nodeOutputs = node.outputs;
  for (let i = 0; i < nodeOutputs.length; i++) {
    const output = nodeOutputs[i];
    if (output && outputs[i]) replaceWithConstant(output, outputs[i]!, node);
  }
  node.erase();
  result.nodesFolded++;
  return false;
}

/** The result of a single-output node from `known`, when it has the dtype and static shape the output declares. */
function knownOutputs(node: Node, known: (value: Value) => Tensor | undefined): Tensor[] | undefined {
  const output = node.outputs.length === 1 ? node.outputs[0] : undefined;
  const type = output?.type;
  if (!output || type?.kind !== 'tensor' || type.shape === null) return undefined;
  const tensor = known(output);
  if (!tensor || tensor.dtype !== type.dtype || tensor.shape.length !== type.shape.length) return undefined;
  for (let i = 0; i < tensor.shape.length; i++) if (tensor.shape[i] !== type.shape[i]) return undefined;
  return [tensor];
}

/** Whether every present input of `node` is a constant (a loop, not a closure: asked of every node of every fold). */
function allInputsConstant(node: Node): boolean {
  const inputs = node.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (input !== null && constantOf(input) === undefined) return false;
  }
  return true;
}

/**
 * `Identity(c)` of a constant reads as `c` itself: its readers take `c`, which costs no bytes where
 * a folded copy would (torch's exports spell initializers with equal contents as one initializer
 * behind Identity nodes, so ConvNeXt's 18 equal layer scales stayed ops and blocked layout passes).
 */
function forwardIdentityOfConstant(node: Node): boolean {
  const input = node.inputs[0];
  const output = node.outputs[0];
  if (!input || !output || output.isGraphOutput || input.isGraphInput) return false;
  output.replaceAllUsesWith(input);
  node.erase();
  return true;
}

/**
 * Bytes of the constant inputs of `node` that nothing else reads (no other node, subgraph or graph
 * output): they disappear when the node is folded. Each distinct value counts once.
 */
export function bytesFreedByFolding(node: Node): number {
  let freed = 0;
  const inputs = node.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (!input || inputs.indexOf(input) < i) continue; // each distinct value once
    const tensor = constantOf(input);
    if (!tensor || input.isGraphOutput || input.isGraphInput) continue;
    // Read by this node only: every use of the value is one of this node's input slots (one use per slot), counted
    // without walking the uses (a generator, asked twice of every node a fold considers).
    let ownSlots = 0;
    for (let k = 0; k < inputs.length; k++) if (inputs[k] === input) ownSlots++;
    if (input.useCount === ownSlots) freed += tensorBytes(tensor);
  }
  return freed;
}

/** Bytes of the node's outputs when every output type is a statically shaped numeric tensor (to skip hopeless folds unevaluated). */
function declaredOutputBytes(node: Node): number | undefined {
  let bytes = 0;
  const outputs = node.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    if (!output) continue;
    const type = output.type;
    if (!isTensorType(type) || type.dtype === 'string' || type.shape === null) return undefined;
    const shape = type.shape;
    let count = 1;
    for (let d = 0; d < shape.length; d++) {
      const dim = shape[d];
      if (typeof dim !== 'number') return undefined;
      count *= dim;
    }
    bytes += byteLengthOf(type.dtype, count);
  }
  return bytes;
}

/** Most nodes one group fold takes together (readers of shared constants, and the readers of theirs). */
const MAX_SHARED_GROUP = 64;

/**
 * Folds declined for growth that pay off together: a weight read by several foldable nodes (torch's packed
 * `in_proj_weight`, sliced into q, k and v once `--input-shape` fixes the slice bounds) dies only when every reader
 * folds, so each fold alone duplicates part of it, while all of them together store the same bytes. For each node
 * declined, the group is closed over the constants its members read: every reader of such a constant joins when
 * it could fold (constant inputs, a kernel, within the caps), else that constant stays and frees nothing. The
 * group folds when `results − constants that die with the group ≤ max-growth`. Returns the nodes folded.
 */
function foldSharedReaders(graph: Graph, declined: Node[], model: Model, options: FoldOptions, result: FoldResult): number {
  let folded = 0;
  const maxGrowth = options.maxGrowth ?? DEFAULT_FOLD_MAX_GROWTH;
  const tried = new Set<Node>();
  for (const start of declined) {
    if (start.graph !== graph || tried.has(start)) continue; // folded with an earlier group, or in one left alone
    const group = sharedReaderGroup(start, graph, options);
    if (!group || group.length < 2) continue;
    for (const node of group) tried.add(node);
    const outputs: Tensor[][] = [];
    let outputBytes = 0;
    for (const node of group) {
      const tensors = (options.known && knownOutputs(node, options.known)) || evaluateConstantNode(node, model, options.debug);
      if (!tensors) break;
      const bytes = tensors.reduce((n, t) => n + (t ? tensorBytes(t) : 0), 0);
      if (bytes > options.maxSize) break;
      outputs.push(tensors);
      outputBytes += bytes;
    }
    if (outputs.length !== group.length) continue;
    const freed = bytesFreedByGroup(group);
    const growth = outputBytes - freed;
    if (growth > maxGrowth) {
      options.debug(
        `fold-constants: left ${group.length} readers of shared constants alone ('${start.name}' and ${group.length - 1} more): ` +
          `their results of ${outputBytes} bytes would replace ${freed} bytes (growth ${growth} > max-growth ${maxGrowth})`,
      );
      continue;
    }
    group.forEach((node, k) => {
      node.outputs.forEach((output, i) => {
        if (output && outputs[k]![i]) replaceWithConstant(output, outputs[k]![i]!, node);
      });
      node.erase();
    });
    options.debug(`fold-constants: folded ${group.length} readers of shared constants together ('${start.name}' and ${group.length - 1} more; growth ${growth} bytes)`);
    result.nodesFolded += group.length;
    result.declinedForGrowth -= group.filter((node) => declined.includes(node)).length;
    folded += group.length;
  }
  return folded;
}

/**
 * `start` and every node that reads a constant a member reads, closed: a constant that is a graph input or
 * output, or has a reader that could not fold, is not followed (it stays alive). Undefined past MAX_SHARED_GROUP.
 */
function sharedReaderGroup(start: Node, graph: Graph, options: FoldOptions): Node[] | undefined {
  const group = [start];
  const followed = new Set<Value>();
  for (let k = 0; k < group.length; k++) {
    for (const input of group[k]!.inputs) {
      if (!input || followed.has(input) || !constantOf(input) || input.isGraphInput || input.isGraphOutput) continue;
      followed.add(input);
      const readers: Node[] = [];
      let foldable = true;
      for (const use of input.uses) {
        const reader = use.node;
        if (!reader || reader.graph !== graph) {
          foldable = false;
          break;
        }
        if (group.includes(reader) || readers.includes(reader)) continue;
        if (!canFoldAlone(reader, options)) {
          foldable = false;
          break;
        }
        readers.push(reader);
      }
      if (!foldable) continue;
      group.push(...readers);
      if (group.length > MAX_SHARED_GROUP) return undefined;
    }
  }
  return group;
}

/** Whether `node` is one fold-constants evaluates: an onnx node without subgraphs, every input constant, no blocker. */
function canFoldAlone(node: Node, options: FoldOptions): boolean {
  return node.dialect === 'onnx' && node.subgraphs.length === 0 && node.outputs.length > 0 && node.op !== 'onnx.Constant' && allInputsConstant(node) && foldBlocker(node, options) === undefined;
}

/** Bytes of the distinct constant inputs of `group` that only its members read: they die when the group folds. */
function bytesFreedByGroup(group: Node[]): number {
  const members = new Set(group);
  const seen = new Set<Value>();
  let freed = 0;
  for (const node of group) {
    for (const input of node.inputs) {
      if (!input || seen.has(input)) continue;
      seen.add(input);
      const tensor = constantOf(input);
      if (!tensor || input.isGraphInput || input.isGraphOutput) continue;
      let onlyMembers = true;
      for (const use of input.uses) if (!use.node || !members.has(use.node)) onlyMembers = false;
      if (onlyMembers) freed += tensorBytes(tensor);
    }
  }
  return freed;
}
