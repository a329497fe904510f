/**
 * A symbolic interpreter for TorchScript: Python-level values (ints, lists, modules, flags such as
 * `self.training`) are evaluated while importing, so shape checks and training-only branches fold
 * away; tensor operations become IR nodes through the aten registry. Nothing from the archive is
 * executed: only this interpreter's own rules run.
 */
import type { GraphBuilder } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { PickleValue } from '../pickle/pickle-value.js';
import { type Expr, type FunctionDef, type SourcePosition, type Stmt } from '../script/ast.js';
import { atenLowerings } from './aten-registry.js';
import { MAX_IMPORT_ITERATIONS } from './aten/python-builtins.js';
import type { CodeIndex } from './code-index.js';
import { applyInPlace, inPlaceRefusal, isInPlace, isStale, recordView } from './in-place.js';
import { lowerDataIf, lowerDataLoop, lowerDataTernary, rangeTripCount, type ControlFlowHost, type Env, type LoopPlan, type Signal } from './control-flow.js';
import { LoweringContext } from './lowering.js';
import { opaqueAtenOp } from './opaque-op.js';
import { oversizedResult, pythonBinary, pythonUnary, truthy } from './python-semantics.js';
import { describeValue, NONE, type ScriptValue } from './script-value.js';

const NORMAL: Signal = { kind: 'normal' };

/** Names every TorchScript file can use without defining them. */
const GLOBAL_ROOTS = new Set(['torch', 'ops', '__torch__', 'math', 'Tensor', 'List', 'Optional', 'Tuple', 'Dict', 'NoneType', 'Final', 'Any', 'int', 'float', 'bool', 'str', 'Device', 'number', 'annotate', 'unchecked_cast', 'uninitialized', 'isinstance', 'getattr', 'len', 'range', 'print', 'hasattr', 'Enum', 'Future']);
const MAX_CALL_DEPTH = 200;

export interface InterpreterHost {
  builder: GraphBuilder;
  code: CodeIndex;
  /** A tensor of data.pkl or constants.pkl as a graph constant (shared tensors give one value). */
  constantTensor(tensor: PickleValue & { kind: 'tensor' }, name: string): ScriptValue;
  /** `CONSTANTS.cN`. */
  constant(index: number, at: SourcePosition): ScriptValue;
}

/** Loop iterations run while importing, all loops together: nested loops each under MAX_IMPORT_ITERATIONS multiply. */
export const MAX_IMPORT_LOOP_STEPS = 2 * MAX_IMPORT_ITERATIONS;

export class Interpreter implements ControlFlowHost {
  private depth = 0;
  private loopSteps = 0;
  constructor(readonly host: InterpreterHost) {}

  /** `raise` / `ops.prim.RaiseException` on the path taken (code `torchscript/raise`, so a data-dependent if can drop that branch). */
  private raised(at: SourcePosition, message: string): never {
    throw torchscriptError({ reason: `the model raises an exception on this path${message}`, location: { file: at.file, line: at.line, column: at.column }, code: 'torchscript/raise' });
  }

  fail(at: SourcePosition, reason: string, hint?: string, code = 'torchscript/import'): never {
    throw torchscriptError({
      reason,
      location: { file: at.file, line: at.line, column: at.column },
      code,
      ...(hint ? { hint } : {}),
    });
  }

  /** Runs `def` with `args` (self first for methods) and returns its result. */
  call(def: FunctionDef, args: ScriptValue[], keywords: ReadonlyMap<string, ScriptValue>, at: SourcePosition): ScriptValue {
    if (++this.depth > MAX_CALL_DEPTH) this.fail(at, `calls nest deeper than ${MAX_CALL_DEPTH} (recursion is not supported)`);
    try {
      const env: Env = new Map();
      def.params.forEach((param, index) => {
        let value = index < args.length ? args[index] : keywords.get(param.name);
        if (value === undefined) {
          if (!param.defaultValue) this.fail(at, `call of ${def.name} misses argument '${param.name}'`);
          value = this.evaluate(param.defaultValue, env);
        }
        env.set(param.name, value);
      });
      if (args.length > def.params.length) this.fail(at, `${def.name} takes ${def.params.length} arguments, got ${args.length}`);
      const signal = this.block(def.body, env);
      return signal.kind === 'return' ? signal.value : NONE;
    } finally {
      this.depth--;
    }
  }

