import { formatLocation, formatType, type Graph, type Model, type Node, type OpSchema, type Type } from '@modelpass/ir';
import { TFLITE_ENUMS } from '../generated/schema-tables.js';
import { builtinOfOp, TFLITE_DIALECT } from '../dialect/names.js';
import { tfliteOpSchemas } from '../dialect/ops.js';
import { tfliteError } from '../io/errors.js';
import { MAX_TENSOR_RANK } from '../io/tensor-rank.js';
import { tensorTypeOfDtype } from '../io/tensor-types.js';
import { unbroadcastableOperands } from '../reader/broadcast-check.js';
import { preparableProblem } from '../reader/prepare-checks.js';

const INT32_MAX = 2 ** 31 - 1;

/** One thing the writer cannot express, with where it is. */
export interface ExportIssue {
  readonly node?: Node;
  readonly text: string;
}

/** What checking a node of one op needs: its builtin, its schema and its required attribute names (in schema order). */
interface OpChecking {
  readonly builtin: string;
  readonly schema: OpSchema;
  readonly required: readonly string[];
}

const SCHEMAS = new Map(tfliteOpSchemas().map((schema) => [schema.op, schema]));
/** By op name, worked out on first sight (null: not a builtin of the schema): one Map read per node. */
const CHECKING = new Map<string, OpChecking | null>();

function checkingOf(op: string): OpChecking | null {
  let checking = CHECKING.get(op);
  if (checking === undefined) {
    const builtin = builtinOfOp(op);
    const schema = SCHEMAS.get(op);
    checking =
      builtin === undefined || !schema
        ? null
        : { builtin, schema, required: Object.entries(schema.attributes).filter(([, spec]) => spec.required).map(([name]) => name) };
    CHECKING.set(op, checking);
  }
  return checking;
}

function checkValues(node: Node, values: readonly (Node['inputs'][number])[], issues: ExportIssue[]): void {
  // Indexed loops on the writer's per-node paths: a for-of not yet optimized allocates an iterator and a result per step.
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!value) continue;
    const problem = typeIssue(value.type);
    if (problem) issues.push({ node, text: `value '${value.name}' ${problem}` });
  }
}

function typeIssue(type: Type): string | undefined {
  if (type.kind !== 'tensor') return `has type ${formatType(type)}; TFLite tensors are dense tensors`;
  if (tensorTypeOfDtype(type.dtype) === undefined) return `has dtype ${type.dtype}, which TFLite has no TensorType for`;
  if (type.shape === null) return 'has no rank; TFLite needs every tensor ranked';
  if (type.shape.length > MAX_TENSOR_RANK) return `has rank ${type.shape.length}; a .tflite tensor has at most ${MAX_TENSOR_RANK} dims here (readTflite refuses more)`;
  for (let i = 0; i < type.shape.length; i++) {
    const dim = type.shape[i];
    if (typeof dim === 'number' && dim > INT32_MAX) return `has dim ${dim} (axis ${i}); TFLite stores shapes as int32, at most ${INT32_MAX}`;
  }
  return undefined;
}

function checkNode(node: Node, issues: ExportIssue[]): void {
  const checking = checkingOf(node.op);
  if (checking === null) {
    const reason =
      node.dialect === TFLITE_DIALECT
        ? `${node.op} is not a BuiltinOperator of the TFLite schema`
        : node.dialect === 'onnx'
          ? `${node.op} is a canonical op (legalize-tflite maps it to the tflite dialect)`
          : `${node.op} is not a TFLite op (dialect '${node.dialect}')`;
    issues.push({ node, text: reason });
    return;
  }
  const { builtin, schema, required } = checking;
  if (node.attributes.size > 0) checkAttributes(node, builtin, schema, issues);
  for (let i = 0; i < required.length; i++) {
    const name = required[i]!;
    if (!node.getAttribute(name)) issues.push({ node, text: `required attribute '${name}' is missing` });
  }
  checkValues(node, node.inputs, issues);
  checkValues(node, node.outputs, issues);
  // What the reader refuses (and TFLite at prepare: "not broadcastable") is not written either: an opset-6 Mul whose
  // legacy broadcast=1 B does not fit at its axis became a MUL of [2,3] and [3,1] (passes fuzz seed 1811 case 150).
  const clash = unbroadcastableOperands(builtin, node.inputs);
  if (clash) issues.push({ node, text: `${clash.reason}; TFLite refuses it when it prepares the operator (not broadcastable)` });
  // Likewise operands of two element types (passes fuzz seed 1823 case 85: a Cast mutated to double legalized to an
  // EQUAL of float32 and int64), negative PAD paddings, a conv bias not one value per output channel.
  const unpreparable = preparableProblem(builtin, node.inputs);
  if (unpreparable) issues.push({ node, text: `${unpreparable.reason} (expected ${unpreparable.expected}); TFLite refuses it when it prepares the operator` });
}

