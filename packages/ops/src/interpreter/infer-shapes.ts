/**
 * Whole-model type and shape inference: runs each op's `inferTypes` in node order (subgraphs
 * first, so If/Loop see their bodies' types) and fills in value types. Existing information is kept
 * where it is more specific; disagreements are reported as warnings, never silently overwritten.
 *
 * Alongside types it propagates data, as ONNX's shape inference does: Constant-node outputs and
 * small nodes whose inputs are all constant (evaluated by the reference kernels) become constants
 * that op inference sees through `inputConstant`, and the element values of shape-like integer
 * tensors (numbers, symbolic dims, unknowns) flow through Shape/Gather/Concat/arithmetic
 * (data-propagation.ts) to the ops that consume shapes (`inputValues`). An If whose condition is
 * known takes its branch's types; otherwise branch types are joined. Loop-carried values are
 * iterated to a fixed point.
 *
 * With `mode: 'refresh'` the declared types of intermediate values (node outputs that are not an
 * output of their graph) are recomputed and overwritten instead of merged, so types left stale by
 * a pass (pruned channels, replaced constants) are replaced; graph inputs and outputs keep their
 * declared types and a disagreement is reported.
 */
import {
  diagnostic,
  expressedType,
  formatType,
  isInferenceRefusal,
  tensorType,
  UNKNOWN_TYPE,
  type Diagnostic,
  type Dim,
  type Graph,
  Model,
  type Node,
  OpRegistry,
  type Tensor,
  type TensorType,
  type Type,
  type Value,
} from '@modelpass/ir';
import { createOpRegistry } from '../op-set.js';
import { readNumbers } from '../util/elements.js';
import { joinDimValues, joinTypes } from './branch-merge.js';
import { evaluateConstantNode } from './constant-evaluation.js';
import { PROPAGATION_RULES, type PropagationContext } from './data-propagation.js';
import { dimValuesOfTensor, exactInts, isTrackedDType, tensorOfDimValues, type DimValues, type ShapeInferenceContext } from './symbolic-values.js';

export interface InferShapesOptions {
  /** The op registry to infer with (default: the canonical op set). */
  readonly registry?: OpRegistry;
  /**
   * `'merge'` (default): keep declared types where they are more specific and report conflicts.
   * `'refresh'`: overwrite intermediate values' types with what inference computes (quantization
   * parameters are kept when the dtype stays); values no inference reaches keep their type.
   */
  readonly mode?: 'merge' | 'refresh';
}

export interface InferShapesResult {
  /** How many value types were set or refined. */
  readonly updated: number;
  /**
   * Conflicts between inferred and declared types, and inference functions that failed (warnings); an op that
   * refused its inputs (an `InferenceRefusal`: a Reshape of 4 elements to [3,-1]) under the refusal's code, an
   * error in the main graph and a warning in an If/Loop/Scan body.
   */
  readonly diagnostics: Diagnostic[];
  /**
   * The data inference found for `value` (a constant, a node it evaluated, or shape arithmetic it propagated
   * with every element known), as a tensor of the value's dtype; undefined when it did not know it. A folding
   * step reads it instead of running the reference kernel again. Valid for values whose computation the
   * caller has not changed since inference.
   */
  knownConstant(value: Value): Tensor | undefined;
}

/** Whether some value is known (a number or a symbol, not null). */
function anyKnown(values: readonly Dim[]): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== null) return true;
  return false;
}

/** An op computes on a quantized operand's float32 reals (`expressedType`). */
function realsOf(type: Type | undefined): Type | undefined {
  return type && expressedType(type);
}

/**
 * A quantized value (declared `int8[…] quant<…>`) whose producer infers float32 reals keeps its
 * storage dtype and quantization: the inferred reals are what the quant type stands for.
 */
function storedForm(declared: Type, inferred: Type): Type {
  if (declared.kind !== 'tensor' || !declared.quant || inferred.kind !== 'tensor' || inferred.dtype !== 'float32') return inferred;
  return tensorType(declared.dtype, inferred.shape, declared.quant);
}