  block(body: readonly Stmt[], env: Env): Signal {
    for (const stmt of body) {
      const signal = this.statement(stmt, env);
      if (signal.kind !== 'normal') return signal;
    }
    return NORMAL;
  }

  private statement(stmt: Stmt, env: Env): Signal {
    switch (stmt.kind) {
      case 'expr':
        this.evaluate(stmt.value, env);
        return NORMAL;
      case 'assign':
        this.assign(stmt.targets, this.evaluate(stmt.value, env), env, stmt.at);
        return NORMAL;
      case 'augassign': {
        const current = this.evaluate(stmt.target, env);
        this.assign(stmt.target, this.binary(stmt.op, current, this.evaluate(stmt.value, env), stmt.at), env, stmt.at);
        return NORMAL;
      }
      case 'annotated':
        if (stmt.value) this.assign(stmt.target, this.evaluate(stmt.value, env), env, stmt.at);
        return NORMAL;
      case 'return':
        return { kind: 'return', value: stmt.value ? this.evaluate(stmt.value, env) : NONE };
      case 'if': {
        const condition = this.evaluate(stmt.condition, env);
        if (condition.kind === 'tensor') return lowerDataIf(this, stmt, condition, env);
        return this.block(truthy(condition) ? stmt.body : stmt.orelse, env);
      }
      case 'for': {
        const range = this.dataRange(stmt, env);
        if (range) return lowerDataLoop(this, range, env, (target, value, into) => this.assign(target, value, into, stmt.at));
        const iterable = this.evaluate(stmt.iterable, env);
        if (iterable.kind !== 'list' && iterable.kind !== 'tuple') {
          this.fail(stmt.at, `a for loop over ${describeValue(iterable)} (a loop whose trip count depends on tensor data) is not supported yet`);
        }
        for (const item of iterable.items) {
          this.countLoopStep(stmt.at);
          this.assign(stmt.target, item, env, stmt.at);
          const signal = this.block(stmt.body, env);
          if (signal.kind === 'break') break;
          if (signal.kind === 'return') return signal;
        }
        return NORMAL;
      }
      case 'while': {
        let iterations = 0;
        for (;;) {
          const condition = this.evaluate(stmt.condition, env);
          // A condition on tensor data (from the start, or once a carried value becomes one) is a Loop from here on.
          if (condition.kind === 'tensor') return lowerDataLoop(this, { stmt, tripCount: null, condition }, env, (target, value, into) => this.assign(target, value, into, stmt.at));
          if (!truthy(condition)) break;
          if (++iterations > MAX_IMPORT_ITERATIONS) this.fail(stmt.at, `while loop ran more than ${MAX_IMPORT_ITERATIONS} iterations while importing`);
          this.countLoopStep(stmt.at);
          const signal = this.block(stmt.body, env);
          if (signal.kind === 'break') break;
          if (signal.kind === 'return') return signal;
        }
        return NORMAL;
      }
      case 'pass':
      case 'import':
        return NORMAL;
      case 'break':
      case 'continue':
        return { kind: stmt.kind };
      case 'raise':
        return this.raised(stmt.at, '');
      case 'assert': {
        // An assert on tensor data checks nothing in ONNX (no exceptions there), like a raising branch.
        const condition = this.evaluate(stmt.condition, env);
        if (condition.kind !== 'tensor' && !truthy(condition)) this.fail(stmt.at, 'an assert in the model fails while importing');
        return NORMAL;
      }
      case 'def':
      case 'class':
        return this.fail(stmt.def.at, `nested ${stmt.kind} definitions are not supported`);
    }
  }

  private countLoopStep(at: SourcePosition): void {
    if (++this.loopSteps > MAX_IMPORT_LOOP_STEPS) {
      this.fail(at, `loops ran more than ${MAX_IMPORT_LOOP_STEPS} iterations in all while importing (nested loops multiply; each alone may run ${MAX_IMPORT_ITERATIONS})`);
    }
  }

