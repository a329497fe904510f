import { attrs, Builder, isTensorType, Tensor, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { constantOf, rankOf, shapeOf } from '../util/constants.js';
import { absorbTransposeIntoFlatten } from './absorb-flatten.js';
import { hoistTransposeAboveReshape, RESHAPE_LIKE_OPS } from './hoist-above-reshape.js';
import { splitForReshape } from './split-for-reshape.js';
import {
  composePermutations,
  expandRank,
  invertPermutation,
  isIdentityPermutation,
  permuteType,
  transposeTensor,
  type Permutation,
} from './permutation.js';
import { defaultTransposeRules, type TransposeRuleRegistry, type TransposeSinkPlan } from './transpose-rules.js';
import { transposeOf, transposePermutation } from './transpose-node.js';
import { unitTransposeAsReshape } from './unit-transpose.js';

export interface SinkTransposesOptions {
  /** How each op lets a transpose through (default: `defaultTransposeRules()`). */
  readonly rules?: TransposeRuleRegistry;
  /** Sweeps over the graph at most (each sweep pushes every transpose one or more ops down). Default 64. */
  readonly maxSweeps?: number;
  /** Turn a transpose that only moves size-1 dims into a Reshape (default true). */
  readonly unitTransposesAsReshape?: boolean;
  /**
   * After sinking, move a transpose that stays inside only because a chain of ops (Pad, Unsqueeze, …) reads
   * a graph input before it up to that input, when every op of the chain takes it (default true).
   */
  readonly hoistToInputs?: boolean;
  /** Debug log: why a transpose stayed where it is. */
  readonly debug?: (message: string) => void;
}

export interface SinkTransposesResult {
  /** Ops a transpose was moved through. */
  pushed: number;
  /** Transpose pairs that cancelled or merged into one. */
  merged: number;
  /** Transposes of constants computed offline. */
  folded: number;
  /** Transposes absorbed by permuting the weights behind a Flatten/Reshape (Gemm, MatMul). */
  absorbed: number;
  /** Transposes of size-1 dims turned into Reshapes. */
  reshaped: number;
  /** Transposes left in the graph, and how many of them read a graph input or write a graph output. */
  remaining: number;
  atBoundary: number;
}

function samePermutation(a: Permutation, b: Permutation): boolean {
  return a.length === b.length && a.every((axis, i) => axis === b[i]);
}

/** Adds `Transpose(value, perm)` at `at` and returns its output (typed from `value`). */
export function insertTranspose(at: Builder, value: Value, perm: Permutation, name?: string): Value {
  return at.op1('onnx.Transpose', [value], { perm: attrs.ints(perm) }, { types: [permuteType(value.type, perm)], name: name ?? 'Transpose' });
}

/** Makes `value`'s users read `Transpose(value, perm)` instead (graph outputs keep their names), and retypes `value`. */
function transposeUsesOf(value: Value, perm: Permutation, after: Node, newType = permuteType(value.type, invertPermutation(perm))): void {
  const original = value.type;
  value.type = newType;
  const transposed = Builder.after(after).op1('onnx.Transpose', [value], { perm: attrs.ints(perm) }, { types: [original] });
  value.replaceAllUsesWith(transposed, { except: transposed.producer! });
}

/** `Shape(Transpose(a, perm))` = `Gather(Shape(a), perm)`: shape arithmetic reads `a` and the transpose loses a reader. */
function shapeReadsThrough(transpose: Node, perm: Permutation): boolean {
  const output = transpose.outputs[0];
  if (!output) return false;
  let changed = false;
  for (const user of output.users) {
    if (user.op !== 'onnx.Shape' || user.optionalAttr('start', 'int') !== undefined || user.optionalAttr('end', 'int') !== undefined) continue;
    const at = Builder.after(user);
    const shape = user.output(0);
    const indices = at.constant(Tensor.fromValues('int64', [perm.length], perm), `${user.name}_perm`);
    const gathered = at.op1('onnx.Gather', [shape, indices], { axis: attrs.int(0) }, { types: [shape.type] });
    shape.replaceAllUsesWith(gathered, { except: gathered.producer! });
    user.setInput(0, transpose.input(0));
    changed = true;
  }
  if (changed && !output.hasUses) transpose.erase();
  return changed;
}

/**
 * A Transpose by `perm` of `value` the graph already has (not `except`): a node that needs `value` in that layout
 * reads it instead of adding another (a sequence-first attention block's residual Add reads the graph input that
 * the attention itself transposed to batch-major).
 */
function existingTransposeOf(value: Value, perm: Permutation, except: Node): Node | undefined {
  for (const user of value.users) {
    if (user === except || user.graph !== except.graph || user.op !== 'onnx.Transpose' || user.inputs[0] !== value) continue;
    const userPerm = transposePermutation(user);
    if (userPerm && samePermutation(userPerm, perm)) return user;
  }
  return undefined;
}

/** Moves `transpose` (reading only `value`) up to just after `value` is defined, so every node of the graph may read it. */
function hoistToDefinition(transpose: Node, value: Value): void {
  const producer = value.producer;
  if (producer) {
    if (producer.graph === transpose.graph) transpose.moveAfter(producer);
    return;
  }
  const first = transpose.graph?.firstNode;
  if (first && first !== transpose) transpose.moveBefore(first);
}

let sharedDefaultRules: TransposeRuleRegistry | undefined;
/** `defaultTransposeRules()` built once: the sinker only reads it (a caller wanting more passes its own registry). */
function builtinRules(): TransposeRuleRegistry {
  return (sharedDefaultRules ??= defaultTransposeRules());
}

/** Whether an `onnx.Transpose` produces one of `node`'s inputs (checked before anything is allocated: most nodes of a sweep read none). */
function readsATranspose(node: Node): boolean {
  for (const input of node.inputs) if (input?.producer?.op === 'onnx.Transpose') return true;
  return false;
}

/**
 * Whether `Transpose(outputPerm)` then `Transpose(perm)` of `output` rewritten in the new layout is an identity,
 * or moves only size-1 dims (a Reshape after sinking: a 1-D Conv's Unsqueeze puts its unit axis elsewhere), a
 * symbolic batch included.
 */
function movesOnlyUnitDims(output: Value | undefined, outputPerm: Permutation, perm: Permutation): boolean {
  const composed = composePermutations(outputPerm, perm);
  if (isIdentityPermutation(composed)) return true;
  const dims = shapeOf(output);
  if (!dims || dims.length !== composed.length) return false;
  const newDims = permuteType(output!.type, invertPermutation(outputPerm));
  const shape = isTensorType(newDims) ? newDims.shape : null;
  if (!shape) return false;
  const moving = composed.filter((axis) => shape[axis] !== 1);
  if (!moving.every((axis, i) => i === 0 || axis > moving[i - 1]!)) return false;
  // As `unitTransposeAsReshape` takes it: a symbolic dim in place (a Reshape copies it), at most one elsewhere (-1).
  return composed.filter((axis, i) => typeof shape[axis] !== 'number' && axis !== i).length <= 1;
}

/** Every permutation of `rank` dims (rank ≤ 5: at most 120). */
function listPermutations(rank: number): number[][] {
  if (rank === 0) return [[]];
  return listPermutations(rank - 1).flatMap((perm) => Array.from({ length: rank }, (_, at) => [...perm.slice(0, at), rank - 1, ...perm.slice(at)]));
}

/** `listPermutations` by rank, built once per process (read only): a hoist check tries each of them. */
const PERMUTATIONS_BY_RANK = new Map<number, readonly Permutation[]>();
function permutationsOf(rank: number): readonly Permutation[] {
  let permutations = PERMUTATIONS_BY_RANK.get(rank);
  if (!permutations) PERMUTATIONS_BY_RANK.set(rank, (permutations = listPermutations(rank)));
  return permutations;
}

/**
 * The input `hoistToInput` would follow up from `value`'s producer: its one operand that is not a constant, when
 * the chain may go on through it (a single-reader value that no Transpose produces and no graph output is);
 * undefined where the walk stops. Only the graph's structure: no rule is asked.
 */
function chainInput(value: Value): number | undefined {
  const producer = value.producer;
  if (!producer || producer.op === 'onnx.Transpose' || value.useCount !== 1 || value.isGraphOutput) return undefined;
  let found: number | undefined;
  const inputs = producer.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (!input || input.isConstant || constantOf(input) !== undefined) continue;
    if (found !== undefined) return undefined;
    found = i;
  }
  return found;
}

