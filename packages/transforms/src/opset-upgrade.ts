/**
 * The opset upgrade shared by the passes that write opset-13 ops (quantize's QuantizeLinear and per-axis
 * DequantizeLinear; train's and distill's gradient graphs): moved here from @modelpass/quantize so each uses one copy.
 *
 * An onnx opset-7/8/9 model (PaddleOCR's paddle2onnx exports are opset 9) cannot hold QuantizeLinear
 * (opset 10) or per-axis DequantizeLinear (13). Most of its nodes mean the same at opset 13; the ones
 * whose spelling changed on the way (an attribute became an input) are rewritten here, one rule per op.
 * A node whose meaning changed (Softmax over a non-last axis of a rank > 2 input, before opset 13)
 * or whose op was removed without a replacement of the same meaning here (Scatter) blocks the upgrade and is
 * named. Upsample and Resize-10 become a Resize-13 with asymmetric coordinates (opset-upgrade-resize.ts).
 * ONNX changelog, opsets 8–13: BatchNormalization-9 dropped `spatial` (1 was its default; 0 has no
 * spelling after 8); Scan-9 dropped Scan-8's batch axis and sequence_lens; Slice-10, TopK-10, Clip-11,
 * Pad-11, Dropout-12, Squeeze/Unsqueeze/Split/ReduceSum-13 moved attributes to inputs;
 * Softmax/LogSoftmax/Hardmax-13 changed meaning; the other ops of opset 7 only gained types or accept
 * a superset (multidirectional broadcasting in 8, negative axes in 11) by 13. Opset 6 and older spell
 * broadcasting and in-place inputs differently (`broadcast`, `consumed_inputs`): not upgraded here.
 */
import { isTensorType, ModelpassError, Tensor, type DiagnosticInit, type Graph, type Model, type Node, type OpRegistry, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { oldResizeBlocker, upgradeOldResize } from './opset-upgrade-resize.js';

/** What the upgrade needs from the pass that runs it (a `PassContext` gives all but `source`). */
export interface OpsetUpgradeHost {
  readonly registry: OpRegistry;
  /** Named in the refusal: 'quantize-static needs onnx opset 10 or newer (…)'. */
  readonly passName: string;
  report(diagnostic: DiagnosticInit): void;
  /** The package the warning and the refusal come from, e.g. '@modelpass/quantize'. */
  readonly source: string;
}

export const UPGRADE_TARGET_OPSET = 13;
/** The oldest onnx opset upgradeToOpset13 rewrites (opset 7 introduced numpy-style broadcasting); it takes up to opset 12. */
export const UPGRADE_OLDEST_OPSET = 7;

/** Rewrites `node` in place to its opset-13 spelling, or returns why it cannot be. */
type UpgradeRule = (node: Node, graph: Graph) => string | undefined;

function int64s(values: readonly number[]): Tensor {
  return Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
}

function constantInput(graph: Graph, node: Node, what: string, tensor: Tensor): Value {
  return graph.addConstant(graph.uniqueName(`${node.name || node.op}_${what}`), tensor);
}

function dtypeOf(value: Value | null | undefined): string | undefined {
  return value && isTensorType(value.type) ? value.type.dtype : undefined;
}

/** An ints attribute moved to input `index` (absent: the input stays absent). */
function intsAttributeToInput(name: string, index: number): UpgradeRule {
  return (node, graph) => {
    const values = node.optionalAttr(name, 'ints');
    if (values === undefined) return undefined;
    while (node.inputs.length < index) node.addInput(null);
    node.setInput(index, constantInput(graph, node, name, int64s(values)));
    node.removeAttribute(name);
    return undefined;
  };
}

function floatScalar(node: Node, value: number): Tensor | string {
  const dtype = dtypeOf(node.inputs[0]) ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'float16') return `its input is ${dtype}`;
  return Tensor.scalar(dtype, value);
}

const clip: UpgradeRule = (node, graph) => {
  for (const [name, index] of [['min', 1], ['max', 2]] as const) {
    const bound = node.optionalAttr(name, 'float');
    if (bound === undefined) continue;
    const tensor = floatScalar(node, bound);
    if (typeof tensor === 'string') return tensor;
    while (node.inputs.length < index) node.addInput(null);
    node.setInput(index, constantInput(graph, node, name, tensor));
    node.removeAttribute(name);
  }
  return undefined;
};