  /** `for i in range(…)` whose bounds are computed from tensors: the plan of an ONNX Loop; undefined otherwise. */
  private dataRange(stmt: Stmt & { kind: 'for' }, env: Env): LoopPlan | undefined {
    const call = stmt.iterable;
    if (call.kind !== 'call' || call.callee.kind !== 'name' || call.callee.id !== 'range' || env.has('range') || call.keywords.length > 0) return undefined;
    const args = call.args.map((arg) => this.evaluate(arg, env));
    if (!args.some((arg) => arg.kind === 'tensor')) return undefined;
    const [start, stop, step]: ScriptValue[] = args.length === 1 ? [{ kind: 'int', value: 0 }, args[0]!, { kind: 'int', value: 1 }] : [args[0]!, args[1]!, args[2] ?? { kind: 'int', value: 1 }];
    if (step!.kind !== 'int') this.fail(call.at, 'a range() step computed from tensors is not supported (its sign decides the loop)');
    const stepValue = (step as ScriptValue & { kind: 'int' }).value;
    return { stmt, tripCount: rangeTripCount(this, call.at, start!, stop!, stepValue), condition: null, counter: { target: stmt.target, start: start!, step: stepValue } };
  }

  private assign(target: Expr, value: ScriptValue, env: Env, at: SourcePosition): void {
    if (target.kind === 'name') {
      env.set(target.id, value);
      return;
    }
    if (target.kind === 'tuple' || target.kind === 'list') {
      if (value.kind !== 'tuple' && value.kind !== 'list') {
        const opaque = value.kind === 'tensor' ? value.value.producer?.op : undefined;
        // An op with no lowering is kept as one opaque output; unpacking it is where the import stops.
        if (opaque?.startsWith('aten.')) this.fail(at, `aten::${opaque.slice(5)} has no lowering (its result is unpacked into ${target.items.length} names)`);
        this.fail(at, `cannot unpack ${describeValue(value)} into ${target.items.length} names`);
      }
      if (value.items.length !== target.items.length) this.fail(at, `cannot unpack ${value.items.length} values into ${target.items.length} names`);
      target.items.forEach((item, i) => this.assign(item, value.items[i]!, env, at));
      return;
    }
    if (target.kind === 'subscript') {
      const container = this.evaluate(target.object, env);
      const index = this.evaluate(target.index, env);
      if (container.kind === 'list' && index.kind === 'int') {
        const i = index.value < 0 ? container.items.length + index.value : index.value;
        if (i < 0 || i >= container.items.length) this.fail(at, `list index ${index.value} out of range`);
        container.items[i] = value;
        return;
      }
    }
    this.fail(at, `assignment to this kind of target is not supported`);
  }

  evaluate(expr: Expr, env: Env): ScriptValue {
    switch (expr.kind) {
      case 'int':
        return { kind: 'int', value: expr.value };
      case 'float':
        return { kind: 'float', value: expr.value };
      case 'string':
        return { kind: 'str', value: expr.value };
      case 'name':
        return this.name(expr.id, env, expr.at);
      case 'tuple':
        return { kind: 'tuple', items: expr.items.map((item) => this.evaluate(item, env)) };
      case 'list':
        return { kind: 'list', items: expr.items.map((item) => this.evaluate(item, env)) };
      case 'dict':
        return { kind: 'dict', entries: expr.entries.map(([k, v]) => [this.evaluate(k, env), this.evaluate(v, env)] as [ScriptValue, ScriptValue]) };
      case 'attribute':
        return this.attribute(this.evaluate(expr.object, env), expr.name, expr.at);
      case 'subscript':
        return this.subscript(expr, env);
      case 'call':
        return this.callExpression(expr, env);
      case 'unary': {
        const operand = this.evaluate(expr.operand, env);
        return pythonUnary(expr.op, operand) ?? this.lowerAten(expr.op === '-' ? 'neg' : expr.op === 'not' ? '__not__' : `unary${expr.op}`, [operand], new Map(), expr.at);
      }
      case 'binary':
        if (expr.op === 'and' || expr.op === 'or') {
          const left = this.evaluate(expr.left, env);
          if (left.kind === 'tensor') this.fail(expr.at, `'${expr.op}' on a tensor value is not supported`);
          const shortCircuit = expr.op === 'and' ? !truthy(left) : truthy(left);
          return shortCircuit ? left : this.evaluate(expr.right, env);
        }
        return this.binary(expr.op, this.evaluate(expr.left, env), this.evaluate(expr.right, env), expr.at);
      case 'ternary': {
        const condition = this.evaluate(expr.condition, env);
        if (condition.kind === 'tensor') return lowerDataTernary(this, expr, condition, env);
        return truthy(condition) ? this.evaluate(expr.then, env) : this.evaluate(expr.otherwise, env);
      }
      case 'slice':
        return this.fail(expr.at, 'a slice outside a subscript');
    }
  }