/**
 * Whether the chain above `transpose` reaches a graph input through at most `limit` ops `chainInput` lets it pass:
 * the structure `hoistToInput` needs before it asks any op's rule for a plan (24 or 120 permutations an op).
 */
function reachesGraphInput(transpose: Node, limit: number): boolean {
  let value = transpose.input(0);
  for (let steps = 0; !value.isGraphInput; steps++) {
    if (steps >= limit) return false;
    const input = chainInput(value);
    if (input === undefined) return false;
    value = value.producer!.input(input);
  }
  return true;
}

/** The most ops a transpose is hoisted through up to a graph input. */
const HOIST_CHAIN_LIMIT = 8;

class TransposeSinker {
  readonly result: SinkTransposesResult = { pushed: 0, merged: 0, folded: 0, absorbed: 0, reshaped: 0, remaining: 0, atBoundary: 0 };
  private readonly rules: TransposeRuleRegistry;

  constructor(
    private readonly model: Model,
    private readonly options: SinkTransposesOptions,
  ) {
    this.rules = options.rules ?? builtinRules();
  }

  private debug(message: string): void {
    this.options.debug?.(message);
  }

  run(graph: Graph): void {
    const unusedBefore = new Set(graph.constants.filter((constant) => !constant.hasUses));
    const sweeps = this.options.maxSweeps ?? 64;
    for (let sweep = 0; sweep < sweeps; sweep++) {
      let changed = false;
      for (const node of graph.nodes()) {
        if (!node.graph) continue;
        if (node.op === 'onnx.Transpose') changed = this.simplifyTranspose(node) || changed;
        else changed = this.pushThrough(node) || changed;
      }
      this.eraseDeadTransposes(graph);
      if (!changed) break;
    }
    if (this.options.hoistToInputs ?? true) {
      for (const node of graph.nodesOf('onnx.Transpose')) if (node.graph && this.hoistToInput(node)) this.result.pushed++;
      this.eraseDeadTransposes(graph);
    }
    if (this.options.unitTransposesAsReshape ?? true) {
      for (const node of graph.nodesOf('onnx.Transpose')) if (unitTransposeAsReshape(node)) this.result.reshaped++;
    }
    this.eraseDeadTransposes(graph);
    this.mergeDuplicateTransposes(graph);
    for (const constant of [...graph.constants]) {
      if (!constant.hasUses && !constant.isGraphInput && !unusedBefore.has(constant)) graph.removeConstant(constant);
    }
    for (const node of graph.nodesOf('onnx.Transpose')) {
      this.result.remaining++;
      const input = node.inputs[0];
      if (input?.isGraphInput || node.outputs[0]?.isGraphOutput) this.result.atBoundary++;
    }
  }