/** Merges an inferred type into an existing one; `conflict` is set when they disagree. */
export function mergeTypes(existing: Type, inferred: Type): { type: Type; conflict?: string } {
  if (existing.kind === 'unknown') return { type: inferred };
  // The common case (a type assigned again, e.g. by data propagation after op inference): nothing to merge.
  if (existing.kind === 'tensor' && inferred.kind === 'tensor' && sameTensorType(existing, inferred)) return { type: existing };
  if (inferred.kind === 'unknown') return { type: existing };
  if (existing.kind !== inferred.kind) return { type: existing, conflict: `kind ${existing.kind} vs ${inferred.kind}` };
  if (existing.kind === 'sequence' && inferred.kind === 'sequence') {
    const element = mergeTypes(existing.element, inferred.element);
    return { type: { kind: 'sequence', element: element.type }, ...(element.conflict ? { conflict: element.conflict } : {}) };
  }
  if (existing.kind !== 'tensor' || inferred.kind !== 'tensor') return { type: existing };
  if (existing.dtype !== inferred.dtype) return { type: existing, conflict: `dtype ${existing.dtype} vs ${inferred.dtype}` };
  if (existing.shape === null) return { type: tensorType(existing.dtype, inferred.shape, existing.quant) };
  if (inferred.shape === null) return { type: existing };
  if (existing.shape.length !== inferred.shape.length) return { type: existing, conflict: `rank ${existing.shape.length} vs ${inferred.shape.length}` };
  let conflict: string | undefined;
  const shape: Dim[] = existing.shape.map((dim, i) => {
    const other = inferred.shape![i]!;
    // A declared symbol (torch names an output's data-dependent dims 'Resizey_dim_1') that inference proves to be a number becomes that number.
    if (dim === null || (typeof dim === 'string' && typeof other === 'number')) return other;
    if (typeof dim === 'number' && typeof other === 'number' && dim !== other) conflict = `dim ${i}: ${dim} vs ${other}`;
    return dim;
  });
  return { type: tensorType(existing.dtype, shape, existing.quant), ...(conflict ? { conflict } : {}) };
}

/** Same dtype and the same known rank and dims (quantization not compared). */
function sameTensorType(a: TensorType, b: TensorType): boolean {
  if (a.dtype !== b.dtype || !a.shape || !b.shape || a.shape.length !== b.shape.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  return true;
}

function sameType(a: Type, b: Type): boolean {
  // Fast path for the common case, tensors of one dtype and dims (no strings built per value).
  if (a === b) return true;
  // Kinds that differ format differently (a fresh model's intermediates are all 'unknown' before the first refresh).
  if (a.kind !== b.kind) return false;
  if (a.kind === 'tensor' && b.kind === 'tensor' && sameTensorType(a, b)) return true;
  return formatType(a) === formatType(b);
}

/** Where a Loop or Scan body's inputs come from and which outputs carry values to the next iteration. */
interface IterationShape {
  /** Body inputs with a type fixed by the node (Loop: counter, condition; Scan: the scanned slices). */
  readonly fixedInputs: readonly (readonly [Value, Type])[];
  /** Body inputs of the carried values, in order. */
  readonly carriedInputs: readonly Value[];
  /** Body outputs that become the carried values of the next iteration, in order. */
  readonly carriedOutputs: readonly (Value | undefined)[];
}

/** How many times a Loop body is re-inferred with generalized carried types before giving up. */
const MAX_LOOP_ROUNDS = 4;

/**
 * Ops whose propagation rule copies input elements to the output unchanged (selection and joining), and the
 * inputs that hold those elements: on fully known values the rule gives exactly the numbers the kernel would
 * copy, so exported shape arithmetic (Shape → Gather → Unsqueeze → Concat) is propagated without decoding and
 * re-encoding an int64 tensor per node through the reference kernels.
 */
const SELECTION_DATA_INPUTS: ReadonlyMap<string, 'all' | 'first'> = new Map([
  ['onnx.Gather', 'first'],
  ['onnx.Unsqueeze', 'first'],
  ['onnx.Squeeze', 'first'],
  ['onnx.Concat', 'all'],
  ['onnx.Reshape', 'first'],
  ['onnx.Identity', 'first'],
  ['onnx.Cast', 'first'], // only a cast to the same dtype: the element inputs must have the output's dtype
]);

/**
 * Integer arithmetic whose rule computes in doubles (Div truncating toward zero, as the kernels do): exact for
 * int32/int64 when every known operand and every result lies within ±2^31 (a product or quotient of such numbers
 * is exact in a double), so those cases are propagated like the selections above.
 */
const BOUNDED_ARITHMETIC: ReadonlySet<string> = new Set(['onnx.Add', 'onnx.Sub', 'onnx.Mul', 'onnx.Div']);
const ARITHMETIC_BOUND = 2 ** 31;

/**
 * What `propagateSelection` did: recorded the output's values, did not run the rule (the node is not a selection of
 * tracked integers of one dtype), ran it and it threw, or ran it and left its results to the general path.
 */
type RuleOutcome = 'recorded' | 'not-run' | 'threw' | readonly (DimValues | undefined)[];

/** Whether every value is a number that int64 and a double both hold exactly (an int64 beyond 2^53 read as a number is not). */
function allSafeIntegers(values: readonly Dim[]): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isSafeInteger(values[i])) return false;
  return true;
}