  private binary(op: string, left: ScriptValue, right: ScriptValue, at: SourcePosition): ScriptValue {
    const oversized = oversizedResult(op, left, right);
    if (oversized) return this.fail(at, `'${op}' would build ${oversized}`);
    const known = pythonBinary(op, left, right);
    if (known) return known;
    const aten = BINARY_ATEN[op];
    if (!aten) return this.fail(at, `operator '${op}' on ${describeValue(left)} and ${describeValue(right)} is not supported`);
    return this.lowerAten(aten, [left, right], new Map(), at);
  }

  private name(id: string, env: Env, at: SourcePosition): ScriptValue {
    const bound = env.get(id);
    if (bound) return bound;
    if (id === 'None') return NONE;
    if (id === 'True' || id === 'False') return { kind: 'bool', value: id === 'True' };
    // TorchScript prints float('inf') / float('nan') constants as bare names.
    if (id === 'inf') return { kind: 'float', value: Infinity };
    if (id === 'nan') return { kind: 'float', value: NaN };
    if (id === 'CONSTANTS') return { kind: 'global', path: 'CONSTANTS' };
    if (GLOBAL_ROOTS.has(id)) return { kind: 'global', path: id };
    return this.fail(at, `name '${id}' is not defined`);
  }

  private attribute(object: ScriptValue, name: string, at: SourcePosition): ScriptValue {
    if (object.kind === 'global') {
      if (object.path === 'CONSTANTS') {
        const match = /^c(\d+)$/.exec(name);
        if (!match) this.fail(at, `CONSTANTS.${name} is not a constant name`);
        return this.host.constant(Number(match![1]), at);
      }
      return { kind: 'global', path: `${object.path}.${name}` };
    }
    if (object.kind === 'module') return this.moduleAttribute(object, name, at);
    if (object.kind === 'tensor' && (name === 'dtype' || name === 'shape' || name === 'device')) {
      return this.lowerAten(name === 'shape' ? 'size' : `prim_${name}`, [object], new Map(), at);
    }
    return this.fail(at, `attribute '${name}' of ${describeValue(object)} is not supported`);
  }

  private moduleAttribute(module: ScriptValue & { kind: 'module' }, name: string, at: SourcePosition): ScriptValue {
    const state = module.state;
    if (state.kind === 'dict') {
      for (const [key, value] of state.entries) {
        if (key.kind === 'string' && key.value === name) return this.fromPickle(value, module.path === '' ? name : `${module.path}.${name}`, at);
      }
    }
    const cls = this.host.code.classNamed(module.className);
    if (!cls) this.fail(at, `the archive has no code for class ${module.className}`);
    const method = cls!.methods.get(name);
    if (method) return { kind: 'method', self: module, def: method };
    for (const field of cls!.fields) {
      if (field.kind === 'annotated' && field.target.kind === 'name' && field.target.id === name && field.value) return this.evaluate(field.value, new Map());
    }
    return this.fail(at, `module ${module.className} (${module.path || 'root'}) has no attribute '${name}'`);
  }

