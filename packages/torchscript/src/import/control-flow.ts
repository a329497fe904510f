/**
 * Control flow on tensor data → ONNX If / Loop. An `if` whose condition is a tensor runs each branch
 * into its own subgraph; the variables a branch (re)binds that both branches define become the If's
 * outputs. A `while` on a tensor condition, or `for i in range(n)` with `n` computed from tensors,
 * becomes a Loop whose carried values are the variables the body assigns that exist before it
 * (Python numbers among them are carried as scalar tensors). Python-level values (modules, lists,
 * strings) must come out of a branch or body unchanged; anything else is refused at its location.
 */
import { attrs, Graph, GraphBuilder, tensorType, type Model, type Value } from '@modelpass/ir';
import type { Expr, SourcePosition, Stmt } from '../script/ast.js';
import type { InterpreterHost } from './interpreter.js';
import { LoweringContext, type TensorValue } from './lowering.js';
import { pythonEquals } from './python-semantics.js';
import { rangeLength } from './aten/python-builtins.js';
import { describeValue, type ScriptValue } from './script-value.js';

export type Env = Map<string, ScriptValue>;
export type Signal = { kind: 'normal' } | { kind: 'return'; value: ScriptValue } | { kind: 'break' } | { kind: 'continue' };

/** What the lowering needs from the interpreter. */
export interface ControlFlowHost {
  readonly host: InterpreterHost;
  block(body: readonly Stmt[], env: Env): Signal;
  evaluate(expr: Expr, env: Env): ScriptValue;
  fail(at: SourcePosition, reason: string, hint?: string): never;
}

/** ONNX's TensorProto code of bool (Cast's `to`). */
const ONNX_BOOL = 9;

/** Runs `build` with the host emitting into `graph`; the outer builder is restored after. */
function inGraph<T>(cf: ControlFlowHost, graph: Graph, build: (builder: GraphBuilder) => T): T {
  const outer = cf.host.builder;
  const builder = new GraphBuilder(graph);
  cf.host.builder = builder;
  try {
    return build(builder);
  } finally {
    cf.host.builder = outer;
  }
}

function context(cf: ControlFlowHost, at: SourcePosition, op: string): LoweringContext {
  return new LoweringContext(cf.host.builder, op, at, [], new Map());
}

/** A condition tensor as the bool scalar If/Loop read. */
function boolCondition(cf: ControlFlowHost, at: SourcePosition, value: TensorValue): Value {
  if (value.dtype === 'bool') return value.value;
  return context(cf, at, 'Bool').emit('Cast', [value.value], { to: ONNX_BOOL }, { dtype: 'bool', rank: value.rank }).value;
}

/** A value a subgraph outputs (or carries) as a tensor; Python numbers become constants of `like`'s dtype. */
function asTensor(cf: ControlFlowHost, at: SourcePosition, name: string, value: ScriptValue, like: ScriptValue | undefined): TensorValue {
  if (value.kind === 'tensor') return value;
  const ctx = context(cf, at, 'prim');
  const likeDtype = like?.kind === 'tensor' ? like.dtype : undefined;
  if (value.kind === 'bool') return ctx.scalarConstant('bool', value.value ? 1 : 0);
  if (value.kind === 'int') return { ...ctx.scalarConstant(likeDtype && likeDtype !== 'bool' ? likeDtype : 'int64', value.value), scalarInt: likeDtype === undefined || likeDtype === 'int64' };
  if (value.kind === 'float') return ctx.scalarConstant(likeDtype && likeDtype.startsWith('float') ? likeDtype : 'float32', value.value);
  return cf.fail(at, `'${name}' is a ${describeValue(value)} that changes with data-dependent control flow; only tensors and numbers can become If/Loop values`);
}

/** A subgraph output: a value the subgraph does not compute itself goes through an Identity there. */
function subgraphOutput(cf: ControlFlowHost, graph: Graph, at: SourcePosition, value: TensorValue): Value {
  if (value.value.producer?.graph === graph) return value.value;
  return context(cf, at, 'Identity').emit('Identity', [value.value], {}, { dtype: value.dtype, rank: value.rank }).value;
}

