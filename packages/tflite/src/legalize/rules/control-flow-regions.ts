/**
 * If and Loop that cannot be resolved at conversion time (`control-flow.ts` inlines and unrolls the
 * rest) become TFLite's IF and WHILE, whose branches, condition and body are regions (subgraphs):
 *
 * - Loop → WHILE over the state `[i, cond, v…, M?, captures…, scan buffers…]`: the cond region
 *   computes `i < M` and/or `cond`; the body region is the ONNX body plus `i + 1`, with M and the
 *   captures passed on unchanged. Values the body reads from enclosing graphs (at any depth) are
 *   extra state (TFLite subgraphs cannot capture); constants are copied into the region. Scan
 *   outputs are rows of a buffer carried as state, written by DYNAMIC_UPDATE_SLICE at row i and cut
 *   to the `i` rows written by a SLICE after the loop (no SLICE when a constant M is always run to
 *   the end): the buffer holds M rows for a constant M up to `LOOP_SCAN_CAPACITY`, else that many (a
 *   loop with more iterations fails in the runtime at that SLICE, "Invalid begin and size", instead
 *   of writing past the buffer).
 * - If → IF with the captures as operands and as inputs of both branches. Used where both branches
 *   cannot just be computed and selected (SELECT_V2, `control-flow.ts`): outputs of different shapes
 *   (the IF output is dynamic, declared with its largest shape: `META_SHAPE_BOUND`), branches that may
 *   fail on the data of the branch not taken, nested control flow that stays.
 *
 * Built in canonical ops (plus the tflite ops that have no canonical spelling), the regions are then
 * prepared like the main graph; `legalize.ts` checks and lowers each region as a model of its own.
 */