/** Whether every known number of `values` lies strictly within ±2^31 (symbols and unknowns are not numbers). */
function withinArithmeticBound(values: readonly Dim[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'number' && !(value > -ARITHMETIC_BOUND && value < ARITHMETIC_BOUND)) return false;
  }
  return true;
}

/** Whether an output of `node` has a tensor type of a dtype whose element values inference tracks (`setValues` records only those). */
function hasTrackedOutput(node: Node): boolean {
  const outputs = node.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const type = outputs[i]?.type;
    if (type?.kind === 'tensor' && isTrackedDType(type.dtype)) return true;
  }
  return false;
}

function failure(error: unknown, node: Node): Diagnostic {
  // A refusal proves the node's inputs impossible: an error in a main graph (ONNX Runtime refuses the file), a
  // warning in a body, which may never run with these shapes. The output types stay as they were (never a guess).
  if (isInferenceRefusal(error)) {
    const refusal = error.diagnostics[0]!;
    return diagnostic({ ...refusal, severity: node.graph?.parentNode === null ? 'error' : 'warning', location: refusal.location ?? node.location, cause: error });
  }
  return diagnostic({
    severity: 'warning',
    reason: `type inference failed: ${error instanceof Error ? error.message : String(error)}`,
    location: node.location,
    source: '@modelpass/ops',
    code: 'infer/failed',
    cause: error,
  });
}


/** Every value a graph defines (inputs and node outputs, nested bodies included). */
function definedValues(graph: Graph, into: Value[] = []): Value[] {
  into.push(...graph.inputs);
  for (const node of graph.nodes()) {
    for (const output of node.outputs) if (output) into.push(output);
    for (const subgraph of node.subgraphs) definedValues(subgraph, into);
  }
  return into;
}

/**
 * The context op inference and data propagation see for the node being inferred: one object per
 * inference run, pointed at each node in turn (read only while that node's inference runs), instead
 * of an object and four closures per node.
 */
class NodeContext implements ShapeInferenceContext, PropagationContext {
  node!: Node;
  opset: number | undefined;

  constructor(private readonly inference: ShapeInference) {}

  at(node: Node, opset: number | undefined): this {
    this.node = node;
    this.opset = opset;
    return this;
  }

  inputType(index: number): Type | undefined {
    return realsOf(this.node.inputs[index]?.type);
  }

  inputConstant(index: number): Tensor | undefined {
    return this.inference.constantOf(this.node.inputs[index]);
  }

  inputValues(index: number): DimValues | undefined {
    return this.inference.valuesOf(this.node.inputs[index]);
  }

  inputInts(index: number): number[] | undefined {
    return this.inference.knownInts(this.node.inputs[index]);
  }
}

/** Data propagation reads declared input types (a quantized operand as its stored dtype), op inference their reals. */
class PropagationNodeContext extends NodeContext {
  override inputType(index: number): Type | undefined {
    return this.node.inputs[index]?.type;
  }
}

class ShapeInference {
  updated = 0;
  readonly diagnostics: Diagnostic[] = [];
  /** Constant data known for values: Constant-node outputs and evaluated nodes. */
  private readonly constants = new Map<Value, Tensor>();
  /** Partially known element values of shape-like integer tensors. */
  private readonly values = new Map<Value, DimValues>();

  /**
   * In refresh mode, intermediate values (node outputs that are not an output of their own graph) hold
   * their declared type until their first assignment overwrites it; this set holds the ones assigned
   * since (a Loop body's are taken out again each round). Empty and unused in merge mode.
   */
  private readonly refreshed = new Set<Value>();
  private readonly context = new NodeContext(this);
  private readonly propagation = new PropagationNodeContext(this);
  /** The dialect `opsetOf` last looked up, and its opset. */
  private lastDialect: string | undefined;
  private lastOpset: number | undefined;