  /** Merges a transpose into the one before it, drops identities, folds constants. */
  private simplifyTranspose(node: Node): boolean {
    const perm = transposePermutation(node);
    const output = node.outputs[0];
    if (!perm || !output) return false;
    const input = node.input(0);
    if (isIdentityPermutation(perm)) return this.forward(output, input, node);
    const inner = transposeOf(input);
    if (inner) {
      const composed = composePermutations(inner.perm, perm);
      this.result.merged++;
      if (isIdentityPermutation(composed)) return this.forward(output, inner.node.input(0), node);
      node.setInput(0, inner.node.input(0));
      node.setAttribute('perm', attrs.ints(composed));
      return true;
    }
    const tensor = constantOf(input);
    if (tensor && tensor.dtype !== 'string' && !input.isGraphInput) {
      const folded = Builder.before(node).constant(transposeTensor(tensor, perm), `${input.name}_transposed`);
      this.result.folded++;
      return this.forward(output, folded, node);
    }
    if (shapeReadsThrough(node, perm)) {
      this.result.pushed++;
      return true;
    }
    if (this.splitThroughReshape(node, perm)) {
      this.result.pushed++;
      return true;
    }
    // Hoisting merges with a transpose above the Reshape: only for one that cannot move on down
    // (else it would undo splitThroughReshape).
    const afterReshape = RESHAPE_LIKE_OPS.has(node.inputs[0]?.producer?.op ?? '');
    if (afterReshape && !this.usersTake(node.outputs[0] ?? undefined, perm) && hoistTransposeAboveReshape(node, perm)) {
      this.result.merged++;
      return true;
    }
    return absorbTransposeIntoFlatten(node, perm, this.result, (m) => this.debug(m));
  }