const slice: UpgradeRule = (node, graph) => {
  const starts = node.optionalAttr('starts', 'ints');
  const ends = node.optionalAttr('ends', 'ints');
  if (starts === undefined || ends === undefined) return 'it has no starts/ends attributes';
  const axes = node.optionalAttr('axes', 'ints');
  node.setInputs([node.inputs[0] ?? null, constantInput(graph, node, 'starts', int64s(starts)), constantInput(graph, node, 'ends', int64s(ends)), ...(axes ? [constantInput(graph, node, 'axes', int64s(axes))] : [])]);
  for (const name of ['starts', 'ends', 'axes']) if (node.hasAttribute(name)) node.removeAttribute(name);
  return undefined;
};

const pad: UpgradeRule = (node, graph) => {
  const pads = node.optionalAttr('pads', 'ints');
  if (pads === undefined) return 'it has no pads attribute';
  const inputs: Array<Value | null> = [node.inputs[0] ?? null, constantInput(graph, node, 'pads', int64s(pads))];
  const value = node.optionalAttr('value', 'float');
  if (value !== undefined && value !== 0) {
    const tensor = floatScalar(node, value);
    if (typeof tensor === 'string') return tensor;
    inputs.push(constantInput(graph, node, 'value', tensor));
  }
  node.setInputs(inputs);
  for (const name of ['pads', 'value']) if (node.hasAttribute(name)) node.removeAttribute(name);
  return undefined;
};

const dropout: UpgradeRule = (node, graph) => {
  const ratio = node.optionalAttr('ratio', 'float');
  if (ratio === undefined) return undefined;
  const tensor = floatScalar(node, ratio);
  if (typeof tensor === 'string') return tensor;
  node.setInput(1, constantInput(graph, node, 'ratio', tensor));
  node.removeAttribute('ratio');
  return undefined;
};

const topK: UpgradeRule = (node, graph) => {
  const k = node.optionalAttr('k', 'int');
  if (k === undefined) return 'it has no k attribute';
  node.setInput(1, constantInput(graph, node, 'k', int64s([k])));
  node.removeAttribute('k');
  return undefined;
};

/** Before opset 13 the input was coerced to 2-D at `axis`; that is softmax over one axis only when the axis is the last. */
const softmaxLike: UpgradeRule = (node) => {
  const input = node.inputs[0];
  const rank = input && isTensorType(input.type) && input.type.shape ? input.type.shape.length : undefined;
  const axis = node.attr('axis', 'int', 1);
  if (rank === undefined) return 'its input rank is not known (opset 13 changed its meaning for inputs of rank > 2)';
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized !== rank - 1) return `it normalizes from axis ${axis} of a rank-${rank} input, which opset 13 reads as that one axis only`;
  return undefined;
};

const removed = (replacement: string): UpgradeRule => () => `the op was removed after opset 9 (${replacement} replaces it)`;

/** Opset 7/8 BatchNormalization: `spatial=1` (the default) is what opset 9 always does; `spatial=0` has no later spelling. */
const batchNormalization: UpgradeRule = (node) => {
  if (!node.hasAttribute('spatial')) return undefined;
  if (node.attr('spatial', 'int', 1) !== 1) return 'spatial=0 (statistics per activation) has no spelling after opset 8';
  node.removeAttribute('spatial');
  return undefined;
};

const RULES: ReadonlyMap<string, UpgradeRule> = new Map([
  ['onnx.Clip', clip],
  ['onnx.Slice', slice],
  ['onnx.Pad', pad],
  ['onnx.Dropout', dropout],
  ['onnx.TopK', topK],
  ['onnx.Squeeze', intsAttributeToInput('axes', 1)],
  ['onnx.Unsqueeze', intsAttributeToInput('axes', 1)],
  ['onnx.Split', intsAttributeToInput('split', 1)],
  ['onnx.ReduceSum', intsAttributeToInput('axes', 1)],
  ['onnx.Softmax', softmaxLike],
  ['onnx.LogSoftmax', softmaxLike],
  ['onnx.Hardmax', softmaxLike],
  ['onnx.Upsample', upgradeOldResize],
  ['onnx.Scatter', removed('ScatterElements')],
]);