import { Builder, Graph, Tensor, attrs, byteLengthOf, formatType, isTensorType, tensorType, type Dim, type Model, type Node, type TensorType, type Type, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { META_SHAPE_BOUND } from '../../io/metadata-keys.js';
import { constantOf } from '../constant-values.js';
import { staticDims } from '../lowering-tools.js';
import { bindCaptures, capturedValues, regionModel, renameShadowedValues } from './region-graphs.js';

/** Rows of a scan output's buffer when the trip count is only known at run time. */
export const LOOP_SCAN_CAPACITY = 1024;
/** A scan output's buffer larger than this is refused (it is carried and copied every iteration). */
export const MAX_SCAN_BUFFER_BYTES = 16 * 1024 * 1024;

/** What a region plan does with the node, or why it cannot. */
export type RegionPlan = { readonly run: (prepareRegion: (region: Model) => void) => void } | string;

function graphAttr(node: Node, name: string): Graph | undefined {
  const attribute = node.getAttribute(name);
  return attribute?.kind === 'graph' ? attribute.value : undefined;
}

function staticTensorType(value: Value | null | undefined): TensorType | undefined {
  const type = value?.type;
  return type && isTensorType(type) && staticDims(value) && type.dtype !== 'string' ? type : undefined;
}

/** Why `value` is not a tensor of static shape ('is a sequence', 'has the shape [?,3]'), or undefined when it is one. */
function notStaticTensor(value: Value | null | undefined): string | undefined {
  const type = value?.type;
  if (!type) return 'is absent';
  if (!isTensorType(type)) return type.kind === 'unknown' ? 'has an unknown type' : `is ${/^[aeiou]/.test(type.kind) ? 'an' : 'a'} ${type.kind}`;
  if (type.dtype === 'string') return 'is a string tensor';
  return staticDims(value) ? undefined : `has no static shape (${formatType(type)})`;
}

function singleElement(value: Value | null | undefined, dtype: string): boolean {
  const type = value?.type;
  const dims = staticDims(value);
  return !!type && isTensorType(type) && type.dtype === dtype && !!dims && dims.every((d) => d === 1);
}

function sameType(a: TensorType, b: Type): boolean {
  return isTensorType(b) && a.dtype === b.dtype && (a.shape ?? []).join() === (b.shape ?? []).join();
}

function scalarConstant(value: Value | null | undefined): number | undefined {
  const tensor = constantOf(value);
  return tensor && tensor.size === 1 && tensor.dtype !== 'string' ? tensor.toNumbers()[0] : undefined;
}

function zeros(type: TensorType, dims: readonly number[]): Tensor {
  const count = dims.reduce((n, d) => n * d, 1);
  return Tensor.fromBytes(type.dtype, dims, new Uint8Array(byteLengthOf(type.dtype, count)));
}

/** The body's `cond_out` is its `cond_in` (through Identities) or a constant true. */
function conditionPassedOn(body: Graph): boolean {
  let value: Value | undefined = body.outputs[0];
  while (value?.producer?.op === 'onnx.Identity') value = value.producer.inputs[0] ?? undefined;
  return value === body.inputs[1] || scalarConstant(value) === 1;
}

/** The nodes the plans create, typed as given (regions are prepared and lowered after). */
function typed(at: Builder, op: string, inputs: readonly (Value | null)[], type: Type, attributes: Record<string, ReturnType<typeof attrs.int>> = {}): Value {
  return at.op1(op, inputs, attributes, { types: [type] });
}

const INT64_SCALAR = tensorType('int64', []);
const BOOL_SCALAR = tensorType('bool', []);

interface LoopShape {
  readonly body: Graph;
  readonly trips: Value | null;
  readonly condition: Value | null;
  readonly carried: readonly TensorType[];
  readonly scans: readonly { readonly type: TensorType; readonly dims: number[] }[];
  /** Rows of each scan buffer, and whether all of them are written (a constant trip count with no exit). */
  readonly capacity: number;
  readonly exact: boolean;
}

function loopShape(node: Node): LoopShape | string {
  const body = graphAttr(node, 'body');
  if (!body) return 'Loop has no body';
  const trips = node.inputs[0] ?? null;
  const condition = node.inputs[1] ?? null;
  if (!trips && !condition) return 'a Loop with neither a trip count nor a condition never ends';
  if (trips && !singleElement(trips, 'int64')) return 'the trip count M must be a single int64 element';
  if (condition && !singleElement(condition, 'bool')) return 'the initial condition must be a single bool element';
  const initial = node.inputs.slice(2);
  if (body.inputs.length !== 2 + initial.length) return `the body has ${body.inputs.length} inputs, expected ${2 + initial.length} (iteration, condition, carried values)`;
  const carried: TensorType[] = [];
  for (const [k, value] of initial.entries()) {
    const type = staticTensorType(value);
    if (!type) return `carried value ${k} ('${value?.name ?? ''}') ${notStaticTensor(value)}; TFLite WHILE carries tensors of one static shape`;
    carried.push(type);
  }
  // The body's inputs take the initial values' types, so inference types the body as TFLite will run it.
  body.inputs[0]!.type = INT64_SCALAR;
  body.inputs[1]!.type = BOOL_SCALAR;
  carried.forEach((type, k) => (body.inputs[2 + k]!.type = type));
  const scanCount = body.outputs.length - 1 - carried.length;
  if (scanCount < 0) return 'the body has fewer outputs than carried values';
  const scans: { type: TensorType; dims: number[] }[] = [];
  for (let k = 0; k < scanCount; k++) {
    const output = body.outputs[1 + carried.length + k];
    const type = staticTensorType(output);
    if (!type) return `scan output ${k} ${notStaticTensor(output)} in the body; its rows must be tensors of one static shape`;
    scans.push({ type, dims: staticDims(output)! });
  }
  const constantTrips = trips ? scalarConstant(trips) : undefined;
  // Every row is written when M is a constant and the loop cannot stop early (no condition: ONNX ignores the body's).
  const exact = constantTrips !== undefined && (!condition || (scalarConstant(condition) === 1 && conditionPassedOn(body)));
  // Otherwise at most M rows, and never more than LOOP_SCAN_CAPACITY (a `while` exported with M = INT64_MAX).
  const capacity = exact ? Math.max(0, constantTrips) : Math.min(Math.max(0, constantTrips ?? LOOP_SCAN_CAPACITY), LOOP_SCAN_CAPACITY);
  if (scans.length > 0 && capacity <= 0) return 'a loop of zero iterations with scan outputs gives empty tensors, which TFLite cannot hold';
  for (const [k, scan] of scans.entries()) {
    const bytes = byteLengthOf(scan.type.dtype, capacity * scan.dims.reduce((n, d) => n * d, 1));
    if (bytes > MAX_SCAN_BUFFER_BYTES) return `scan output ${k} needs a buffer of ${capacity} rows (${bytes} bytes), over ${MAX_SCAN_BUFFER_BYTES}`;
  }
  return { body, trips, condition, carried, scans, capacity, exact };
}

/** Checks the body's carried outputs keep their input types (inferred with the initial types). */
function carriedTypesProblem(node: Node, shape: LoopShape, model: Model): string | undefined {
  inferShapes(regionModel(shape.body, model), { mode: 'refresh' });
  if (!isTensorType(shape.body.outputs[0]?.type ?? tensorType('bool', [])) || !singleElement(shape.body.outputs[0], 'bool')) {
    if (shape.condition) return 'the body\'s condition output is not a single bool element';
  }
  for (const [k, type] of shape.carried.entries()) {
    const output = shape.body.outputs[1 + k]!;
    if (!sameType(type, output.type)) {
      return `carried value ${k} changes type or shape in the body (${formatType(type)} in, ${formatType(output.type)} out); TFLite WHILE carries tensors of one static shape`;
    }
  }
  void node;
  return undefined;
}

function planLoopRegion(node: Node, model: Model): RegionPlan {
  const shape = loopShape(node);
  if (typeof shape === 'string') return shape;
  const problem = carriedTypesProblem(node, shape, model);
  if (problem) return problem;
  return { run: (prepareRegion) => buildWhile(node, shape, model, prepareRegion) };
}

function buildWhile(node: Node, shape: LoopShape, model: Model, prepareRegion: (region: Model) => void): void {
  const { body, trips, condition, carried, scans } = shape;
  const [iteration, conditionIn] = [body.inputs[0]!, body.inputs[1]!];
  const tripsIn = trips ? body.addInput(body.uniqueName('trip_count'), INT64_SCALAR) : undefined;
  const { passedIn, inputs: captureInputs } = bindCaptures(body, capturedValues(body));
  const buffers = scans.map((scan, k) => body.addInput(body.uniqueName(`scan_${k}_buffer`), tensorType(scan.type.dtype, [shape.capacity, ...scan.dims])));
  // The body: i + 1, the condition (passed on when the loop has none), the carried values, M and captures unchanged, each scan output written at row i.
  const inBody = Builder.atEnd(body, { loc: node.loc });
  const one = inBody.constant(Tensor.scalar('int64', 1n), 'one');
  const nextIteration = typed(inBody, 'onnx.Add', [iteration, one], INT64_SCALAR);
  const conditionOut = condition ? reshapedTo(inBody, body.outputs[0]!, BOOL_SCALAR) : conditionIn;
  const carriedOut = body.outputs.slice(1, 1 + carried.length);
  const rowIndex = typed(inBody, 'onnx.Reshape', [typed(inBody, 'onnx.Cast', [iteration], tensorType('int32', []), { to: attrs.int(6) }), inBody.constant(Tensor.fromValues('int64', [1], [1n]), 'row_shape')], tensorType('int32', [1]));
  const writtenBuffers = scans.map((scan, k) => {
    const output = body.outputs[1 + carried.length + k]!;
    const rank = scan.dims.length + 1;
    const start = scan.dims.length === 0 ? rowIndex : typed(inBody, 'onnx.Concat', [rowIndex, inBody.constant(Tensor.fromValues('int32', [rank - 1], new Array<number>(rank - 1).fill(0)), 'row_start')], tensorType('int32', [rank]), { axis: attrs.int(0) });
    const row = typed(inBody, 'onnx.Reshape', [output, inBody.constant(Tensor.fromValues('int64', [rank], [1n, ...scan.dims.map((d) => BigInt(d))]), 'row_shape')], tensorType(scan.type.dtype, [1, ...scan.dims]));
    return typed(inBody, 'tflite.DYNAMIC_UPDATE_SLICE', [buffers[k]!, row, start], buffers[k]!.type);
  });
  body.setOutputs([nextIteration, conditionOut, ...carriedOut, ...(tripsIn ? [tripsIn] : []), ...captureInputs, ...writtenBuffers]);
  const stateTypes = body.inputs.map((input) => input.type);

  // The condition: i < M, and/or the carried condition.
  const cond = new Graph(`${body.name}_cond`);
  const condInputs = stateTypes.map((type, k) => cond.addInput(cond.uniqueName(body.inputs[k]!.name), type));
  const inCond = Builder.atEnd(cond, { loc: node.loc });
  const underTrips = tripsIn ? typed(inCond, 'onnx.Less', [condInputs[0]!, condInputs[2 + carried.length]!], BOOL_SCALAR) : undefined;
  const keepGoing = underTrips && condition ? typed(inCond, 'onnx.And', [underTrips, condInputs[1]!], BOOL_SCALAR) : (underTrips ?? condInputs[1]!);
  cond.setOutputs([keepGoing]);

  // The WHILE, in place of the Loop.
  const at = Builder.before(node);
  const initialState = [
    at.constant(Tensor.scalar('int64', 0n), `${node.name}_iteration`),
    condition ? reshapedTo(at, condition, BOOL_SCALAR) : at.constant(Tensor.scalar('bool', true), `${node.name}_true`),
    ...node.inputs.slice(2).map((value) => value!),
    ...(trips ? [reshapedTo(at, trips, INT64_SCALAR)] : []),
    ...passedIn,
    ...scans.map((scan, k) => at.constant(zeros(scan.type, [shape.capacity, ...scan.dims]), `${node.name}_scan_${k}_buffer`)),
  ];
  node.removeAttribute('body');
  const loop = at.create('tflite.WHILE', initialState, {}, { types: stateTypes, name: node.name });
  loop.setAttribute('cond_subgraph', attrs.graph(cond));
  loop.setAttribute('body_subgraph', attrs.graph(body));
  const finalState = loop.outputs.map((output) => output!);
  const finalIteration = finalState[0]!;
  const results: Value[] = finalState.slice(2, 2 + carried.length);
  const bufferOffset = finalState.length - scans.length;
  scans.forEach((scan, k) => results.push(shape.exact ? finalState[bufferOffset + k]! : writtenRows(at, node, finalState[bufferOffset + k]!, finalIteration, scan, shape.capacity, k)));
  node.outputs.forEach((output, index) => {
    const value = results[index];
    if (output && value) output.replaceAllUsesWith(value);
  });
  node.erase();
  for (const region of [body, cond]) {
    renameShadowedValues(region);
    const prepared = regionModel(region, model);
    inferShapes(prepared, { mode: 'refresh' });
    prepareRegion(prepared);
  }
}

/** `value` (a single element) reshaped to `type`'s shape when it differs. */
function reshapedTo(at: Builder, value: Value, type: TensorType): Value {
  if (isTensorType(value.type) && sameType(type, value.type)) return value;
  return typed(at, 'onnx.Reshape', [value, at.constant(Tensor.fromValues('int64', [0], []), 'scalar_shape')], type);
}

/** The first `iterations` rows of a scan buffer: a SLICE of data-dependent length, declared with the buffer's shape as its bound. */
function writtenRows(at: Builder, node: Node, buffer: Value, iterations: Value, scan: { type: TensorType; dims: number[] }, capacity: number, k: number): Value {
  const rank = scan.dims.length + 1;
  const count = typed(at, 'onnx.Reshape', [typed(at, 'onnx.Cast', [iterations], tensorType('int32', []), { to: attrs.int(6) }), at.constant(Tensor.fromValues('int64', [1], [1n]), 'count_shape')], tensorType('int32', [1]));
  const size = scan.dims.length === 0 ? count : typed(at, 'onnx.Concat', [count, at.constant(Tensor.fromValues('int32', [rank - 1], scan.dims), 'row_dims')], tensorType('int32', [rank]), { axis: attrs.int(0) });
  const begin = at.constant(Tensor.fromValues('int32', [rank], new Array<number>(rank).fill(0)), 'begin');
  const rows: Dim = `${node.name}_iterations`;
  const sliced = typed(at, 'tflite.SLICE', [buffer, begin, size], tensorType(scan.type.dtype, [rows, ...scan.dims]));
  sliced.metadata.set(META_SHAPE_BOUND, [capacity, ...scan.dims].join(','));
  void k;
  return sliced;
}

/** Ops whose kernels fail (rather than give a value) on data the branch was not meant for: a branch holding one runs only when taken. */
const MAY_FAIL_AT_RUN_TIME = new Set(['onnx.Gather', 'onnx.GatherElements', 'onnx.GatherND', 'onnx.ScatterND', 'onnx.ScatterElements', 'onnx.Scatter']);

/** Whether computing `branch` when it is not taken could fail: integer division (by zero) or run-time indexing (out of range). */
export function branchMayFail(branch: Graph): boolean {
  for (const node of branch.allNodes()) {
    if (MAY_FAIL_AT_RUN_TIME.has(node.op) && !constantOf(node.inputs[1])) return true;
    if ((node.op === 'onnx.Div' || node.op === 'onnx.Mod') && isTensorType(node.outputs[0]?.type ?? tensorType('float32', [])) && !(node.outputs[0]!.type as TensorType).dtype.startsWith('float') && !constantOf(node.inputs[1])) return true;
  }
  return false;
}

function planIfRegion(node: Node, model: Model): RegionPlan {
  const thenBranch = graphAttr(node, 'then_branch');
  const elseBranch = graphAttr(node, 'else_branch');
  if (!thenBranch || !elseBranch) return 'If has no branches';
  if (!singleElement(node.inputs[0], 'bool')) return 'the condition must be a single bool element of static shape';
  const outputTypes: TensorType[] = [];
  const bounds: (string | undefined)[] = [];
  for (let index = 0; index < node.outputs.length; index++) {
    const [a, b] = [thenBranch.outputs[index], elseBranch.outputs[index]];
    const [typeA, typeB] = [staticTensorType(a), staticTensorType(b)];
    if (!typeA || !typeB) return `output ${index} ${notStaticTensor(typeA ? b : a)} in the ${typeA ? 'else' : 'then'} branch; TFLite IF outputs are tensors of static shape in each branch`;
    if (typeA.dtype !== typeB.dtype) return `the branches give output ${index} different dtypes (${typeA.dtype}, ${typeB.dtype})`;
    const [dimsA, dimsB] = [staticDims(a)!, staticDims(b)!];
    if (dimsA.length !== dimsB.length) return `the branches give output ${index} different ranks ([${dimsA}] and [${dimsB}]); TFLite IF outputs of data-dependent shape keep their rank`;
    const name = node.outputs[index]?.name ?? `${node.name}_${index}`;
    outputTypes.push(tensorType(typeA.dtype, dimsA.map((d, i) => (d === dimsB[i] ? d : `${name}_d${i}`))));
    bounds.push(dimsA.join() === dimsB.join() ? undefined : dimsA.map((d, i) => Math.max(d, dimsB[i]!)).join(','));
  }
  return { run: (prepareRegion) => buildIf(node, [thenBranch, elseBranch], outputTypes, bounds, model, prepareRegion) };
}

function buildIf(node: Node, branches: readonly [Graph, Graph], outputTypes: readonly TensorType[], bounds: readonly (string | undefined)[], model: Model, prepareRegion: (region: Model) => void): void {
  const seen = new Set<Value>();
  const captures = branches.flatMap((branch) => capturedValues(branch)).filter((value) => (seen.has(value) ? false : (seen.add(value), true)));
  // Both branches take every passed-in capture, in one order (IF gives both the same operands).
  const passedIn = branches.map((branch) => bindCaptures(branch, captures, { allInputs: true }).passedIn)[0]!;
  const at = Builder.before(node);
  const condition = reshapedTo(at, node.input(0), tensorType('bool', [1]));
  node.removeAttribute('then_branch');
  node.removeAttribute('else_branch');
  const choice = at.create('tflite.IF', [condition, ...passedIn], {}, { types: outputTypes, name: node.name });
  choice.setAttribute('then_subgraph', attrs.graph(branches[0]));
  choice.setAttribute('else_subgraph', attrs.graph(branches[1]));
  choice.outputs.forEach((output, index) => {
    if (output && bounds[index]) output.metadata.set(META_SHAPE_BOUND, bounds[index]!);
  });
  node.outputs.forEach((output, index) => {
    const value = choice.outputs[index];
    if (output && value) output.replaceAllUsesWith(value);
  });
  node.erase();
  for (const branch of branches) {
    renameShadowedValues(branch);
    const prepared = regionModel(branch, model);
    inferShapes(prepared, { mode: 'refresh' });
    prepareRegion(prepared);
  }
}

/** How `node` (an If or Loop left after conversion-time resolution) becomes a region op, or why it cannot. */
export function regionPlanFor(node: Node, model: Model): RegionPlan | undefined {
  if (node.op === 'onnx.Loop') return planLoopRegion(node, model);
  if (node.op === 'onnx.If') return planIfRegion(node, model);
  return undefined;
}

/** Why prepare left an If/Loop as it was (read by the control-flow rule's check, which changes nothing). */
const refusals = new WeakMap<Node, string>();

/** Why `node` could not become a region op, as found when the regions were built; undefined when that step did not see it. */
export function regionRefusal(node: Node): string | undefined {
  return refusals.get(node);
}

/**
 * Every If/Loop of the main graph that control-flow.ts left becomes IF/WHILE with regions, each
 * region then prepared by `prepareRegion` (the canonical preparation, which recurses into nested
 * control flow). Loop/If that cannot are left for the control-flow rule to refuse. Returns how many.
 */
export function controlFlowAsRegions(model: Model, prepareRegion: (region: Model) => void): number {
  let count = 0;
  for (const node of model.graph.nodeList()) {
    if (!node.graph) continue;
    const plan = regionPlanFor(node, model);
    if (!plan) continue;
    if (typeof plan === 'string') {
      refusals.set(node, plan);
      continue;
    }
    plan.run(prepareRegion);
    count++;
  }
  return count;
}