  /** Whether every reader of `value` (a transpose by `perm`) has a rule that moves the transpose on. */
  private usersTake(value: Value | undefined, perm: Permutation): boolean {
    if (!value || value.isGraphOutput || !value.hasUses) return false;
    const opset = this.model.opset('onnx') ?? 17;
    return value.users.every((user) => user.op === 'onnx.Transpose' || this.rules.get(user.op)?.plan(user, perm, opset) !== undefined);
  }

  /**
   * A transpose whose only reader is a Reshape that cannot take it (a merged run of dims is out of
   * order) is split (`splitForReshape`): the part that reorders the run stays above the Reshape and
   * the rest moves below it, when the Reshape's readers can take it further.
   */
  private splitThroughReshape(node: Node, perm: Permutation): boolean {
    const output = node.outputs[0];
    if (!output || output.isGraphOutput || output.useCount !== 1) return false;
    const reshape = output.users[0];
    if (reshape?.op !== 'onnx.Reshape' || reshape.inputs[0] !== output) return false;
    const reshaped = reshape.outputs[0];
    const transposedDims = shapeOf(output);
    const reshapedDims = shapeOf(reshaped);
    if (!reshaped || !transposedDims || !reshapedDims) return false;
    const split = splitForReshape(transposedDims, reshapedDims, perm);
    const rule = this.rules.get('onnx.Reshape');
    const plan = split && rule?.plan(reshape, split.rest, this.model.opset('onnx') ?? 17);
    const outputPerm = plan?.outputPermutations[0];
    if (!split || !plan || !outputPerm || !this.usersTake(reshaped, outputPerm)) return false;
    reshape.setInput(0, insertTranspose(Builder.before(node), node.input(0), split.first));
    plan.apply(Builder.before(reshape));
    transposeUsesOf(reshaped, outputPerm, reshape);
    if (!output.hasUses) node.erase();
    return true;
  }

  private forward(output: Value, source: Value, node: Node): boolean {
    if (output.isGraphOutput && (source.isGraphInput || source.isGraphOutput || source.producer === null)) return false;
    output.replaceAllUsesWith(source);
    if (!output.hasUses) node.erase();
    return true;
  }

  /** Moves the transpose(s) on `node`'s layout inputs to its outputs when that does not add transposes. */
  private pushThrough(node: Node): boolean {
    const rule = this.rules.get(node.op);
    if (!rule || !readsATranspose(node)) return false;
    const first = node.inputs.map(transposeOf).find((t) => t !== undefined);
    if (!first) return false;
    const perm = first.perm;
    const plan = rule.plan(node, perm, this.model.opset('onnx') ?? 17);
    if (!plan) {
      this.debug(`sink-transposes: ${node.op} '${node.name}' cannot take transpose [${perm.join(',')}] through`);
      return false;
    }
    if (!plan.layoutInputs.some((i) => transposeOf(node.inputs[i])?.node === first.node)) return false;
    const cost = this.cost(node, plan, perm);
    if (cost === undefined || cost > 0) {
      this.debug(`sink-transposes: left ${node.op} '${node.name}' alone (${cost === undefined ? 'input ranks differ' : `would add ${cost} transpose(s)`})`);
      return false;
    }
    this.apply(node, plan, perm);
    this.result.pushed++;
    return true;
  }

