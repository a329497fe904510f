/**
 * Sequences and optionals resolved at conversion time: TFLite has neither, but a sequence whose
 * elements and positions are known while converting (SequenceConstruct/Empty/Insert/Erase with
 * constant positions, SplitToSequence of a static shape) is just a list of tensors. The readers
 * (SequenceAt, SequenceLength, ConcatFromSequence, OptionalGetElement, OptionalHasElement) are
 * replaced by those tensors, constants, Slice/Squeeze/Unsqueeze/Concat; the sequence ops then have
 * no readers left and go. What depends on run-time data (a position computed at run time, a
 * sequence graph input or output, SequenceMap) is refused per node.
 */
import { attrs, Builder, Tensor, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { loweringError, normalizeAxis, staticDims, typeWithShape } from '../lowering-tools.js';

const SEQUENCE_OPS = ['SequenceEmpty', 'SequenceConstruct', 'SequenceInsert', 'SequenceErase', 'SequenceAt', 'SequenceLength', 'SplitToSequence', 'ConcatFromSequence', 'SequenceMap'];
const OPTIONAL_OPS = ['Optional', 'OptionalGetElement', 'OptionalHasElement'];
/** The sequence and optional ops `foldStaticSequences` resolves, by full name (legalize-tflite skips it for a model with none). */
export const SEQUENCE_AND_OPTIONAL_OPS: readonly string[] = [...SEQUENCE_OPS, ...OPTIONAL_OPS].map((op) => `onnx.${op}`);

/** What is known of a value at conversion time: a list of tensors (sequence) or an optional's content (null = empty). */
interface Known {
  readonly sequences: Map<Value, Value[]>;
  readonly optionals: Map<Value, Value | null>;
}

function position(value: Value | null | undefined): number | undefined {
  const tensor = constantOf(value);
  if (!tensor || tensor.size !== 1 || tensor.dtype === 'string') return undefined;
  return tensor.toNumbers()[0];
}

/** Replaces every use of `output` by `value` (an Identity copy when a graph output would become an input or constant). */
function substitute(node: Node, output: Value | null | undefined, value: Value): void {
  if (!output) return;
  if (output.isGraphOutput && (!value.producer || value.isGraphOutput)) value = Builder.before(node).op1('onnx.Identity', [value], {}, { types: [output.type] });
  output.replaceAllUsesWith(value);
}

function opsetOf(model: Model): number {
  return model.opset('onnx') ?? 17;
}

function squeeze(at: Builder, x: Value, axis: number, opset: number): Value {
  if (opset < 13) return at.op1('onnx.Squeeze', [x], { axes: attrs.ints([axis]) });
  return at.op1('onnx.Squeeze', [x, at.constant(Tensor.fromValues('int64', [1], [BigInt(axis)]), 'axes')]);
}

function unsqueeze(at: Builder, x: Value, axis: number, opset: number): Value {
  if (opset < 13) return at.op1('onnx.Unsqueeze', [x], { axes: attrs.ints([axis]) });
  return at.op1('onnx.Unsqueeze', [x, at.constant(Tensor.fromValues('int64', [1], [BigInt(axis)]), 'axes')]);
}

/** SplitToSequence of a static shape: one Slice (and Squeeze) per element. */
function splitToSequence(node: Node, opset: number): Value[] | string {
  const dims = staticDims(node.inputs[0]);
  if (!dims) return 'SplitToSequence needs a static input shape';
  const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, dims.length);
  if (axis === undefined) return 'the axis is out of range';
  const length = dims[axis]!;
  let sizes: number[];
  const split = node.inputs[1];
  if (split) {
    const tensor = constantOf(split);
    if (!tensor) return 'split is computed at run time';
    const values = tensor.toNumbers();
    if (tensor.rank === 0) {
      const chunk = values[0]!;
      if (chunk <= 0) return 'split must be positive';
      sizes = Array.from({ length: Math.ceil(length / chunk) }, (_, i) => Math.min(chunk, length - i * chunk));
    } else sizes = values;
    if (sizes.reduce((n, s) => n + s, 0) !== length) return `split sizes [${sizes.join(', ')}] do not add up to the axis length ${length}`;
  } else sizes = new Array<number>(length).fill(1);
  const squeezeEach = !split && (node.optionalAttr('keepdims', 'int') ?? 1) === 0;
  const at = Builder.before(node);
  const axes = at.constant(Tensor.fromValues('int64', [1], [BigInt(axis)]), `${node.name}_axes`);
  let start = 0;
  return sizes.map((size) => {
    const bounds = [start, start + size].map((v) => at.constant(Tensor.fromValues('int64', [1], [BigInt(v)]), `${node.name}_bound`));
    start += size;
    const type = node.input(0).type;
    const part = at.op1('onnx.Slice', [node.input(0), bounds[0]!, bounds[1]!, axes], {}, { types: [typeWithShape(type, dims.map((d, i) => (i === axis ? size : d)))] });
    if (!squeezeEach) return part;
    const squeezed = squeeze(at, part, axis, opset);
    squeezed.type = typeWithShape(type, dims.filter((_, i) => i !== axis));
    return squeezed;
  });
}

