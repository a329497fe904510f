import { diagnostic, ModelpassError, type Diagnostic, type DiagnosticInit } from './diagnostic.js';
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { OpRegistry, OpSchema, OperandSpec } from './op-schema.js';
import type { Tensor } from './tensor.js';
import type { Type } from './type.js';
import type { Value } from './value.js';
import { checkConstantType, checkInferredOutputs, checkQuantParams } from './verify-types.js';

/**
 * The data of a value that is no constant but is computed from known data (shape arithmetic such as
 * `Concat(Slice(Shape(x)), …)` over a statically shaped `x`), as a whole-model analysis knows it; undefined
 * when it does not. `@modelpass/ops` builds one from its shape inference (`propagatedValues`).
 */
export type KnownValues = (value: Value) => Tensor | undefined;

export interface VerifyOptions {
  /** Schemas to check nodes against; without one only structure is checked. */
  registry?: OpRegistry;
  /** Report ops that the registry does not know (default: only for dialects the registry has ops of). */
  unknownOps?: 'error' | 'warning' | 'ignore' | 'known-dialects';
  /**
   * Check types (default true): each node's declared output types against its op's inference,
   * constants' declared types against their data, and quantization parameters.
   */
  types?: boolean;
  /**
   * Data known for non-constant values: each node's declared outputs are also checked against inference that
   * sees it (a Reshape whose target the model computes from Shape(x) and whose declared output contradicts
   * it). Only declared types are checked with it; an op that refuses the propagated data is left to the
   * passes and runtimes that compute it (without it, inference proves nothing there).
   */
  knownValues?: KnownValues;
}

/**
 * Checks the IR's invariants in one linear walk: SSA (each value defined once, before its uses,
 * in scope), def-use chains consistent with node inputs, graph outputs defined, constants' and
 * quantized types (verify-types.ts), and with a registry each node's operands, attributes and
 * schema checks, and its declared output types against the op's inference.
 */
export function verifyModel(model: Model, options: VerifyOptions = {}): Diagnostic[] {
  const verifier = new Verifier(model, options);
  verifier.graph(model.graph, []);
  for (const fn of model.functions) verifier.graph(fn.body, []);
  return verifier.diagnostics;
}

/** Like `verifyModel`, but throws a ModelpassError listing every error found. */
export function assertValid(model: Model, options: VerifyOptions = {}): void {
  const errors = verifyModel(model, options).filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new ModelpassError(errors);
}

/**
 * Why input `index`, reading `value`, sees no definition: its producer comes later in this graph, or later in an
 * enclosing graph than the node holding this subgraph (an If branch or Loop body reading an outer value that the
 * enclosing graph defines after the If), or it is defined nowhere in scope.
 */
function undefinedInput(graph: Graph, index: number, value: Value): Pick<DiagnosticInit, 'reason' | 'hint'> {
  const producer = value.producer;
  if (value.graph === graph && producer !== null) {
    return { reason: `input #${index} '${value.name}' is used before it is defined (nodes are out of topological order)` };
  }
  // The node of the value's graph that holds (through any nesting) the graph being verified.
  let holder: Node | null = graph.parentNode;
  while (holder && holder.graph !== value.graph) holder = holder.graph?.parentNode ?? null;
  if (holder && producer === holder) {
    return {
      reason: `input #${index} '${value.name}' is an output of ${holder.op} '${holder.name}', the node holding this subgraph: its subgraphs run before it has outputs`,
      hint: `read an input of ${holder.op} '${holder.name}' (or a value defined before it) instead`,
    };
  }
  if (holder && producer !== null) {
    const outer = value.graph!.path();
    return {
      reason:
        `input #${index} '${value.name}' is a value of the enclosing graph '${outer}' that is defined later than the node holding this subgraph: ` +
        `${holder.op} '${holder.name}' comes before ${producer.op} '${producer.name}', which defines '${value.name}' (nodes of '${outer}' are out of topological order)`,
      hint: `move ${producer.op} '${producer.name}' (and what it reads) before ${holder.op} '${holder.name}': a subgraph reads the outer values defined before its node`,
    };
  }
  return { reason: `input #${index} '${value.name}' is not defined in this graph or an enclosing one` };
}