  constructor(
    private readonly model: Model,
    private readonly registry: OpRegistry,
    private readonly refreshing: boolean,
  ) {}

  /** In refresh mode: an intermediate value still holding its declared type, to overwrite on first assignment. */
  private isStale(value: Value): boolean {
    // The set first: a value is assigned again by data propagation after op inference, and `isGraphOutput` walks its uses.
    return this.refreshing && value.producer !== null && !this.refreshed.has(value) && !value.isGraphOutput;
  }

  /** Overwrites a stale intermediate type with the inferred one (keeping quantization when the dtype stays). */
  private refresh(value: Value, inferred: Type): void {
    this.refreshed.add(value);
    const declared = value.type;
    const type = declared.kind === 'tensor' && declared.quant && inferred.kind === 'tensor' && inferred.dtype === declared.dtype ? tensorType(inferred.dtype, inferred.shape, declared.quant) : inferred;
    if (!sameType(type, declared)) {
      value.type = type;
      this.updated++;
    }
  }

  private assign(value: Value, inferred: Type | undefined, node: Node | undefined): void {
    if (!inferred) return;
    inferred = storedForm(value.type, inferred);
    if (this.isStale(value)) return this.refresh(value, inferred);
    const { type, conflict } = mergeTypes(value.type, inferred);
    if (conflict) {
      this.diagnostics.push(
        diagnostic({
          severity: 'warning',
          reason: `inferred type of '${value.name}' disagrees with its declared type (${conflict}); keeping the declared one`,
          expected: formatType(value.type),
          actual: formatType(inferred),
          ...(node ? { location: node.location } : {}),
          source: '@modelpass/ops',
          code: 'infer/conflict',
        }),
      );
    }
    if (!sameType(type, value.type)) {
      value.type = type;
      this.updated++;
    }
  }

  /** The constant data of a value: an initializer, a Constant-node output or an evaluated value. */
  constantOf(value: Value | null | undefined): Tensor | undefined {
    if (!value) return undefined;
    const constant = value.constant ?? this.constants.get(value);
    if (constant) return constant;
    // Fully known propagated values become a tensor when first read as one (most shape arithmetic is only read as values).
    const data = this.values.get(value);
    const type = value.type;
    if (!data || type.kind !== 'tensor') return undefined;
    const tensor = tensorOfDimValues(data, type.dtype);
    if (tensor) this.constants.set(value, tensor);
    return tensor;
  }

  /** The known element values of a value (from its constant data or from propagation). */
  valuesOf(value: Value | null | undefined): DimValues | undefined {
    if (!value) return undefined;
    const known = this.values.get(value);
    if (known) return known;
    const constant = this.constantOf(value);
    if (!constant) return undefined;
    // Decoded once per run and kept with the value (the same values its constant holds): a constant is read by each of
    // its readers' inference and propagation, and the next read is one lookup.
    const data = dimValuesOfTensor(constant);
    if (data) this.values.set(value, data);
    return data;
  }

  /**
   * The known values of `value` as the integers `readInts` reads from its constant (a real one, or the tensor
   * `constantOf` builds from propagated values), when they are all numbers the constant's dtype holds exactly; else
   * undefined. The values of a small integer constant are decoded once (`valuesOf`), not again for each reader.
   */
  knownInts(value: Value | null | undefined): number[] | undefined {
    if (!value) return undefined;
    const data = this.valuesOf(value);
    if (!data) return undefined;
    const tensor = value.constant ?? this.constants.get(value);
    const type = value.type;
    const dtype = tensor ? tensor.dtype : type.kind === 'tensor' ? type.dtype : undefined;
    return dtype === undefined ? undefined : exactInts(data.values, dtype);
  }

  private setConstant(value: Value, tensor: Tensor, node: Node): void {
    this.constants.set(value, tensor);
    this.assign(value, tensorType(tensor.dtype, tensor.shape), node);
  }

  /** Records known values; fully known ones also become constant data of the value's dtype. */
  private setValues(value: Value, data: DimValues, node: Node): void {
    const type = value.type;
    if (type.kind !== 'tensor' || !isTrackedDType(type.dtype)) return;
    if (!anyKnown(data.values)) return;
    this.values.set(value, data);
    // Its tensor, when every value is known, is built by `constantOf` on first read.
    // Op inference has typed it already (nearly always): merging the same shape again would change nothing.
    const shape = type.shape;
    if (shape !== null && (data.scalar ? shape.length === 0 : shape.length === 1 && shape[0] === data.values.length) && !this.isStale(value)) return;
    this.assign(value, tensorType(type.dtype, data.scalar ? [] : [data.values.length]), node);
  }