function concatFromSequence(node: Node, elements: Value[], opset: number): Value | string {
  if (elements.length === 0) return 'ConcatFromSequence of an empty sequence';
  const rank = staticDims(elements[0])?.length;
  if (rank === undefined) return 'the elements need static shapes';
  const newAxis = (node.optionalAttr('new_axis', 'int') ?? 0) === 1;
  const axis = normalizeAxis(node.attr('axis', 'int'), newAxis ? rank + 1 : rank);
  if (axis === undefined) return 'the axis is out of range';
  const at = Builder.before(node);
  const parts = newAxis ? elements.map((element) => unsqueeze(at, element, axis, opset)) : elements;
  return parts.length === 1 ? at.op1('onnx.Identity', [parts[0]!]) : at.op1('onnx.Concat', parts, { axis: attrs.int(axis) });
}

/** Resolves one node if what it reads is known; returns why not (or undefined when it is done or not a sequence/optional op). */
function resolve(node: Node, known: Known, opset: number): string | undefined {
  const seq = (index: number) => (node.inputs[index] ? known.sequences.get(node.inputs[index]!) : undefined);
  const out = node.outputs[0];
  const op = node.opType;
  const unknownSequence = 'its input sequence is not known at conversion time';
  switch (op) {
    case 'SequenceEmpty':
      known.sequences.set(out!, []);
      return undefined;
    case 'SequenceConstruct':
      known.sequences.set(out!, node.inputs.map((v) => v!));
      return undefined;
    case 'SequenceInsert':
    case 'SequenceErase': {
      const list = seq(0);
      if (!list) return unknownSequence;
      const given = node.inputs[op === 'SequenceInsert' ? 2 : 1];
      const at = given ? position(given) : op === 'SequenceInsert' ? list.length : -1;
      if (at === undefined) return 'the position is computed at run time';
      const size = list.length;
      const index = at < 0 ? at + size : at;
      const limit = op === 'SequenceInsert' ? size : size - 1;
      if (index < 0 || index > limit) return `position ${at} is out of range for a sequence of ${size}`;
      const copy = [...list];
      if (op === 'SequenceInsert') copy.splice(index, 0, node.input(1));
      else copy.splice(index, 1);
      known.sequences.set(out!, copy);
      return undefined;
    }
    case 'SequenceAt': {
      const list = seq(0);
      if (!list) return unknownSequence;
      const at = position(node.inputs[1]);
      if (at === undefined) return 'the position is computed at run time';
      const index = at < 0 ? at + list.length : at;
      if (index < 0 || index >= list.length) return `position ${at} is out of range for a sequence of ${list.length}`;
      substitute(node, out, list[index]!);
      return undefined;
    }
    case 'SequenceLength': {
      const list = seq(0);
      if (!list) return unknownSequence;
      substitute(node, out, node.graph!.addConstant(node.graph!.uniqueName(`${node.name}_length`), Tensor.scalar('int64', BigInt(list.length))));
      return undefined;
    }
    case 'SplitToSequence': {
      const parts = splitToSequence(node, opset);
      if (typeof parts === 'string') return parts;
      known.sequences.set(out!, parts);
      return undefined;
    }
    case 'ConcatFromSequence': {
      const list = seq(0);
      if (!list) return unknownSequence;
      const value = concatFromSequence(node, list, opset);
      if (typeof value === 'string') return value;
      substitute(node, out, value);
      return undefined;
    }
    case 'SequenceMap':
      return 'SequenceMap (a body per element) is not resolved at conversion time';
    case 'Optional':
      known.optionals.set(out!, node.inputs[0] ?? null);
      return undefined;
    case 'OptionalHasElement':
    case 'OptionalGetElement': {
      const input = node.inputs[0];
      let content: Value | null;
      if (!input) content = null;
      else if (known.optionals.has(input)) content = known.optionals.get(input) ?? null;
      else if (input.type.kind === 'tensor' || known.sequences.has(input)) content = input; // opset 18: a plain tensor or sequence
      else return 'its optional input is not known at conversion time';
      if (op === 'OptionalHasElement') {
        substitute(node, out, node.graph!.addConstant(node.graph!.uniqueName(`${node.name}_has`), Tensor.scalar('bool', content !== null)));
      } else if (content === null) return 'OptionalGetElement of an empty optional';
      else if (content && known.sequences.has(content)) known.sequences.set(out!, known.sequences.get(content)!);
      else if (content) substitute(node, out, content);
      return undefined;
    }
    case 'Identity': {
      const input = node.inputs[0];
      if (input && known.sequences.has(input)) known.sequences.set(out!, known.sequences.get(input)!);
      if (input && known.optionals.has(input)) known.optionals.set(out!, known.optionals.get(input)!);
      return undefined;
    }
    default:
      return undefined;
  }
}

