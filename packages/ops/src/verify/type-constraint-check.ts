/**
 * Checks a node's input types against its ONNX type constraints: every typed input's type must be
 * one its type variable allows, and inputs sharing a (homogeneous) type variable must agree
 * (Add(float32, float64) is wrong; so is int8 into Gemm). Inputs of unknown type are skipped.
 * Outputs are left to the declared-type check (their type is what inference makes of the inputs),
 * as ONNX Runtime does: it checks inputs against the constraints and outputs against inference, so
 * e.g. an opset-6 Constant holding int64 (outside Constant-1's float types) still loads.
 * The version's input count, required inputs and attribute names are checked too (`ops/input-count`, `ops/missing-input`,
 * `ops/attribute-version`).
 */
import type { Node, OpSchema, Value, VerifyContext } from '@modelpass/ir';
import { ONNX_TYPE_SIGNATURES } from './generated/onnx-type-constraints.js';
import { typeKey, TypeSignatures, type FormalParam, type TypeSignature } from './type-signature.js';
import type { OpVerifier } from './verify-context.js';

/** The ONNX specification's type constraints, decoded lazily per op. */
export const onnxTypeSignatures = new TypeSignatures(ONNX_TYPE_SIGNATURES);

interface TypeProblem {
  readonly reason: string;
  readonly expected: string;
  readonly actual: string;
  readonly code?: string;
  readonly hint?: string;
}

function formalAt(params: readonly FormalParam[], index: number): FormalParam | undefined {
  const last = params[params.length - 1];
  if (index < params.length) return params[index];
  return last && (last.arity === 'variadic' || last.arity === 'heterogeneous') ? last : undefined;
}

function describeInput(index: number, value: Value, formal: FormalParam): string {
  return `input #${index} '${value.name}' (${formal.name})`;
}

function listAllowed(allowed: ReadonlySet<string>): string {
  const list = [...allowed];
  return list.length > 12 ? `one of ${list.slice(0, 12).join(', ')}, … (${list.length} types)` : `one of ${list.join(', ')}`;
}

/**
 * More inputs than the version declares (ONNX Runtime refuses the model: "Clip:6 has input size 2 not
 * in range [1,1]"); trailing omitted inputs do not count.
 */
function extraInputProblem(node: Node, signature: TypeSignature): TypeProblem | undefined {
  const params = signature.inputs;
  const last = params[params.length - 1];
  if (last && (last.arity === 'variadic' || last.arity === 'heterogeneous')) return undefined;
  let given = node.inputs.length;
  while (given > 0 && !node.inputs[given - 1]) given--;
  if (given <= params.length) return undefined;
  const names = params.length === 0 ? 'none' : params.map((p) => p.name).join(', ');
  return {
    reason: `${node.opType}-${signature.sinceVersion} takes at most ${params.length} input${params.length === 1 ? '' : 's'} (${names}); this node has ${given}`,
    expected: `at most ${params.length} inputs`,
    actual: `${given} inputs`,
    code: 'ops/input-count',
    hint: `the model's opset selects ${node.opType}-${signature.sinceVersion}; raise the opset to a version that takes ${given} inputs, or drop the extra inputs`,
  };
}

/** The op schema's inputs, as the IR verifier checks their count and presence. */
type SchemaInputs = OpSchema['inputs'];

/**
 * Whether the IR verifier's own operand check already reports input `index` missing: the schema requires it
 * (`verify/missing-input`), or the node has fewer inputs than the schema's minimum (`verify/input-count`).
 */
function reportedByStructureCheck(node: Node, schemaInputs: SchemaInputs, index: number): boolean {
  let min = 0;
  schemaInputs.forEach((spec, i) => {
    if (spec.variadic) min = Math.max(min, i + (spec.optional ? 0 : (spec.minCount ?? 1)));
    else if (!spec.optional) min = i + 1;
  });
  if (index >= node.inputs.length) return node.inputs.length < min;
  const spec = schemaInputs[index];
  return spec !== undefined && !spec.optional && !spec.variadic;
}