/** Lists are Python-level state: a data-dependent region must leave them as they were. */
function listSnapshot(env: Env): Array<[ScriptValue & { kind: 'list' }, ScriptValue[]]> {
  return [...env.values()].filter((value): value is ScriptValue & { kind: 'list' } => value.kind === 'list').map((list) => [list, [...list.items]]);
}
function checkLists(cf: ControlFlowHost, at: SourcePosition, snapshot: ReturnType<typeof listSnapshot>, what: string, hint?: string): void {
  for (const [list, items] of snapshot) {
    if (list.items.length !== items.length || list.items.some((item, i) => item !== items[i])) {
      cf.fail(at, `a list is changed inside ${what}; Python lists cannot depend on tensor data`, hint);
    }
  }
}

function isRaise(error: unknown): boolean {
  const diagnostics = (error as { diagnostics?: ReadonlyArray<{ code?: string }> }).diagnostics;
  return diagnostics?.[0]?.code === 'torchscript/raise';
}

interface Branch {
  graph: Graph;
  env: Env;
}

function runBranch(cf: ControlFlowHost, stmt: Stmt & { kind: 'if' }, body: readonly Stmt[], env: Env, name: string): Branch | 'raises' {
  const graph = new Graph(name);
  const branchEnv = new Map(env);
  const snapshot = listSnapshot(env);
  try {
    const signal = inGraph(cf, graph, () => cf.block(body, branchEnv));
    if (signal.kind !== 'normal') cf.fail(stmt.at, `a '${signal.kind}' inside an 'if' whose condition depends on tensor data is not supported`);
  } catch (error) {
    if (isRaise(error)) return 'raises';
    throw error;
  }
  checkLists(cf, stmt.at, snapshot, "an 'if' on tensor data");
  return { graph, env: branchEnv };
}

/**
 * `if <tensor>:` → ONNX If. A branch that raises (a check on tensor data) is dropped: ONNX has no
 * exceptions, so the other branch runs unconditionally, as torch.onnx.export's tracing does.
 */
export function lowerDataIf(cf: ControlFlowHost, stmt: Stmt & { kind: 'if' }, condition: TensorValue, env: Env): Signal {
  const then = runBranch(cf, stmt, stmt.body, env, 'then_branch');
  const otherwise = runBranch(cf, stmt, stmt.orelse, env, 'else_branch');
  if (then === 'raises' && otherwise === 'raises') cf.fail(stmt.at, 'both branches of this data-dependent if raise an exception');
  if (then === 'raises' || otherwise === 'raises') return cf.block(then === 'raises' ? stmt.orelse : stmt.body, env);

  const names = [...new Set([...then.env.keys(), ...otherwise.env.keys()])].filter(
    (name) => then.env.has(name) && otherwise.env.has(name) && (then.env.get(name) !== env.get(name) || otherwise.env.get(name) !== env.get(name)),
  );
  const merged: string[] = [];
  for (const name of names) {
    const a = then.env.get(name)!;
    const b = otherwise.env.get(name)!;
    if (a.kind !== 'tensor' && b.kind !== 'tensor' && a.kind === b.kind && (a === b || pythonEquals(a, b))) env.set(name, a);
    else if (a.kind === 'uninitialized' || b.kind === 'uninitialized') env.set(name, a.kind === 'uninitialized' ? b : a);
    else merged.push(name);
  }
  const outputsOf = (branch: Branch, other: Branch): TensorValue[] =>
    inGraph(cf, branch.graph, () =>
      merged.map((name) => {
        const value = asTensor(cf, stmt.at, name, branch.env.get(name)!, other.env.get(name));
        const output = subgraphOutput(cf, branch.graph, stmt.at, value);
        branch.graph.addOutput(output);
        return { ...value, value: output };
      }),
    );
  const thenOutputs = outputsOf(then, otherwise);
  const elseOutputs = outputsOf(otherwise, then);
  thenOutputs.forEach((value, i) => {
    const other = elseOutputs[i]!;
    if (value.dtype && other.dtype && value.dtype !== other.dtype) {
      cf.fail(stmt.at, `'${merged[i]}' is ${value.dtype} in one branch and ${other.dtype} in the other`);
    }
  });
  const node = cf.host.builder.node('onnx.If', [boolCondition(cf, stmt.at, condition)], { then_branch: attrs.graph(then.graph), else_branch: attrs.graph(otherwise.graph) }, {
    outputs: merged.length,
    loc: { file: stmt.at.file, line: stmt.at.line, column: stmt.at.column },
  });
  merged.forEach((name, i) => {
    const a = thenOutputs[i]!;
    const b = elseOutputs[i]!;
    const rank = a.rank !== undefined && a.rank === b.rank ? a.rank : undefined;
    const dtype = a.dtype ?? b.dtype;
    const output = node.output(i);
    if (dtype) output.type = tensorType(dtype, rank === undefined ? null : new Array(rank).fill(null));
    const value: TensorValue = { kind: 'tensor', value: output };
    if (rank !== undefined) value.rank = rank;
    if (dtype) value.dtype = dtype;
    if (a.scalarInt && b.scalarInt) value.scalarInt = true;
    env.set(name, value);
  });
  return { kind: 'normal' };
}