function isSequenceOrOptionalOp(node: Node): boolean {
  return node.dialect === 'onnx' && (SEQUENCE_OPS.includes(node.opType) || OPTIONAL_OPS.includes(node.opType));
}

/** Why each sequence/optional node of `graph` is not resolved (resolving what can be); undefined entries were resolved. */
function resolveGraph(graph: Graph, model: Model): Map<Node, string> {
  const known: Known = { sequences: new Map(), optionals: new Map() };
  const problems = new Map<Node, string>();
  for (const node of graph.nodeList()) {
    if (!isSequenceOrOptionalOp(node) && node.op !== 'onnx.Identity') continue;
    const problem = resolve(node, known, opsetOf(model));
    if (problem) problems.set(node, problem);
  }
  return problems;
}

function eraseUnread(graph: Graph): number {
  let erased = 0;
  for (let node = graph.lastNode; node; ) {
    const previous = node.prev;
    if ((isSequenceOrOptionalOp(node) || node.op === 'onnx.Identity') && node.outputs.every((v) => !v || (!v.hasUses && !v.isGraphOutput))) {
      node.erase();
      erased++;
    }
    node = previous;
  }
  return erased;
}

/** Resolves the sequences and optionals of the main graph known at conversion time; returns how many nodes went. */
export function foldStaticSequences(model: Model): number {
  if (!model.graph.nodeList().some(isSequenceOrOptionalOp)) return 0;
  resolveGraph(model.graph, model);
  return eraseUnread(model.graph);
}

const sequences: LoweringRule = {
  ops: SEQUENCE_AND_OPTIONAL_OPS,
  stage: 'lower',
  targets: ['STRIDED_SLICE', 'RESHAPE', 'CONCATENATION'],
  check(node) {
    if (node.outputs.some((v) => v?.isGraphOutput && v.type.kind !== 'tensor')) return `its ${node.output(0).type.kind} output is a graph output; TFLite outputs are dense tensors`;
    const input = node.inputs[0];
    if (input?.isGraphInput && input.type.kind !== 'tensor') return `its input '${input.name}' is a graph input of kind ${input.type.kind}; sequences and optionals are resolved at conversion time only`;
    return `the ${node.opType.startsWith('Optional') ? 'optional' : 'sequence'} is not known at conversion time (${describeWhy(node)})`;
  },
  lower(node) {
    throw loweringError(node, `${node.op} must be resolved before lowering`);
  },
};

/** Why `node` was left: its own operands, else the unresolved node it reads from or that reads it. Changes nothing. */
function describeWhy(node: Node): string {
  const runtime = (value: Value | null | undefined) => value !== null && value !== undefined && position(value) === undefined;
  if ((node.opType === 'SequenceAt' || node.opType === 'SequenceErase') && runtime(node.inputs[1])) return 'the position is computed at run time';
  if (node.opType === 'SequenceInsert' && runtime(node.inputs[2])) return 'the position is computed at run time';
  if (node.opType === 'SplitToSequence') return staticDims(node.inputs[0]) ? 'split is computed at run time' : 'SplitToSequence needs a static input shape';
  if (node.opType === 'SequenceMap') return 'SequenceMap runs a body per element';
  const producer = node.inputs[0]?.producer;
  if (producer && !isSequenceOrOptionalOp(producer)) return `its input comes from '${producer.name}' (${producer.op}), which is not resolved at conversion time`;
  const reader = node.outputs.flatMap((v) => v?.users ?? []).find((user) => isSequenceOrOptionalOp(user) || user.subgraphs.length > 0);
  if (reader) return `it is read by '${reader.name}' (${reader.op}), which is not resolved`;
  if (producer) return `its input comes from '${producer.name}' (${producer.op}), which is not resolved`;
  return 'it depends on run-time data';
}

export const sequenceRules: readonly LoweringRule[] = [sequences];