/**
 * Inputs the version requires (ONNX's 'single' formal parameters) that the node leaves out, either as an empty name
 * ('') or by ending its input list early. ONNX Runtime refuses the model at load ("Node (x)'s input 1 is marked
 * single but has an empty string in the graph"; "input size 1 not in range [min=3, max=5]"), while the op's schema
 * may take the input as optional because another version does (Slice-1 read starts from an attribute).
 */
function missingInputProblems(node: Node, signature: TypeSignature, schemaInputs: SchemaInputs): TypeProblem[] {
  const problems: TypeProblem[] = [];
  signature.inputs.forEach((formal, index) => {
    if (formal.arity !== 'single' || node.inputs[index] || reportedByStructureCheck(node, schemaInputs, index)) return;
    const how = index < node.inputs.length ? "is left empty ('')" : `is not given (the node has ${node.inputs.length} input${node.inputs.length === 1 ? '' : 's'})`;
    problems.push({
      reason: `required input #${index} '${formal.name}' of ${node.opType}-${signature.sinceVersion} ${how}`,
      expected: `a value for input '${formal.name}'`,
      actual: index < node.inputs.length ? 'an empty input name' : 'no input',
      code: 'ops/missing-input',
      hint: `${node.opType}-${signature.sinceVersion} (the version the model's opset selects) requires '${formal.name}'; give it a value, or use an opset whose ${node.opType} does not need it`,
    });
  });
  return problems;
}

/**
 * Attributes the version does not take although another version of the op does (ONNX Runtime refuses the model:
 * "Unrecognized attribute: axes for operator ReduceMean" at opset 18, where axes became an input). Names no version
 * takes are the IR verifier's `verify/unknown-attribute`.
 */
function attributeVersionProblems(node: Node, signature: TypeSignature, versions: readonly TypeSignature[], completeThrough: number): TypeProblem[] {
  const taken = signature.attributes;
  if (!taken || node.attributes.size === 0) return [];
  const problems: TypeProblem[] = [];
  for (const name of node.attributes.keys()) {
    if (taken.has(name)) continue;
    const takers = versions.filter((version) => version.attributes?.has(name)).map((version) => version.sinceVersion);
    if (takers.length === 0) continue;
    const input = signature.inputs.find((param) => param.name === name);
    const list = [...taken];
    const newer = takers.every((version) => version > signature.sinceVersion);
    // Past the opset the table is complete through, only each op's newest version is recorded: one between may take it first.
    const gap = newer && takers[0]! > completeThrough + 1 ? ` (or a version between ${completeThrough + 1} and ${takers[0]} that the table does not record)` : '';
    const remedy = newer ? `raise the opset to ${takers[0]}${gap ? ' or the version that added it' : ''}` : 'lower the opset';
    problems.push({
      reason: `${node.opType}-${signature.sinceVersion} has no attribute '${name}' (${node.opType} takes it in version${takers.length === 1 ? '' : 's'} ${takers.join(', ')}${gap})`,
      expected: list.length ? `attributes among ${list.join(', ')}` : 'no attributes',
      actual: `attribute '${name}'`,
      code: 'ops/attribute-version',
      hint: input
        ? `the model's opset selects ${node.opType}-${signature.sinceVersion}, which takes '${name}' as an input: give it as input '${name}' (a constant), or ${remedy}`
        : `the model's opset selects ${node.opType}-${signature.sinceVersion}; drop the attribute or ${remedy}`,
    });
  }
  return problems;
}