  /** Whether an If's condition is known, and which way. */
  private knownCondition(node: Node): boolean | undefined {
    const condition = this.constantOf(node.inputs[0]);
    if (!condition || condition.size !== 1 || condition.dtype === 'string') return undefined;
    return readNumbers(condition)[0] !== 0;
  }

  /** If: the taken branch's types and values when the condition is known, else both joined. */
  private inferIf(node: Node): void {
    const thenBranch = node.attr('then_branch', 'graph');
    const elseBranch = node.attr('else_branch', 'graph');
    const condition = this.knownCondition(node);
    node.outputs.forEach((output, i) => {
      if (!output) return;
      const fromThen = thenBranch.outputs[i];
      const fromElse = elseBranch.outputs[i];
      if (condition !== undefined) {
        const taken = condition ? fromThen : fromElse;
        if (!taken) return;
        this.assign(output, taken.type, node);
        const constant = this.constantOf(taken);
        if (constant) this.constants.set(output, constant);
        const data = this.values.get(taken);
        if (data) this.values.set(output, data);
        return;
      }
      this.assign(output, joinTypes(fromThen?.type, fromElse?.type), node);
      const data = joinDimValues(this.valuesOf(fromThen), this.valuesOf(fromElse));
      if (data) this.setValues(output, data, node);
    });
  }

  /**
   * Loop and Scan bodies: the body is inferred with the carried values typed as their initial
   * values; when an iteration's result differs, the body is inferred again (types, constants and
   * values of the body reset) from the join of both, until stable. The last round keeps only ranks.
   * Returns the carried values' final (joined) types, which the node's carried outputs also get.
   */
  private inferIterated(node: Node, body: Graph, initial: readonly (Type | undefined)[], carry: IterationShape): Type[] {
    const saved = definedValues(body).map((value) => [value, value.type] as const);
    const diagnosticCount = this.diagnostics.length;
    let seeds = [...initial];
    for (let round = 0; ; round++) {
      const last = round === MAX_LOOP_ROUNDS - 1;
      if (last) seeds = seeds.map((seed) => (seed?.kind === 'tensor' ? tensorType(seed.dtype, seed.shape ? seed.shape.map(() => null) : null) : seed));
      carry.fixedInputs.forEach(([value, type]) => this.assign(value, type, node));
      carry.carriedInputs.forEach((value, i) => this.assign(value, seeds[i], node));
      this.graph(body);
      const next = seeds.map((seed, i) => joinTypes(seed, carry.carriedOutputs[i]?.type));
      if (last || next.every((type, i) => (type && seeds[i] ? sameType(type, seeds[i]!) : type === seeds[i]))) {
        return seeds.map((seed) => seed ?? UNKNOWN_TYPE);
      }
      seeds = next;
      for (const [value, type] of saved) {
        this.refreshed.delete(value);
        value.type = type;
        this.constants.delete(value);
        this.values.delete(value);
      }
      this.diagnostics.length = diagnosticCount;
    }
  }

  /** The body of a Loop or (opset 9+) Scan as an iteration; undefined for other nodes. */
  private iterationOf(node: Node, body: Graph): { initial: (Type | undefined)[]; shape: IterationShape } | undefined {
    if (node.op === 'onnx.Loop') {
      const [iteration, condition, ...carried] = body.inputs;
      const fixedInputs: [Value, Type][] = [];
      if (iteration) fixedInputs.push([iteration, tensorType('int64', [])]);
      if (condition) fixedInputs.push([condition, tensorType('bool', [])]);
      return {
        initial: carried.map((_, i) => node.inputs[i + 2]?.type),
        shape: { fixedInputs, carriedInputs: carried, carriedOutputs: body.outputs.slice(1, 1 + carried.length) },
      };
    }
    const opset = this.model.opset(node.dialect);
    if (node.op !== 'onnx.Scan' || (opset !== undefined && opset < 9)) return undefined;
    const scanCount = node.attr('num_scan_inputs', 'int');
    const stateCount = node.inputs.length - scanCount;
    const axes = node.optionalAttr('scan_input_axes', 'ints');
    const fixedInputs: [Value, Type][] = [];
    body.inputs.slice(stateCount).forEach((value, k) => {
      const type = node.inputs[stateCount + k]?.type;
      if (type?.kind !== 'tensor') return;
      if (!type.shape) return fixedInputs.push([value, tensorType(type.dtype, null)]);
      const raw = axes?.[k] ?? 0;
      const axis = raw < 0 ? raw + type.shape.length : raw;
      fixedInputs.push([value, tensorType(type.dtype, type.shape.filter((_, i) => i !== axis))]);
    });
    return {
      initial: node.inputs.slice(0, stateCount).map((value) => value?.type),
      shape: { fixedInputs, carriedInputs: body.inputs.slice(0, stateCount), carriedOutputs: body.outputs.slice(0, stateCount) },
    };
  }