  /** A data.pkl value as a script value (modules stay modules, tensors become graph constants). */
  fromPickle(value: PickleValue, path: string, at: SourcePosition): ScriptValue {
    switch (value.kind) {
      case 'none':
        return NONE;
      case 'bool':
        return { kind: 'bool', value: value.value };
      case 'int':
        return { kind: 'int', value: Number(value.value) };
      case 'float':
        return { kind: 'float', value: value.value };
      case 'string':
        return { kind: 'str', value: value.value };
      case 'tuple':
      case 'list':
      case 'typed-list':
        return { kind: value.kind === 'tuple' ? 'tuple' : 'list', items: value.items.map((item, i) => this.fromPickle(item, `${path}.${i}`, at)) };
      case 'dict':
        return { kind: 'dict', entries: value.entries.map(([k, v], i) => [this.fromPickle(k, path, at), this.fromPickle(v, `${path}.${i}`, at)] as [ScriptValue, ScriptValue]) };
      case 'tensor':
        return this.host.constantTensor(value, path);
      case 'object':
        return { kind: 'module', className: value.className, state: value.state, path };
      default:
        return this.fail(at, `attribute ${path} holds a ${value.kind} value that the importer does not read`);
    }
  }

  private subscript(expr: Expr & { kind: 'subscript' }, env: Env): ScriptValue {
    const object = this.evaluate(expr.object, env);
    if (expr.index.kind === 'slice') {
      const { lower, upper, step } = expr.index;
      const bound = (e: Expr | null): ScriptValue => (e ? this.evaluate(e, env) : NONE);
      const bounds = [bound(lower), bound(upper), step ? bound(step) : { kind: 'int' as const, value: 1 }];
      // aten::slice.t of a list takes no dim; the tensor form slices dim 0.
      if (object.kind === 'list' || object.kind === 'tuple') return this.lowerAten('slice', [object, ...bounds], new Map(), expr.at);
      const args: ScriptValue[] = [object, { kind: 'int', value: 0 }, ...bounds];
      const sliced = this.lowerAten('slice', args, new Map(), expr.at);
      recordView('slice', args, sliced);
      return sliced;
    }
    if (object.kind === 'global') return object; // a type annotation such as List[int]
    const item = this.lowerAten('__getitem__', [object, this.evaluate(expr.index, env)], new Map(), expr.at);
    recordView('__getitem__', [object], item);
    return item;
  }

  /**
   * `GoogLeNetOutputs(x, aux2, aux1)`: a `class …(NamedTuple)` of the archive built as a tuple of its
   * fields in declaration order (positional arguments, then keywords by field name).
   */
  private namedTuple(path: string, args: readonly ScriptValue[], keywords: ReadonlyMap<string, ScriptValue>, at: SourcePosition): ScriptValue | undefined {
    const cls = this.host.code.classNamed(path);
    if (!cls || !cls.bases.some((base) => base.kind === 'name' && base.id === 'NamedTuple')) return undefined;
    const fields = cls.fields.flatMap((field) => (field.kind === 'annotated' && field.target.kind === 'name' ? [field.target.id] : []));
    if (args.length > fields.length) return this.fail(at, `${cls.name} has ${fields.length} fields, called with ${args.length} values`);
    const items = fields.map((name, i): ScriptValue => {
      if (i < args.length) return args[i]!;
      const given = keywords.get(name);
      return given ?? this.fail(at, `${cls.name}(…) gives no value for field '${name}'`);
    });
    return { kind: 'tuple', items };
  }