class Verifier {
  readonly diagnostics: Diagnostic[] = [];
  private readonly knownDialects = new Set<string>();
  /** Types inference gave values declared without one, so nodes behind them are checked too. */
  private readonly propagatedTypes = new Map<Value, Type>();

  constructor(
    private readonly model: Model,
    private readonly options: VerifyOptions,
  ) {
    for (const op of options.registry?.ops() ?? []) this.knownDialects.add(op.slice(0, op.lastIndexOf('.')));
    // An open dialect (some of its ops registered, the rest opaque) does not make its other ops unknown.
    for (const dialect of [...this.knownDialects]) if (options.registry?.isOpenDialect(dialect)) this.knownDialects.delete(dialect);
  }

  private report(init: DiagnosticInit): void {
    this.diagnostics.push(diagnostic({ source: '@modelpass/ir', ...init }));
  }

  /** `scopes` holds, for each enclosing graph, the values defined before the node being visited. */
  graph(graph: Graph, scopes: Set<Value>[]): void {
    const defined = new Set<Value>();
    const chain = [...scopes, defined];
    for (const value of graph.inputs) this.define(graph, value, defined);
    for (const value of graph.constants) if (!defined.has(value)) this.define(graph, value, defined);
    for (let node = graph.firstNode; node; node = node.next) {
      this.node(graph, node, chain);
      if (node._graphAttributeCount > 0) {
        for (const subgraph of node.subgraphs) {
          if (subgraph.parentNode !== node) {
            this.report({ reason: `subgraph '${subgraph.name}' does not record its parent node`, location: node.location });
          }
          this.graph(subgraph, chain);
        }
      }
      const outputs = node.outputs;
      for (let index = 0; index < outputs.length; index++) {
        const value = outputs[index];
        if (!value) continue;
        if (value.producer !== node || value.producerIndex !== index) {
          this.report({ reason: `output #${index} '${value.name}' does not record this node as its producer`, location: node.location, code: 'verify/producer' });
        }
        this.define(graph, value, defined);
      }
    }
    graph.outputs.forEach((value, index) => {
      if (!this.visible(value, chain)) {
        this.report({
          reason: `graph output #${index} '${value.name}' is not defined in graph '${graph.path()}' or an enclosing graph`,
          location: { path: graph.path() },
          code: 'verify/undefined-value',
        });
      }
    });
  }

  private define(graph: Graph, value: Value, defined: Set<Value>): void {
    if (defined.has(value)) {
      this.report({ reason: `value '${value.name}' is defined twice`, location: { path: graph.path() }, code: 'verify/redefinition' });
    }
    if (value.graph !== graph || graph.getValue(value.name) !== value) {
      this.report({ reason: `value '${value.name}' is not registered in graph '${graph.path()}'`, location: { path: graph.path() }, code: 'verify/unregistered' });
    }
    defined.add(value);
    if (this.options.types === false) return;
    if (value.constant) checkConstantType(value, graph.path(), (d) => this.report(d));
    const type = value.type;
    if (type.kind === 'tensor' && type.quant) checkQuantParams(value, type.quant, type, graph.path(), (d) => this.report(d));
  }

  private visible(value: Value, chain: Set<Value>[]): boolean {
    for (let i = chain.length - 1; i >= 0; i--) if (chain[i]!.has(value)) return true;
    return false;
  }