/** `a if <tensor> else b` → an If with one output (each side evaluated in its own branch). */
export function lowerDataTernary(cf: ControlFlowHost, expr: Expr & { kind: 'ternary' }, condition: TensorValue, env: Env): TensorValue {
  const snapshot = listSnapshot(env);
  const sides = ([['then_branch', expr.then], ['else_branch', expr.otherwise]] as const).map(([name, side]) => {
    const graph = new Graph(name);
    const value = inGraph(cf, graph, () => cf.evaluate(side, env));
    return { graph, value };
  });
  checkLists(cf, expr.at, snapshot, 'a conditional expression on tensor data');
  const [then, otherwise] = sides as [{ graph: Graph; value: ScriptValue }, { graph: Graph; value: ScriptValue }];
  const outputs = sides.map((side, i) =>
    inGraph(cf, side.graph, () => {
      const value = asTensor(cf, expr.at, 'the conditional expression', side.value, sides[1 - i]!.value);
      side.graph.addOutput(subgraphOutput(cf, side.graph, expr.at, value));
      return value;
    }),
  );
  const [a, b] = outputs as [TensorValue, TensorValue];
  if (a.dtype && b.dtype && a.dtype !== b.dtype) cf.fail(expr.at, `the conditional expression is ${a.dtype} on one side and ${b.dtype} on the other`);
  const node = cf.host.builder.node('onnx.If', [boolCondition(cf, expr.at, condition)], { then_branch: attrs.graph(then.graph), else_branch: attrs.graph(otherwise.graph) }, {
    outputs: 1,
    loc: { file: expr.at.file, line: expr.at.line, column: expr.at.column },
  });
  const rank = a.rank !== undefined && a.rank === b.rank ? a.rank : undefined;
  const dtype = a.dtype ?? b.dtype;
  const output = node.output(0);
  if (dtype) output.type = tensorType(dtype, rank === undefined ? null : new Array(rank).fill(null));
  const result: TensorValue = { kind: 'tensor', value: output };
  if (rank !== undefined) result.rank = rank;
  if (dtype) result.dtype = dtype;
  if (a.scalarInt && b.scalarInt) result.scalarInt = true;
  return result;
}

