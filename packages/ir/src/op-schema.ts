import type { Attribute, AttributeKind, AttributeValueMap } from './attribute.js';
import { ATTRIBUTE_KINDS } from './attribute.js';
import { ModelpassError, type DiagnosticInit } from './diagnostic.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import type { Type } from './type.js';

export interface OperandSpec {
  readonly name: string;
  /** May be absent (`null` input) or omitted at the end. */
  readonly optional?: boolean;
  /** Takes all remaining operands (at most one, last). */
  readonly variadic?: boolean;
  /** With `variadic`: the fewest operands accepted (default 1). */
  readonly minCount?: number;
  readonly doc?: string;
}

export interface AttributeSpec<K extends AttributeKind = AttributeKind> {
  readonly kind: K;
  readonly required?: boolean;
  readonly default?: AttributeValueMap[K];
  /** For int and string attributes: the accepted values. */
  readonly oneOf?: readonly (string | number)[];
  readonly doc?: string;
}

/** What type inference sees of a node. */
export interface InferenceContext {
  readonly node: Node;
  /** The model's opset version for the node's dialect, when known. */
  readonly opset: number | undefined;
  inputType(index: number): Type | undefined;
  /** The constant data of input `index`, when it is a constant. */
  inputConstant(index: number): Tensor | undefined;
}

export type TypeInference = (context: InferenceContext) => readonly (Type | undefined)[];

export interface VerifyContext {
  readonly node: Node;
  readonly opset: number | undefined;
  report(diagnostic: Omit<DiagnosticInit, 'location'> & { location?: DiagnosticInit['location'] }): void;
}

export interface OpSchemaInit {
  /** Dialect-qualified name, e.g. `onnx.Conv`. */
  readonly op: string;
  readonly summary?: string;
  readonly inputs: readonly OperandSpec[];
  readonly outputs: readonly OperandSpec[];
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
  /** Accept attributes not listed (for foreign or opaque ops). */
  readonly openAttributes?: boolean;
  /** The first opset version (of its dialect) that defines the op, if versioned. */
  readonly sinceVersion?: number;
  readonly inferTypes?: TypeInference;
  readonly verify?: (context: VerifyContext) => void;
}

export interface OpSchema extends OpSchemaInit {
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
}

function invalid(op: string, reason: string): ModelpassError {
  return new ModelpassError({ reason: `invalid op schema '${op}': ${reason}`, source: '@modelpass/ir' });
}

/** Checks and freezes an op schema. */
export function defineOp(init: OpSchemaInit): OpSchema {
  const dot = init.op.lastIndexOf('.');
  if (dot <= 0 || dot === init.op.length - 1) throw invalid(init.op, "the name must be '<dialect>.<OpType>'");
  for (const list of [init.inputs, init.outputs]) {
    list.forEach((operand, index) => {
      if (operand.variadic && index !== list.length - 1) throw invalid(init.op, `variadic operand '${operand.name}' must be last`);
    });
  }
  const attributes = init.attributes ?? {};
  for (const [name, spec] of Object.entries(attributes)) {
    if (!ATTRIBUTE_KINDS.includes(spec.kind)) throw invalid(init.op, `attribute '${name}' has unknown kind '${spec.kind}'`);
  }
  return Object.freeze({ ...init, attributes: Object.freeze({ ...attributes }) });
}

/** The value of attribute `name` on `node`, falling back to the schema default. */
export function attributeOrDefault<K extends AttributeKind>(
  node: Node,
  schema: OpSchema | undefined,
  name: string,
  kind: K,
): AttributeValueMap[K] | undefined {
  const attribute: Attribute | undefined = node.getAttribute(name);
  if (attribute) return node.attr(name, kind);
  const spec = schema?.attributes[name];
  return spec?.default as AttributeValueMap[K] | undefined;
}

export { OpRegistry, type KnownValuesProvider } from './op-registry.js';