  private node(graph: Graph, node: Node, chain: Set<Value>[]): void {
    if (node.graph !== graph) this.report({ reason: 'node does not record its graph', location: node.location });
    const inputs = node.inputs;
    for (let index = 0; index < inputs.length; index++) {
      const value = inputs[index];
      if (!value) continue;
      const use = node._inputUses[index];
      if (!use || !value.uses.has(use) || use.index !== index) {
        this.report({ reason: `input #${index} '${value.name}' has no matching use record`, location: node.location, code: 'verify/use-list' });
      }
      if (!this.visible(value, chain)) this.report({ ...undefinedInput(graph, index, value), location: node.location, code: 'verify/undefined-value' });
    }
    const registry = this.options.registry;
    if (!registry) return;
    const schema = registry.get(node.op);
    if (!schema) {
      const policy = this.options.unknownOps ?? 'known-dialects';
      const severity =
        policy === 'error' || (policy === 'known-dialects' && this.knownDialects.has(node.dialect) && !this.isFunctionCall(node))
          ? 'error'
          : policy === 'warning'
            ? 'warning'
            : undefined;
      if (severity) {
        this.report({ severity, reason: `unknown op '${node.op}'`, location: node.location, code: 'verify/unknown-op', hint: 'load the plugin that defines it, or check the op name' });
      }
      return;
    }
    this.operands(node, schema, 'input', schema.inputs, node.inputs.length, (i) => node.inputs[i] !== null);
    this.operands(node, schema, 'output', schema.outputs, node.outputs.length, (i) => node.outputs[i] !== null);
    this.attributes(node, schema);
    const reportedCodes = new Set<string>();
    schema.verify?.({
      node,
      opset: this.model.opset(node.dialect),
      report: (d) => {
        if (d.code !== undefined) reportedCodes.add(d.code);
        this.report({ ...d, location: d.location ?? node.location });
      },
    });
    if (this.options.types !== false) checkInferredOutputs(node, schema, this.model, (d) => this.report(d), this.propagatedTypes, reportedCodes, this.options.knownValues);
  }

  private isFunctionCall(node: Node): boolean {
    return this.model.functions.some((fn) => fn.dialect === node.dialect && fn.name === node.opType);
  }

  private operands(
    node: Node,
    schema: OpSchema,
    what: 'input' | 'output',
    specs: readonly OperandSpec[],
    count: number,
    present: (index: number) => boolean,
  ): void {
    const last = specs[specs.length - 1];
    const variadic = last?.variadic === true;
    const max = variadic ? Infinity : specs.length;
    let min = 0;
    specs.forEach((spec, index) => {
      if (spec.variadic) min = Math.max(min, index + (spec.optional ? 0 : (spec.minCount ?? 1)));
      else if (!spec.optional) min = index + 1;
    });
    if (count < min || count > max) {
      this.report({
        reason: `${schema.op} takes ${max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`} ${what}s`,
        expected: max === Infinity ? `≥ ${min}` : min === max ? `${min}` : `${min}..${max}`,
        actual: `${count}`,
        location: node.location,
        code: `verify/${what}-count`,
      });
    }
    for (let i = 0; i < Math.min(count, specs.length); i++) {
      const spec = specs[i]!;
      if (!spec.optional && !spec.variadic && !present(i)) {
        this.report({ reason: `required ${what} #${i} '${spec.name}' of ${schema.op} is missing`, location: node.location, code: `verify/missing-${what}` });
      }
    }
  }

  private attributes(node: Node, schema: OpSchema): void {
    for (const [name, attribute] of node.attributes) {
      const spec = schema.attributes[name];
      if (!spec) {
        if (!schema.openAttributes) {
          const known = Object.keys(schema.attributes);
          this.report({
            reason: `unknown attribute '${name}' for ${schema.op}`,
            expected: known.length ? `one of ${known.join(', ')}` : 'no attributes',
            location: node.location,
            code: 'verify/unknown-attribute',
          });
        }
        continue;
      }
      if (attribute.kind === 'ref') {
        if (attribute.refKind !== spec.kind) {
          this.report({ reason: `attribute '${name}' refers to a ${attribute.refKind} but ${schema.op} wants a ${spec.kind}`, location: node.location, code: 'verify/attribute-kind' });
        }
        continue;
      }
      if (attribute.kind !== spec.kind) {
        this.report({ reason: `attribute '${name}' has the wrong kind`, expected: spec.kind, actual: attribute.kind, location: node.location, code: 'verify/attribute-kind' });
        continue;
      }
      if (spec.oneOf && (attribute.kind === 'int' || attribute.kind === 'string') && !spec.oneOf.includes(attribute.value)) {
        this.report({
          reason: `attribute '${name}' has an unsupported value`,
          expected: `one of ${spec.oneOf.map((v) => JSON.stringify(v)).join(', ')}`,
          actual: JSON.stringify(attribute.value),
          location: node.location,
          code: 'verify/attribute-value',
        });
      }
    }
    for (const [name, spec] of Object.entries(schema.attributes)) {
      if (spec.required && !node.hasAttribute(name)) {
        this.report({ reason: `required attribute '${name}' (${spec.kind}) of ${schema.op} is missing`, location: node.location, code: 'verify/missing-attribute' });
      }
    }
  }
}