/** Ops whose attributes became inputs in opset 10 (their rules do not apply to an opset-10 model). */
const ATTRIBUTES_BEFORE_10 = new Set(['onnx.Slice', 'onnx.TopK']);
/** Ops whose attributes became inputs in opset 11 (Pad-11 and Clip-11 take inputs: no rule for an opset-11/12 model). */
const ATTRIBUTES_BEFORE_11 = new Set(['onnx.Pad', 'onnx.Clip']);

/** Rules of opset 8 and older nodes (run on a model importing opset 7 or 8 only). */
const RULES_BEFORE_9: ReadonlyMap<string, UpgradeRule> = new Map([
  ['onnx.BatchNormalization', batchNormalization],
  ['onnx.Scan', () => 'Scan-8 (a batch axis and sequence_lens) was replaced by Scan-9, which has neither'],
]);

/** Rules that only check (nothing to rewrite), run first so a blocked model is left untouched. */
const CHECK_ONLY = new Set(['onnx.Softmax', 'onnx.LogSoftmax', 'onnx.Hardmax', 'onnx.Scatter', 'onnx.Scan']);

export interface OpsetUpgradeResult {
  /** Nodes that keep the model at its opset, each with why. Empty when the upgrade was applied. */
  readonly blocking: ReadonlyArray<{ readonly node: Node; readonly reason: string }>;
  /** Rewritten nodes per op (applied upgrades only). */
  readonly rewritten: ReadonlyMap<string, number>;
}

function nodesOfModel(model: Model): Node[] {
  return [...model.graph.allNodes()].filter((node) => node.op.startsWith('onnx.'));
}

/**
 * Upgrades an onnx-opset-7…12 model to opset 13 in place when every node can be spelled there with
 * the same meaning; otherwise changes nothing and lists the nodes that block. Throws for a model
 * importing another opset (the caller checks UPGRADE_OLDEST_OPSET first). Opsets 11 and 12 differ
 * from 13 only by Squeeze/Unsqueeze/Split/ReduceSum attributes (inputs in 13), Dropout-10's ratio
 * (an opset-11 model) and Softmax/LogSoftmax/Hardmax's meaning; the other ops there gained types only.
 */
export function upgradeToOpset13(model: Model): OpsetUpgradeResult {
  const opset = model.opset('onnx');
  if (opset === undefined || opset < UPGRADE_OLDEST_OPSET || opset >= UPGRADE_TARGET_OPSET) throw new Error(`upgradeToOpset13 takes onnx opsets ${UPGRADE_OLDEST_OPSET}–${UPGRADE_TARGET_OPSET - 1}, not ${opset}`);
  const ruleOf = (op: string): UpgradeRule | undefined => {
    if (opset >= 10 && ATTRIBUTES_BEFORE_10.has(op)) return undefined; // Slice-10 and TopK-10 already take inputs
    if (opset >= 11 && ATTRIBUTES_BEFORE_11.has(op)) return undefined; // so do Pad-11 and Clip-11
    if (op === 'onnx.Resize') return opset < 11 ? upgradeOldResize : undefined; // Resize-10 reads (X, scales)
    return (opset < 9 ? RULES_BEFORE_9.get(op) : undefined) ?? RULES.get(op);
  };
  const nodes = nodesOfModel(model);
  const blocking: Array<{ node: Node; reason: string }> = [];
  for (const node of nodes) {
    if (!CHECK_ONLY.has(node.op)) continue;
    const reason = ruleOf(node.op)?.(node, node.graph!);
    if (reason) blocking.push({ node, reason });
  }
  // Rewrites that can fail (a Clip of a non-float input) are checked on their attributes before any node changes.
  for (const node of nodes) {
    if ((node.op === 'onnx.Clip' || node.op === 'onnx.Pad' || node.op === 'onnx.Dropout') && typeof floatScalar(node, 0) === 'string' && (node.hasAttribute('min') || node.hasAttribute('max') || node.hasAttribute('value') || node.hasAttribute('ratio'))) {
      blocking.push({ node, reason: `its input is ${dtypeOf(node.inputs[0])}` });
    }
    if (opset < 10 && node.op === 'onnx.Slice' && (!node.hasAttribute('starts') || !node.hasAttribute('ends'))) blocking.push({ node, reason: 'it has no starts/ends attributes' });
    if (opset < 11 && node.op === 'onnx.Pad' && !node.hasAttribute('pads')) blocking.push({ node, reason: 'it has no pads attribute' });
    if (opset < 10 && node.op === 'onnx.TopK' && !node.hasAttribute('k')) blocking.push({ node, reason: 'it has no k attribute' });
    if (opset < 9 && node.op === 'onnx.BatchNormalization' && node.attr('spatial', 'int', 1) !== 1) blocking.push({ node, reason: 'spatial=0 (statistics per activation) has no spelling after opset 8' });
    // Upsample and Resize-10 are (X, scales) with asymmetric coordinates; from 11 the second input is roi and the default is half_pixel.
    if (node.op === 'onnx.Upsample' || (opset < 11 && node.op === 'onnx.Resize')) {
      const reason = oldResizeBlocker(node);
      if (reason) blocking.push({ node, reason });
    }
  }
  if (blocking.length > 0) return { blocking, rewritten: new Map() };
  const rewritten = new Map<string, number>();
  for (const node of nodes) {
    const rule = ruleOf(node.op);
    if (!rule || CHECK_ONLY.has(node.op)) continue;
    const before = node.attributes.size;
    rule(node, node.graph!);
    // A rule changed the node's attributes, or replaced the node (Upsample and Resize-10 by a Resize-13).
    if (node.attributes.size !== before || node.graph === null) rewritten.set(node.op, (rewritten.get(node.op) ?? 0) + 1);
  }
  model.opsetImports.set('onnx', UPGRADE_TARGET_OPSET);
  return { blocking, rewritten };
}

