/**
 * Channel dependency analysis: which tensor dimensions of a model must shrink together.
 *
 * The graph is walked in order; each op's rule (see `channel-rules.ts`) says how the channel
 * dimension of its inputs reaches its outputs and which constants hold parameters along it. Groups
 * are merged where an op ties them (residual Add, SE Mul, a weight shared by two layers) and refused
 * where the analysis cannot prove a removal safe (graph outputs, unknown ops, channel shuffles,
 * reshapes that split channels, reductions over channels), each refusal with its reason.
 */
import type { Model, Node, Value } from '@modelpass/ir';
import { ChannelGroup, fullPiece, refuseLayout, unifyLayouts, type ChannelLayout } from './channel-layout.js';
import { CHANNEL_RULES, refuseUnknownOp } from './channel-rules.js';

/** What a parameter tensor's axis means for the group(s) along it. */
export type ParamRole = 'producer' | 'channelwise' | 'bn-scale' | 'consumer';

/** One axis of one constant that is sliced when the groups along it are pruned. */
export interface ParamDim {
  readonly value: Value;
  readonly axis: number;
  layout: ChannelLayout;
  readonly roles: Set<ParamRole>;
  /** Names of the nodes that read it this way. */
  readonly readers: string[];
}

/** The channel dimension of an activation value. */
export interface TrackedDim {
  readonly axis: number;
  readonly layout: ChannelLayout;
}

/** An attribute or shape constant rewritten after pruning (a Reshape target, Split sizes, a group count). */
export interface ChannelFixup {
  readonly node: Node;
  readonly what: string;
  /** The channels it depends on: applied only when pruning changed them. */
  readonly layout: ChannelLayout;
  apply(): void;
}

/** A Conv/Gemm/MatMul whose input channels belong to groups: the layer `reconstruct` refits. */
export interface ChannelConsumer {
  readonly node: Node;
  readonly input: TrackedDim;
  /** Its own output channels (undefined when they are not tracked). */
  output?: TrackedDim;
}

/** A per-group report line. */
export interface ChannelGroupReport {
  readonly id: number;
  readonly channels: number;
  readonly prunable: boolean;
  readonly reasons: readonly string[];
  readonly origins: readonly string[];
  readonly granularity: number;
  /** Activation values carrying the group (names). */
  readonly values: readonly string[];
  /** Parameters sliced with the group (`name@axis`). */
  readonly params: readonly string[];
}

/** Special parameter slicing for grouped convolutions (each output row reads its own input block). */
export interface GroupedConvWeight {
  readonly node: Node;
  readonly groups: number;
  readonly input: ChannelLayout;
}

export class ChannelAnalysis {
  readonly tracked = new Map<Value, TrackedDim>();
  readonly params: ParamDim[] = [];
  readonly fixups: ChannelFixup[] = [];
  readonly consumers: ChannelConsumer[] = [];
  readonly groupedWeights: GroupedConvWeight[] = [];
  private readonly allGroups: ChannelGroup[] = [];
  private readonly paramIndex = new Map<string, ParamDim>();

  constructor(readonly model: Model) {}

  newGroup(size: number, origin: string): ChannelGroup {
    const group = new ChannelGroup(this.allGroups.length, size);
    group.origins.push(origin);
    this.allGroups.push(group);
    return group;
  }

  /** A group standing for channels the analysis cannot remove (an untracked Concat operand). */
  opaqueGroup(size: number, reason: string): ChannelGroup {
    const group = this.newGroup(size, reason);
    group.reasons.push(reason);
    return group;
  }

  track(value: Value | null | undefined, axis: number, layout: ChannelLayout): void {
    if (!value) return;
    this.tracked.set(value, { axis, layout });
  }

  trackedOf(value: Value | null | undefined): TrackedDim | undefined {
    return value ? this.tracked.get(value) : undefined;
  }

  refuse(layout: ChannelLayout, reason: string): void {
    refuseLayout(layout, reason);
  }

  /** Ties two layouts; refuses both (with `reason`) when they cannot be tied piece by piece. */
  unify(a: ChannelLayout, b: ChannelLayout, reason: string): void {
    if (!unifyLayouts(a, b)) {
      refuseLayout(a, reason);
      refuseLayout(b, reason);
    }
  }