/** The problems of `node` under one version of its signature (empty when it fits). */
function problemsUnder(node: Node, signature: TypeSignature, versions: readonly TypeSignature[], completeThrough: number, schemaInputs: SchemaInputs): TypeProblem[] {
  const problems: TypeProblem[] = attributeVersionProblems(node, signature, versions, completeThrough);
  /** The first input bound to each type variable (messages are built only for problems). */
  let bound: Map<string, { key: string; index: number; value: Value; formal: FormalParam }> | undefined;
  const inputs = node.inputs;
  const extra = extraInputProblem(node, signature);
  if (extra) problems.push(extra);
  problems.push(...missingInputProblems(node, signature, schemaInputs));
  for (let index = 0; index < inputs.length; index++) {
    const value = inputs[index];
    const formal = value ? formalAt(signature.inputs, index) : undefined;
    if (!value || !formal) continue;
    const allowed = signature.allowed.get(formal.typeVariable);
    // A quantized operand is read as its float32 reals, or as its stored integers where reals are not allowed (DequantizeLinear's x).
    const stored = typeKey(value.type);
    const key = value.type.kind === 'tensor' && value.type.quant && allowed?.has('float32') ? 'float32' : stored;
    if (key === undefined || !allowed) continue;
    if (!allowed.has(key)) {
      problems.push({
        reason: `${describeInput(index, value, formal)} is ${key}, which ${node.opType}-${signature.sinceVersion}'s type ${formal.typeVariable} does not allow`,
        expected: listAllowed(allowed),
        actual: key,
      });
      continue;
    }
    if (formal.arity === 'heterogeneous') continue;
    bound ??= new Map();
    const previous = bound.get(formal.typeVariable);
    if (!previous) bound.set(formal.typeVariable, { key, index, value, formal });
    else if (previous.key !== key) {
      problems.push({
        reason: `${describeInput(index, value, formal)} is ${key} but type ${formal.typeVariable} is already ${previous.key} from ${describeInput(previous.index, previous.value, previous.formal)}`,
        expected: `${previous.key} (one type for every operand of ${formal.typeVariable})`,
        actual: key,
      });
    }
  }
  return problems;
}

/**
 * Reports the node's type-constraint violations under the version its opset selects. `schemaInputs` are the op
 * schema's (a required input the schema already requires is the IR verifier's to report, not this check's).
 */
export function checkTypeConstraints(context: VerifyContext, signatures: TypeSignatures = onnxTypeSignatures, dialect = 'onnx', schemaInputs: SchemaInputs = []): void {
  const { node } = context;
  if (node.dialect !== dialect) return;
  const candidates = signatures.candidates(node.opType, context.opset);
  const first = candidates[0];
  if (!first) {
    // The op is recorded, but only from a later opset than the model's, which the table records completely: no version
    // of it exists there (ONNX Runtime: "No Op registered for Expand with domain_version of 6").
    const earliest = signatures.versions(node.opType)[0];
    if (earliest && context.opset !== undefined && context.opset <= signatures.completeThrough)
      context.report({
        severity: 'error',
        source: '@modelpass/ops',
        code: 'ops/op-version',
        reason: `${node.opType} first appears in opset ${earliest.sinceVersion}; this model imports opset ${context.opset}`,
        expected: `opset ${earliest.sinceVersion} or later for ${node.opType}`,
        actual: `opset ${context.opset}`,
        hint: `raise the model's opset import to ${earliest.sinceVersion} (convert it with opset-upgrade), or replace the node`,
      });
    return;
  }
  const versions = signatures.versions(node.opType);
  const problems = problemsUnder(node, first, versions, signatures.completeThrough, schemaInputs);
  if (problems.length === 0) return;
  for (let i = 1; i < candidates.length; i++) if (problemsUnder(node, candidates[i]!, versions, signatures.completeThrough, schemaInputs).length === 0) return;
  for (const { code, hint, ...problem } of problems) {
    context.report({
      severity: 'error',
      source: '@modelpass/ops',
      code: code ?? 'ops/type-constraint',
      ...problem,
      hint: hint ?? 'insert a Cast or a DequantizeLinear, or check the operand order',
    });
  }
}

/** `verify` composed with the type-constraint check (which runs first); `schemaInputs` are the op schema's inputs. */
export function withTypeConstraints(verify: OpVerifier | undefined, schemaInputs: SchemaInputs = []): OpVerifier {
  const check = (context: VerifyContext): void => checkTypeConstraints(context, onnxTypeSignatures, 'onnx', schemaInputs);
  return verify
    ? (context) => {
        check(context);
        verify(context);
      }
    : check;
}