/** "Clip ×28, Slice ×10" */
export function describeCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([op, n]) => `${op.replace(/^onnx\./, '')} ×${n}`).join(', ');
}

/** "Softmax 'p2o.Softmax.0' (it normalizes from axis 1 of a rank-3 input, …); Upsample 'up' (…)" */
export function describeBlocking(blocking: OpsetUpgradeResult['blocking']): string {
  const shown = blocking.slice(0, 5).map(({ node, reason }) => `${node.op.replace(/^onnx\./, '')} '${node.name}' (${reason})`);
  return `${shown.join('; ')}${blocking.length > 5 ? `; and ${blocking.length - 5} more` : ''}`;
}

/**
 * A pass that writes ops of onnx opset `minimum` (QuantizeLinear: 10; DynamicQuantizeLinear: 11) on
 * an older model: upgrades it to opset 13 where every node allows it (with a warning saying what was
 * rewritten), else refuses naming the nodes that block. `writes` says what the pass needs the opset for.
 * Train and distill call it with minimum 13 (autodiff writes opset-13 ops).
 */
export function upgradeOldOpset(model: Model, host: OpsetUpgradeHost, minimum: number, writes: string): void {
  const opset = model.opset('onnx');
  if (opset === undefined || opset >= minimum) return;
  const needs = `${host.passName} needs onnx opset ${minimum} or newer (${writes})`;
  const fail = (reason: string): never => {
    throw new ModelpassError({
      reason,
      source: host.source,
      hint: `ONNX's converter rewrites such models: python3 -c "import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load('in.onnx'), 13), 'out.onnx')"`,
    });
  };
  if (opset < UPGRADE_OLDEST_OPSET) {
    fail(`${needs}; the model imports opset ${opset}, which spells broadcasting and in-place inputs differently, and only opsets ${UPGRADE_OLDEST_OPSET}–${UPGRADE_TARGET_OPSET - 1} are upgraded here`);
  }
  inferShapes(model, { registry: host.registry, mode: 'refresh' }); // Softmax's rule reads its input rank
  const { blocking, rewritten } = upgradeToOpset13(model);
  if (blocking.length > 0) fail(`${needs}; the model imports opset ${opset}, and ${blocking.length} node(s) keep it there: ${describeBlocking(blocking)}`);
  host.report({
    severity: 'warning',
    source: host.source,
    reason: `the model imported onnx opset ${opset}, which cannot hold ${writes}; it now imports opset ${UPGRADE_TARGET_OPSET}${rewritten.size > 0 ? `, with ${describeCounts(rewritten)} rewritten to their opset-${UPGRADE_TARGET_OPSET} inputs` : ' (no node changed its spelling)'}`,
  });
}