  /** The model's opset of `node`'s dialect: one model look-up per run of nodes of one dialect (nearly every node is onnx). */
  private opsetOf(node: Node): number | undefined {
    const dialect = node.dialect;
    if (dialect !== this.lastDialect) {
      this.lastDialect = dialect;
      this.lastOpset = this.model.opset(dialect);
    }
    return this.lastOpset;
  }

  private inferNode(node: Node, loopCarried: readonly Type[] | undefined): void {
    const schema = this.registry.get(node.op);
    const opset = this.opsetOf(node);
    let inferred: readonly (Type | undefined)[] | undefined;
    try {
      inferred = schema?.inferTypes?.(this.context.at(node, opset));
    } catch (error) {
      this.diagnostics.push(failure(error, node));
      return;
    }
    if (loopCarried && inferred) inferred = inferred.map((type, i) => (i < loopCarried.length ? joinTypes(loopCarried[i], type) : type));
    if (node.op === 'onnx.If' && schema) {
      this.inferIf(node);
      return;
    }
    const outputs = node.outputs;
    if (inferred) {
      for (let i = 0; i < outputs.length; i++) {
        const value = outputs[i];
        if (value) this.assign(value, inferred[i], node);
      }
    }
    if (node.subgraphs.length > 0) return;
    this.propagateData(node, inferred ?? [], opset);
  }