  /** Transposes added minus transposes made unnecessary; undefined when an input cannot be brought into the layout. */
  private cost(node: Node, plan: TransposeSinkPlan, perm: Permutation): number | undefined {
    const inverse = invertPermutation(perm);
    let cost = 0;
    for (const index of plan.layoutInputs) {
      const input = node.inputs[index];
      if (!input) continue;
      const transpose = transposeOf(input);
      if (transpose && samePermutation(transpose.perm, perm)) {
        cost--;
        continue;
      }
      const tensor = constantOf(input);
      if (tensor && !input.isGraphInput) {
        if (tensor.rank > perm.length || tensor.dtype === 'string' || tensor.byteLength > 256 << 20) return undefined;
        continue;
      }
      if (rankOf(input) !== perm.length) return undefined;
      if (transpose && isIdentityPermutation(composePermutations(transpose.perm, inverse))) cost--;
      else if (!transpose && !existingTransposeOf(input, inverse, node)) cost++;
    }
    // An output transpose costs one unless every reader can take it further (then it is expected to move on).
    plan.outputPermutations.forEach((outputPerm, index) => {
      const output = node.outputs[index];
      if (!output?.hasUses || isIdentityPermutation(outputPerm)) return;
      const movesOn = !output.isGraphOutput && output.users.every((user) => user.op === 'onnx.Transpose' || this.rules.get(user.op) !== undefined);
      if (!movesOn || plan.outputPermutations.length === 1) cost++;
    });
    return cost;
  }

  private apply(node: Node, plan: TransposeSinkPlan, perm: Permutation): void {
    const inverse = invertPermutation(perm);
    const before = Builder.before(node);
    for (const index of plan.layoutInputs) {
      const input = node.inputs[index];
      if (!input) continue;
      const transpose = transposeOf(input);
      if (transpose && samePermutation(transpose.perm, perm)) {
        node.setInput(index, transpose.node.input(0));
        continue;
      }
      const tensor = constantOf(input);
      if (tensor && !input.isGraphInput) {
        const moved: Tensor = transposeTensor(expandRank(tensor, perm.length), inverse);
        node.setInput(index, before.constant(moved, `${input.name}_transposed`));
        continue;
      }
      const existing = existingTransposeOf(input, inverse, node);
      if (existing) {
        hoistToDefinition(existing, input);
        node.setInput(index, existing.output(0));
        continue;
      }
      node.setInput(index, insertTranspose(before, input, inverse));
    }
    plan.apply(before);
    plan.outputPermutations.forEach((outputPerm, index) => {
      const output = node.outputs[index];
      if (!output) return;
      const newType = isTensorType(output.type) ? permuteType(output.type, invertPermutation(outputPerm)) : output.type;
      if (!output.hasUses || isIdentityPermutation(outputPerm)) {
        output.type = newType;
        return;
      }
      transposeUsesOf(output, outputPerm, node, newType);
    });
  }

  /**
   * The permutation `q` of `node`'s chain input such that `node` fed `Transpose(input, q)` (rewritten by
   * its rule) gives its output transposed by `perm`; undefined when its rule has none, or other layout
   * inputs are not constants (they would need transposes of their own).
   */
  private hoistPlan(node: Node, input: number, perm: Permutation): Permutation | undefined {
    const rule = this.rules.get(node.op);
    const rank = rankOf(node.inputs[input]);
    if (!rule || rank === undefined || rank > 5 || node.outputs.length !== 1) return undefined;
    const opset = this.model.opset('onnx') ?? 17;
    for (const q of permutationsOf(rank)) {
      if (isIdentityPermutation(q)) continue;
      const plan = rule.plan(node, invertPermutation(q), opset);
      if (!plan || !plan.layoutInputs.includes(input) || plan.outputPermutations.length !== 1) continue;
      if (!movesOnlyUnitDims(node.outputs[0] ?? undefined, plan.outputPermutations[0]!, perm)) continue;
      const others = plan.layoutInputs.filter((i) => i !== input && node.inputs[i]);
      if (others.every((i) => !node.inputs[i]!.isGraphInput && constantOf(node.inputs[i]) !== undefined)) return q;
    }
    return undefined;
  }