/** Names a loop body binds (assignments, loop targets), nested blocks included. */
function assignedNames(body: readonly Stmt[], into = new Set<string>()): Set<string> {
  const targets = (target: Expr): void => {
    if (target.kind === 'name') into.add(target.id);
    else if (target.kind === 'tuple' || target.kind === 'list') target.items.forEach(targets);
  };
  for (const stmt of body) {
    if (stmt.kind === 'assign') targets(stmt.targets);
    else if (stmt.kind === 'augassign' || stmt.kind === 'annotated') targets(stmt.target);
    else if (stmt.kind === 'for') {
      targets(stmt.target);
      assignedNames(stmt.body, into);
    } else if (stmt.kind === 'while') assignedNames(stmt.body, into);
    else if (stmt.kind === 'if') {
      assignedNames(stmt.body, into);
      assignedNames(stmt.orelse, into);
    }
  }
  return into;
}

const UNROLL_HINT = 'give the input shapes and the loop unrolls (CLI: --input-shape NAME=DIMS, e.g. x=1,16; API: readTorchScript option `inputs`)';

/** Whether `value` is computed from a tensor's shape (a size read while the input shapes are unknown), a few producers up. */
function readsShape(value: Value, depth = 8): boolean {
  const node = value.producer;
  if (!node || depth === 0) return false;
  if (node.op === 'onnx.Shape' || node.op === 'onnx.Size') return true;
  return node.inputs.some((input) => input !== null && readsShape(input, depth - 1));
}

export interface LoopPlan {
  stmt: Stmt & { kind: 'for' | 'while' };
  /** Trip count (for range loops), null for while. */
  tripCount: TensorValue | null;
  /** Initial condition (while loops), null for range loops. */
  condition: TensorValue | null;
  /** For range loops: the loop variable's target and its start and step. */
  counter?: { target: Expr; start: ScriptValue; step: number };
}