  /** The constant data of every input (null for an omitted one), or undefined as soon as one is not constant. */
  private constantInputs(node: Node): (Tensor | null)[] | undefined {
    const inputs = node.inputs;
    // Allocated at the first constant input: most nodes read an activation first and are answered without an array.
    let tensors: (Tensor | null)[] | undefined;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      if (!input) continue;
      const tensor = this.constantOf(input);
      if (!tensor) return undefined;
      (tensors ??= new Array<Tensor | null>(inputs.length).fill(null))[i] = tensor;
    }
    return tensors ?? new Array<Tensor | null>(inputs.length).fill(null);
  }

  /**
   * A selection or join (SELECTION_DATA_INPUTS) or bounded arithmetic (BOUNDED_ARITHMETIC) of fully known integers
   * by its propagation rule: the values and the constant the kernel would give, without running it. False, recording
   * nothing, when any value is unknown or not a safe integer, an element input's dtype is not the output's, or
   * arithmetic leaves ±2^31 (then the kernel or the rule runs as before).
   */
  private propagateSelection(node: Node, dataInputs: 'all' | 'first', opset: number | undefined): RuleOutcome {
    const output = node.outputs[0];
    if (!output || node.outputs.length !== 1) return 'not-run';
    const type = output.type;
    if (type.kind !== 'tensor' || !isTrackedDType(type.dtype)) return 'not-run';
    const inputs = node.inputs;
    const last = dataInputs === 'all' ? inputs.length : 1;
    for (let i = 0; i < last; i++) {
      const inputType = inputs[i]?.type;
      if (inputType?.kind !== 'tensor' || inputType.dtype !== type.dtype) return 'not-run';
    }
    let results: readonly (DimValues | undefined)[];
    try {
      results = PROPAGATION_RULES.get(node.op)!(this.propagation.at(node, opset));
    } catch {
      return 'threw';
    }
    const data = results[0];
    if (!data || !allSafeIntegers(data.values)) return results;
    if (BOUNDED_ARITHMETIC.has(node.op)) {
      if ((type.dtype !== 'int64' && type.dtype !== 'int32') || !withinArithmeticBound(data.values)) return results;
      for (let i = 0; i < inputs.length; i++) {
        const operand = this.valuesOf(inputs[i]);
        if (!operand || !withinArithmeticBound(operand.values)) return results;
      }
    }
    this.setValues(output, data, node);
    return 'recorded';
  }

  /** Constant evaluation when every input is constant, else the op's propagation rule. */
  private propagateData(node: Node, inferred: readonly (Type | undefined)[], opset: number | undefined): void {
    const selection = SELECTION_DATA_INPUTS.get(node.op) ?? (BOUNDED_ARITHMETIC.has(node.op) ? 'all' : undefined);
    const outcome = selection ? this.propagateSelection(node, selection, opset) : 'not-run';
    if (outcome === 'recorded') return;
    const inputs = this.constantInputs(node);
    if (inputs) {
      const outputs = evaluateConstantNode(node, inputs, inferred, this.model);
      if (outputs) {
        for (let i = 0; i < node.outputs.length; i++) {
          const value = node.outputs[i];
          const tensor = outputs[i];
          if (value && tensor) this.setConstant(value, tensor, node);
        }
        return;
      }
    }
    // Values are only recorded for outputs of an integer (tracked) dtype (`setValues`): a float Add/Mul/Reshape of
    // activations, most of a model's nodes, needs no rule run whose results would all be dropped.
    if (!hasTrackedOutput(node)) return;
    const rule = PROPAGATION_RULES.get(node.op);
    if (!rule) return;
    // The selection's run of the rule when it ran (a symbolic dim, or arithmetic past its bound): the same results,
    // since nothing since has changed what the rule reads.
    if (outcome === 'threw') return; // propagation is best effort: ordinary inference already ran
    let results: readonly (DimValues | undefined)[];
    if (outcome !== 'not-run') results = outcome;
    else {
      try {
        results = rule(this.propagation.at(node, opset));
      } catch {
        return; // propagation is best effort: ordinary inference already ran
      }
    }
    for (let i = 0; i < node.outputs.length; i++) {
      const value = node.outputs[i];
      const data = results[i];
      if (value && data) this.setValues(value, data, node);
    }
  }

  graph(graph: Graph): void {
    // Linked-list and indexed walks: a for-of not yet optimized by the JIT allocates a result object per step.
    for (let node = graph.firstNode; node; node = node.next) {
      let loopCarried: Type[] | undefined;
      const subgraphs = node.subgraphs;
      for (let i = 0; i < subgraphs.length; i++) {
        const subgraph = subgraphs[i]!;
        const iteration = this.iterationOf(node, subgraph);
        if (iteration) loopCarried = this.inferIterated(node, subgraph, iteration.initial, iteration.shape);
        else this.graph(subgraph);
      }
      this.inferNode(node, loopCarried);
    }
  }
}

/**
 * One inference (of an empty model) alive for the life of the process. V8 forgets the hidden classes of a class's
 * instances once none is left (the field transitions from its initial map are weak) and then discards the optimized
 * code of every method that relied on them ("weak objects" in --trace-deopt): a process converting model after model
 * re-optimized the inference's and its node contexts' methods after each major GC (tools/bench/tflite/long-process.mjs).
 */
export const KEEP_INFERENCE_CLASSES_ALIVE: unknown = new ShapeInference(new Model(), new OpRegistry(), true);

/** A registry, told apart from options by shape (a plugin may hold another copy of the ir's class). */
function isRegistry(value: OpRegistry | InferShapesOptions): value is OpRegistry {
  return typeof (value as OpRegistry).inferNode === 'function';
}

/**
 * Runs type inference over the model's graph and its subgraphs, filling value types in place
 * (function bodies are left alone: their attribute references resolve only per call). Uses the
 * canonical registry by default; pass a registry (or `{ registry }`) with plugin ops to cover them
 * too, and `{ mode: 'refresh' }` to overwrite stale intermediate types.
 */
export function inferShapes(model: Model, registryOrOptions: OpRegistry | InferShapesOptions = {}): InferShapesResult {
  const options: InferShapesOptions = isRegistry(registryOrOptions) ? { registry: registryOrOptions } : registryOrOptions;
  const inference = new ShapeInference(model, options.registry ?? createOpRegistry(), options.mode === 'refresh');
  inference.graph(model.graph);
  return { updated: inference.updated, diagnostics: inference.diagnostics, knownConstant: (value) => inference.constantOf(value) };
}