  private callExpression(expr: Expr & { kind: 'call' }, env: Env): ScriptValue {
    if (expr.callee.kind === 'attribute' && expr.callee.name === 'tolist' && expr.args.length === 0) {
      const object = this.evaluate(expr.callee.object, env);
      if (object.kind === 'tensor') return this.lowerAten('prim_tolist', [object], new Map(), expr.at);
    }
    const callee = this.evaluate(expr.callee, env);
    const args = expr.args.map((arg) => this.evaluate(arg, env));
    const keywords = new Map(expr.keywords.map(({ name, value }) => [name, this.evaluate(value, env)]));
    if (callee.kind === 'method') return this.call(callee.def, [callee.self, ...args], keywords, expr.at);
    if (callee.kind !== 'global') return this.fail(expr.at, `${describeValue(callee)} is not callable`);
    const path = callee.path;
    switch (path) {
      case 'annotate':
      case 'unchecked_cast':
        return args[1] ?? NONE;
      case 'uninitialized':
        return { kind: 'uninitialized' };
      case 'getattr': {
        const name = args[1];
        if (name?.kind !== 'str') return this.fail(expr.at, 'getattr needs a constant attribute name');
        return this.attribute(args[0]!, name.value, expr.at);
      }
      case 'isinstance':
        return this.fail(expr.at, 'isinstance is not supported while importing');
      case 'ops.prim.RaiseException':
        return this.raised(expr.at, `: ${args[0]?.kind === 'str' ? args[0].value : '(message not constant)'}`);
    }
    if (path.startsWith('__torch__.')) {
      const fn = this.host.code.functionNamed(path);
      if (fn) return this.call(fn, args, keywords, expr.at);
      const namedTuple = this.namedTuple(path, args, keywords, expr.at);
      if (namedTuple) return namedTuple;
      // `Cls.__new__(Cls)` then `obj.__init__(…)`: an object of a TorchScript class (torchvision's ImageList), state the importer does not model.
      const constructed = path.endsWith('.__new__') ? path.slice(0, -'.__new__'.length) : undefined;
      if (constructed && this.host.code.classNamed(constructed)) {
        return this.fail(expr.at, `forward builds an object of the TorchScript class ${constructed}; objects of script classes are not read while importing (modules from the archive's data and NamedTuples are)`);
      }
      return this.fail(expr.at, `the archive has no function or class ${path} to call`);
    }
    const atenName = atenNameOf(path);
    if (atenName === undefined) return this.fail(expr.at, `call of ${path} is not supported`);
    const mutated = isInPlace(atenName) ? args[0] : undefined;
    const refusal = inPlaceRefusal(mutated);
    if (refusal) return this.fail(expr.at, `in-place ${atenName} ${refusal}`, 'compute the result out of place (torch.where, torch.cat) before scripting');
    const result = this.lowerAten(atenName, args, keywords, expr.at);
    if (mutated) applyInPlace(new LoweringContext(this.host.builder, atenName, expr.at, [], new Map()), env, mutated, result);
    recordView(atenName, args, result);
    return result;
  }

  lowerAten(name: string, args: ScriptValue[], keywords: ReadonlyMap<string, ScriptValue>, at: SourcePosition): ScriptValue {
    if (args.some(isStale) || [...keywords.values()].some(isStale)) {
      return this.fail(at, `${name} reads a slice of a tensor taken before that tensor was written in place (y[...] = v); torch would see the new values, the import does not track that`, 'take the slice after the write');
    }
    const lowering = atenLowerings.get(name);
    const ctx = new LoweringContext(this.host.builder, name, at, args, keywords);
    if (lowering) return lowering(ctx);
    if (/^(prim_|builtin_|math_|unary)/.test(name) || !args.some((arg) => arg.kind === 'tensor' && !arg.scalarInt)) {
      return this.fail(at, `${name.replace(/^prim_/, 'prim::').replace(/^builtin_/, '')} has no lowering while importing`, 'lowerings live in packages/torchscript/src/import/aten/');
    }
    return opaqueAtenOp(ctx, args, keywords) ?? this.fail(at, `aten::${name} has no lowering and its arguments cannot be kept on an opaque aten.${name} node`);
  }
}

const BINARY_ATEN: Readonly<Record<string, string>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '//': 'floordiv', '%': 'remainder', '**': 'pow', '@': 'matmul',
  '==': 'eq', '!=': 'ne', '<': 'lt', '>': 'gt', '<=': 'le', '>=': 'ge', '&': 'bitwise_and', '|': 'bitwise_or',
};

/** `torch.X`, `ops.aten.X`, `ops.prim.X`, `int`/`float`/`len`/`range` … → the registry key. */
function atenNameOf(path: string): string | undefined {
  if (path.startsWith('torch.')) return path.slice('torch.'.length);
  if (path.startsWith('ops.aten.')) return path.slice('ops.aten.'.length);
  if (path.startsWith('ops.prim.')) return `prim_${path.slice('ops.prim.'.length)}`;
  if (path.startsWith('math.')) return `math_${path.slice('math.'.length)}`;
  if (['int', 'float', 'bool', 'len', 'range', 'str'].includes(path)) return `builtin_${path}`;
  return undefined;
}