/** `while`/`for … in range(n)` on tensor data → ONNX Loop (carried values: what the body reassigns). */
export function lowerDataLoop(cf: ControlFlowHost, plan: LoopPlan, env: Env, assign: (target: Expr, value: ScriptValue, env: Env) => void): Signal {
  const { stmt } = plan;
  const assigned = assignedNames(stmt.body);
  const carried: string[] = [];
  const invariant: Array<[string, ScriptValue]> = [];
  for (const name of assigned) {
    const value = env.get(name);
    if (value === undefined) continue; // loop-local
    if (value.kind === 'tensor' || value.kind === 'int' || value.kind === 'float' || value.kind === 'bool') carried.push(name);
    else invariant.push([name, value]);
  }
  const initials = carried.map((name) => asTensor(cf, stmt.at, name, env.get(name)!, undefined));
  const body = new Graph('body');
  const snapshot = listSnapshot(env);
  const bodyEnv = new Map(env);
  inGraph(cf, body, (builder) => {
    const iteration = builder.input(body.uniqueName('iteration'), tensorType('int64', []));
    const conditionIn = builder.input(body.uniqueName('condition'), tensorType('bool', []));
    carried.forEach((name, i) => {
      const initial = initials[i]!;
      const input = builder.input(body.uniqueName(`${name}_in`), tensorType(initial.dtype ?? 'float32', initial.rank === undefined ? null : new Array(initial.rank).fill(null)));
      bodyEnv.set(name, { ...initial, value: input, ...(initial.shape ? { shape: initial.shape.map(() => null) } : {}) });
    });
    if (plan.counter) {
      const ctx = context(cf, stmt.at, 'range');
      let counter: TensorValue = { kind: 'tensor', value: iteration, rank: 0, dtype: 'int64', scalarInt: true };
      if (plan.counter.step !== 1) counter = { ...ctx.emit('Mul', [counter.value, ctx.scalarConstant('int64', plan.counter.step).value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
      const start = plan.counter.start;
      if (!(start.kind === 'int' && start.value === 0)) counter = { ...ctx.emit('Add', [counter.value, ctx.tensor(start, 'start').value], {}, { rank: 0, dtype: 'int64' }), scalarInt: true };
      assign(plan.counter.target, counter, bodyEnv);
    }
    const signal = cf.block(stmt.body, bodyEnv);
    if (signal.kind !== 'normal') cf.fail(stmt.at, `a '${signal.kind}' inside a loop whose trip count depends on tensor data is not supported`);
    let conditionOut: Value;
    if (stmt.kind === 'while') {
      const next = cf.evaluate(stmt.condition, bodyEnv);
      conditionOut = next.kind === 'tensor' ? boolCondition(cf, stmt.at, next) : asTensor(cf, stmt.at, 'condition', next, undefined).value;
    } else conditionOut = conditionIn;
    body.addOutput(subgraphOutput(cf, body, stmt.at, { kind: 'tensor', value: conditionOut, rank: 0, dtype: 'bool' }));
    carried.forEach((name, i) => {
      const value = asTensor(cf, stmt.at, name, bodyEnv.get(name)!, initials[i]);
      if (value.dtype && initials[i]!.dtype && value.dtype !== initials[i]!.dtype) cf.fail(stmt.at, `'${name}' enters the loop as ${initials[i]!.dtype} and leaves an iteration as ${value.dtype}`);
      body.addOutput(subgraphOutput(cf, body, stmt.at, value));
    });
  });
  // `for i in range(x.size(1))` with x's shape unknown: the sizes make the loop unroll, so the list can grow as in Python.
  if (plan.tripCount && readsShape(plan.tripCount.value)) checkLists(cf, stmt.at, snapshot, 'a loop over a size not known while importing', UNROLL_HINT);
  else checkLists(cf, stmt.at, snapshot, 'a loop on tensor data');
  for (const [name, before] of invariant) {
    const after = bodyEnv.get(name)!;
    if (after !== before && !pythonEquals(after, before)) cf.fail(stmt.at, `'${name}' (${describeValue(before)}) changes inside a loop on tensor data; only tensors and numbers can be carried`);
  }
  const node = cf.host.builder.node('onnx.Loop', [plan.tripCount?.value ?? null, plan.condition ? boolCondition(cf, stmt.at, plan.condition) : null, ...initials.map((v) => v.value)], { body: attrs.graph(body) }, {
    outputs: carried.length,
    loc: { file: stmt.at.file, line: stmt.at.line, column: stmt.at.column },
  });
  carried.forEach((name, i) => {
    const initial = initials[i]!;
    const output = node.output(i);
    if (initial.dtype) output.type = tensorType(initial.dtype, initial.rank === undefined ? null : new Array(initial.rank).fill(null));
    const value: TensorValue = { kind: 'tensor', value: output };
    if (initial.rank !== undefined) value.rank = initial.rank;
    if (initial.dtype) value.dtype = initial.dtype;
    if (initial.scalarInt) value.scalarInt = true;
    env.set(name, value);
  });
  return { kind: 'normal' };
}

/** The trip count of `range(start, stop, step)` (step a known int) as an int64 scalar. */
export function rangeTripCount(cf: ControlFlowHost, at: SourcePosition, start: ScriptValue, stop: ScriptValue, step: number): TensorValue {
  const ctx = context(cf, at, 'range');
  const length = rangeLength(ctx, start, stop, step);
  return length.kind === 'tensor' ? length : ctx.scalarConstant('int64', ctx.int(length, 'range length'));
}

/**
 * Subgraphs are built before the node holding them exists, so their value names may repeat names of
 * enclosing (or later) values; ONNX wants one name per value across the model. Renames the repeats.
 */
export function uniquifySubgraphNames(model: Model): void {
  const taken = new Set<string>();
  const visit = (graph: Graph, isRoot: boolean): void => {
    const defined = [...graph.inputs, ...graph.constants, ...[...graph.nodes()].flatMap((node) => node.outputs.filter((o): o is Value => o !== null))];
    for (const value of new Set(defined)) {
      if (!isRoot && taken.has(value.name)) {
        let index = 1;
        while (taken.has(`${value.name}_${index}`) || graph.lookup(`${value.name}_${index}`)) index++;
        value.rename(`${value.name}_${index}`);
      }
      taken.add(value.name);
    }
    for (const node of graph.nodes()) for (const subgraph of node.subgraphs) visit(subgraph, false);
  };
  visit(model.graph, true);
}