  /** Registers `value`'s `axis` as sliced with `layout`; a constant read twice ties both readings. */
  param(node: Node, inputIndex: number, axis: number, layout: ChannelLayout, role: ParamRole): void {
    const value = node.inputs[inputIndex];
    if (!value?.constant) return;
    const key = `${value.name}\u0000${axis}`;
    const existing = this.paramIndex.get(key);
    if (existing) {
      if (existing.layout !== layout) this.unify(existing.layout, layout, `constant '${value.name}' is read by ${existing.readers[0]} and ${node.name} with channels that do not line up`);
      existing.roles.add(role);
      existing.readers.push(node.name);
      return;
    }
    if (value.isGraphInput || value.isGraphOutput) refuseLayout(layout, `'${value.name}' is a graph input or output (its shape is part of the interface)`);
    const dim: ParamDim = { value, axis, layout, roles: new Set([role]), readers: [node.name] };
    this.paramIndex.set(key, dim);
    this.params.push(dim);
  }

  private readonly consumerByNode = new Map<Node, ChannelConsumer>();

  /** Records a layer that reads tracked channels (the layers `reconstruct` refits). */
  addConsumer(node: Node, input: TrackedDim): void {
    const consumer: ChannelConsumer = { node, input };
    this.consumers.push(consumer);
    this.consumerByNode.set(node, consumer);
  }

  consumerOf(node: Node): ChannelConsumer | undefined {
    return this.consumerByNode.get(node);
  }

  fixup(node: Node, what: string, layout: ChannelLayout, apply: () => void): void {
    this.fixups.push({ node, what, layout, apply });
  }

  /** The root groups, in order of creation. */
  groups(): ChannelGroup[] {
    return this.allGroups.filter((group) => group.root() === group);
  }

  report(): ChannelGroupReport[] {
    const values = new Map<ChannelGroup, string[]>();
    const params = new Map<ChannelGroup, string[]>();
    const add = (map: Map<ChannelGroup, string[]>, layout: ChannelLayout, text: string): void => {
      for (const piece of layout) {
        const list = map.get(piece.group.root()) ?? [];
        if (!list.includes(text)) list.push(text);
        map.set(piece.group.root(), list);
      }
    };
    for (const [value, dim] of this.tracked) add(values, dim.layout, value.name);
    for (const param of this.params) add(params, param.layout, `${param.value.name}@${param.axis}`);
    return this.groups().map((group) => ({
      id: group.id,
      channels: group.size,
      prunable: group.reasons.length === 0,
      reasons: [...group.reasons],
      origins: [...group.origins],
      granularity: group.granularity,
      values: values.get(group) ?? [],
      params: params.get(group) ?? [],
    }));
  }
}

/**
 * Builds the channel groups of a model's main graph. Value types should be inferred first
 * (`inferShapes`), since reshapes are followed through their static shapes.
 */
export function analyzeChannelDependencies(model: Model): ChannelAnalysis {
  const analysis = new ChannelAnalysis(model);
  for (const node of model.graph.nodes()) {
    const rule = node.subgraphs.length > 0 ? undefined : CHANNEL_RULES.get(node.op);
    if (rule) rule(node, analysis);
    else refuseUnknownOp(node, analysis, node.subgraphs.length > 0 ? 'holds subgraphs' : 'is not known to the channel analysis');
  }
  for (const output of model.graph.outputs) {
    const dim = analysis.trackedOf(output);
    if (dim) analysis.refuse(dim.layout, `'${output.name}' is a graph output (its shape is part of the interface)`);
  }
  for (const node of model.graph.allNodes()) {
    if (node.graph === model.graph) continue;
    for (const input of node.inputs) {
      const dim = input && input.producer?.graph === model.graph ? analysis.trackedOf(input) : undefined;
      if (dim) analysis.refuse(dim.layout, `'${input!.name}' is read inside a subgraph`);
    }
  }
  for (const param of analysis.params) {
    if (param.value.useCount > param.readers.length) analysis.refuse(param.layout, `constant '${param.value.name}' is also read by a layer that does not shrink with it`);
  }
  return analysis;
}

export { fullPiece };