function checkAttributes(node: Node, builtin: string, schema: OpSchema, issues: ExportIssue[]): void {
  node.attributes.forEach((attribute, name) => {
    const spec = schema.attributes[name];
    if (!spec) {
      issues.push({ node, text: `attribute '${name}' is not a field of ${builtin}'s options` });
      return;
    }
    if (attribute.kind === 'ref') {
      issues.push({ node, text: `attribute '${name}' refers to a function attribute; TFLite has none` });
      return;
    }
    if (attribute.kind !== spec.kind) {
      issues.push({ node, text: `attribute '${name}' is ${attribute.kind}, ${builtin} expects ${spec.kind}` });
      return;
    }
    if (spec.oneOf && (attribute.kind === 'string' || attribute.kind === 'int') && !spec.oneOf.includes(attribute.value)) {
      issues.push({ node, text: `attribute '${name}' = ${JSON.stringify(attribute.value)} is not one of ${spec.oneOf.join(', ')}` });
    }
  });
}

function checkGraph(graph: Graph, issues: ExportIssue[]): void {
  // A value both input and output (a graph that passes it through) is reported once.
  for (const value of new Set([...graph.inputs, ...graph.outputs])) {
    const problem = typeIssue(value.type);
    if (problem) issues.push({ text: `graph '${graph.name}' input/output '${value.name}' ${problem}` });
  }
  for (let node = graph.firstNode; node; node = node.next) {
    checkNode(node, issues);
    if (node.subgraphs.length > 0) for (const sub of node.subgraphs) checkGraph(sub, issues);
  }
}

/**
 * Checks, before anything is written, that every node of the model (regions and functions included)
 * is a tflite-dialect op the schema can express with valid attributes and TFLite tensor types.
 * Throws one ModelpassError listing every problem with its node and location.
 */
export function assertExportable(model: Model, path: string): void {
  const issues: ExportIssue[] = [];
  checkGraph(model.graph, issues);
  for (const fn of model.functions) checkGraph(fn.body, issues);
  if (issues.length === 0) return;
  const lines = issues.map((issue) => {
    const where = issue.node ? formatLocation({ ...issue.node.location, file: undefined }) : '';
    return where ? `${where}: ${issue.text}` : issue.text;
  });
  const canonical = issues.some((issue) => issue.node?.dialect === 'onnx');
  throw tfliteError({
    reason: `cannot write '${path}' as TFLite: ${issues.length} problem${issues.length === 1 ? '' : 's'} (${issues.filter((i) => i.node).length} node${issues.filter((i) => i.node).length === 1 ? '' : 's'})`,
    location: { file: path },
    notes: lines.slice(0, 50).concat(lines.length > 50 ? [`… and ${lines.length - 50} more`] : []),
    ...(canonical ? { hint: 'run legalize-tflite first: modelpass convert in.onnx -o out.tflite --pipeline legalize-tflite (in code: the legalizeTflite pass)' } : {}),
    code: 'tflite/not-exportable',
  });
}

/** The value of an enum member name (`padding: 'SAME'` → 0). */
export function enumValue(enumName: string, member: string): number | undefined {
  return TFLITE_ENUMS[enumName]?.[member];
}