  /**
   * A transpose left inside whose input comes from a graph input through single-reader ops that all take
   * it (a reflect Pad, a 1-D Conv's Unsqueeze before the NHWC conv): rewritten as `Transpose(input)` and
   * the chain in the new layout, so it is a boundary transpose. Checked to the graph input before anything changes.
   */
  private hoistToInput(transpose: Node): boolean {
    let perm = transposePermutation(transpose);
    if (!perm || transpose.inputs[0]?.isGraphInput || transpose.outputs[0]?.isGraphOutput) return false;
    // The walk's path depends only on the graph's structure: where it cannot reach a graph input (most transposes
    // left inside), no plan is computed.
    if (!reachesGraphInput(transpose, HOIST_CHAIN_LIMIT)) return false;
    const chain: { node: Node; input: number; perm: Permutation; q: Permutation }[] = [];
    let value = transpose.input(0);
    while (!value.isGraphInput) {
      const input = chainInput(value);
      if (input === undefined || chain.length >= HOIST_CHAIN_LIMIT) return false;
      const producer = value.producer!;
      const q = this.hoistPlan(producer, input, perm);
      if (!q) return false;
      chain.push({ node: producer, input, perm, q });
      perm = q;
      value = producer.input(input);
    }
    if (chain.length === 0) return false;
    // From the transpose up: each op then reads Transpose(q) of its input and writes Transpose(outputPerm), which
    // cancels with the transpose below it (the original one, then the one hoisted above the op before).
    for (const step of chain) {
      const source = step.node.input(step.input);
      const at = Builder.before(step.node);
      const hoisted = insertTranspose(at, source, step.q);
      step.node.setInput(step.input, insertTranspose(at, hoisted, invertPermutation(step.q)));
      const plan = this.rules.get(step.node.op)!.plan(step.node, invertPermutation(step.q), this.model.opset('onnx') ?? 17)!;
      this.apply(step.node, plan, invertPermutation(step.q));
        const below = step.node.outputs[0]!.users[0]?.outputs[0]?.users[0];
      if (below?.op === 'onnx.Transpose') this.simplifyTranspose(below);
    }
    this.debug(`sink-transposes: hoisted a transpose to graph input '${value.name}' through ${chain.length} op(s)`);
    return true;
  }

  /**
   * Two transposes of one value by one permutation (sinking a transpose through one of two readers leaves the other
   * its own copy): the later one's readers read the first, moved up to where the value is defined.
   */
  private mergeDuplicateTransposes(graph: Graph): void {
    for (const node of graph.nodesOf('onnx.Transpose')) {
      if (!node.graph) continue;
      const perm = transposePermutation(node);
      const input = node.inputs[0];
      const output = node.outputs[0];
      if (!perm || !input || !output || output.isGraphOutput) continue;
      const first = existingTransposeOf(input, perm, node);
      if (!first || first.outputs[0]?.isGraphOutput) continue;
      hoistToDefinition(first, input);
      output.replaceAllUsesWith(first.output(0));
      node.erase();
      this.result.merged++;
    }
  }

  private eraseDeadTransposes(graph: Graph): void {
    for (let node = graph.lastNode; node; ) {
      const previous = node.prev;
      if (node.op === 'onnx.Transpose' && !node.outputs[0]?.hasUses) node.erase();
      node = previous;
    }
  }
}

/**
 * Moves every `onnx.Transpose` down through the ops its rules let it pass (elementwise and
 * broadcasting ops, axis-renumbering ops, reductions), merges transposes that meet, computes
 * transposes of constants offline, absorbs a transpose before Flatten→Gemm/MatMul into the
 * weights, and turns one that moves only size-1 dims into a Reshape. A move happens only when it
 * does not add transposes (the cost model counts transposes consumed on inputs against those
 * needed on other inputs and on outputs). Works on the top-level graph.
 */
export function sinkTransposes(model: Model, options: SinkTransposesOptions = {}): SinkTransposesResult {
  const sinker = new TransposeSinker(model, options);
  sinker.run(model.graph);
  return sinker.result;
}
