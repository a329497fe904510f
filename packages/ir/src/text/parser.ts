/**
 * The textual IR parser: `parseModel` reads `.mpir` text (see README "Textual IR") into a Model.
 * One pass over an on-demand token stream; statements are read in a loop, so graph length never
 * deepens the stack (only nested subgraphs recurse). Names resolve through a stack of scopes, one
 * per graph being read; a use before its definition in the same graph is patched when the graph
 * closes, so non-topological IR (which the verifier flags) still round-trips.
 */
import type { Attribute } from '../attribute.js';
import { ModelpassError, type Location } from '../diagnostic.js';
import { Graph, type CreateNodeOptions } from '../graph.js';
import { Model, type ModelFunction } from '../model.js';
import type { Node } from '../node.js';
import { UNKNOWN_TYPE, type Type } from '../type.js';
import type { Value } from '../value.js';
import { Cursor, describeToken } from './cursor.js';
import { checkParseModelText } from './text-arguments.js';
import { fileReadPolicy } from './file-references.js';
import type { Token } from './lexer.js';
import { parseAttributeDict } from './parse-attributes.js';
import { parseLocation, parseMetadata, parseSparseTensor, parseTensor, parseType } from './parse-literals.js';
import { sparseTypeOf } from './print-literals.js';

export interface ParseOptions {
  /**
   * The file name to put in error locations (and in `model.sourcePath`). Its folder is where
   * relative `file(...)` paths resolve and what they may read.
   */
  file?: string;
  /** Where relative `file(...)` paths resolve (default: the folder of `file`, else the working directory). */
  baseDirectory?: string;
  /**
   * Folders `file(...)` references may read besides `baseDirectory`, or `'anywhere'` for trusted
   * text. Paths are checked after following symlinks. Default: only `baseDirectory`.
   */
  allowRead?: readonly string[] | 'anywhere';
  /** The deepest nesting of subgraphs (and of `seq<>`/`optional<>`/`map<>` types) accepted (default 64). */
  maxNesting?: number;
}

/** Deep enough for any real model (ONNX control flow rarely nests past a handful of levels). */
export const DEFAULT_MAX_NESTING = 64;

interface ValueDefinition {
  token: Token;
  type: Type | undefined;
  docString: string | undefined;
  metadata: Map<string, string> | undefined;
}

interface PendingUse {
  node: Node;
  index: number;
  token: Token;
}

/** One graph being read (its values are looked up in the graph itself), the line each value was defined on, uses awaiting a definition. */
interface Scope {
  graph: Graph;
  /** Values defined in this graph, in order, and the line of each (only read to report a redefinition). */
  defined: Value[];
  lines: number[];
  pending: PendingUse[];
  inputs: Set<Value>;
  defaulted: Set<Value>;
}

const MODEL_STRING_FIELDS = {
  producer: 'producerName',
  producer_version: 'producerVersion',
  domain: 'domain',
  doc: 'docString',
} as const;

/** The words that may follow a node's attributes, as bits of a seen-set. */
const TRAILER_KEYS = { name: 1, overload: 2, doc: 4, meta: 8, loc: 16 } as const;

class Parser {
  private scopes: Scope[] = [];

  constructor(private readonly cursor: Cursor) {}

  model(): Model {
    const cursor = this.cursor;
    if (cursor.isWord('graph')) {
      const model = new Model(this.graph());
      this.expectEnd();
      return model;
    }
    cursor.expectWord('model', 'at the start of the text');
    const model = new Model();
    const seen = new Set<string>();
    while (!cursor.isPunct('{')) {
      const key = cursor.expectKind('word', 'a model field or', 'in the model header');
      if (seen.has(key.text)) throw cursor.errorAt(key, `duplicate model field '${key.text}'`);
      seen.add(key.text);
      if (key.text === 'ir_version' || key.text === 'model_version') {
        cursor.expectPunct('=', `after '${key.text}'`);
        const value = cursor.expectInteger(`for '${key.text}'`);
        if (key.text === 'ir_version') model.irVersion = value;
        else model.modelVersion = value;
      } else if (key.text in MODEL_STRING_FIELDS) {
        cursor.expectPunct('=', `after '${key.text}'`);
        model[MODEL_STRING_FIELDS[key.text as keyof typeof MODEL_STRING_FIELDS]] = cursor.expectString(`for '${key.text}'`);
      } else if (key.text === 'opsets') {
        this.opsets(model.opsetImports);
      } else if (key.text === 'meta') {
        parseMetadata(cursor, model.metadata);
      } else {
        throw cursor.errorAt(key, `unknown model field '${key.text}'`, {
          expected: 'ir_version, producer, producer_version, domain, model_version, opsets, doc, meta or {',
        });
      }
    }
    cursor.expectPunct('{', 'to open the model body');
    while (cursor.isWord('func')) model.functions.push(this.function());
    model.graph = this.graph();
    cursor.expectPunct('}', 'to close the model');
    this.expectEnd();
    return model;
  }

  private expectEnd(): void {
    const token = this.cursor.peek();
    if (token.kind !== 'eof') throw this.cursor.errorAt(token, 'expected end of input', { actual: describeToken(token) });
  }

  private opsets(target: Map<string, number>): void {
    const cursor = this.cursor;
    cursor.expectPunct('{', "after 'opsets'");
    if (cursor.acceptPunct('}')) return;
    do {
      const key = cursor.peek();
      if (key.kind !== 'word' && key.kind !== 'string') throw cursor.errorAt(key, 'expected a dialect name', { actual: describeToken(key) });
      cursor.next();
      if (target.has(key.text)) throw cursor.errorAt(key, `duplicate opset import '${key.text}'`);
      cursor.expectPunct('=', 'after the dialect name');
      target.set(key.text, cursor.expectInteger('as the opset version'));
    } while (cursor.acceptPunct(','));
    cursor.expectPunct('}', 'to close opsets{...}');
  }

  private function(): ModelFunction {
    const cursor = this.cursor;
    cursor.expectWord('func', 'to start a function');
    const nameToken = cursor.peek();
    let dialect: string;
    let name: string;
    if (nameToken.kind === 'string' && (cursor.next(), cursor.peek().kind === 'string')) {
      dialect = nameToken.text;
      name = cursor.next().text;
    } else {
      if (nameToken.kind !== 'string') cursor.expectKind('word', "a function name like 'custom.MyFn'", "after 'func'");
      ({ dialect, name } = this.splitOp(nameToken));
    }
    const fn: ModelFunction = {
      dialect,
      name,
      attributeNames: [],
      attributeDefaults: new Map(),
      opsetImports: new Map(),
      body: new Graph(),
      metadata: new Map(),
    };
    while (!cursor.isWord('graph')) {
      const key = cursor.expectKind('word', "a function field or 'graph'", `in function '${dialect}.${name}'`);
      if (key.text === 'overload' || key.text === 'doc') {
        cursor.expectPunct('=', `after '${key.text}'`);
        fn[key.text === 'doc' ? 'docString' : 'overload'] = cursor.expectString(`for '${key.text}'`);
      } else if (key.text === 'attrs') {
        cursor.expectPunct('[', "after 'attrs'");
        if (!cursor.acceptPunct(']')) {
          do fn.attributeNames.push(cursor.expectString('as an attribute name'));
          while (cursor.acceptPunct(','));
          cursor.expectPunct(']', 'to close attrs[...]');
        }
      } else if (key.text === 'defaults') {
        for (const [attrName, attribute] of parseAttributeDict(cursor, () => this.graph())) fn.attributeDefaults.set(attrName, attribute);
      } else if (key.text === 'opsets') this.opsets(fn.opsetImports);
      else if (key.text === 'meta') parseMetadata(cursor, fn.metadata);
      else throw cursor.errorAt(key, `unknown function field '${key.text}'`, { expected: 'overload, attrs, defaults, opsets, doc, meta or graph' });
    }
    const outer = this.scopes;
    this.scopes = [];
    fn.body = this.graph();
    this.scopes = outer;
    return fn;
  }

  private splitOp(token: Token): { dialect: string; opType: string; name: string } {
    const op = token.text;
    const dot = op.lastIndexOf('.');
    if (dot <= 0 || dot === op.length - 1) {
      throw this.cursor.errorAt(token, `op name '${op}' has no dialect`, { expected: "'<dialect>.<OpType>', e.g. 'onnx.Conv'" });
    }
    return { dialect: op.slice(0, dot), opType: op.slice(dot + 1), name: op.slice(dot + 1) };
  }

  // ---- graphs -------------------------------------------------------------------------------

  graph(): Graph {
    const cursor = this.cursor;
    cursor.enter(cursor.peek(), 'graphs');
    cursor.expectWord('graph', 'to start a graph');
    const nameToken = cursor.expectKind('symbol', "a graph name like '@main'", "after 'graph'");
    const graph = new Graph(nameToken.text);
    const scope: Scope = { graph, defined: [], lines: [], pending: [], inputs: new Set(), defaulted: new Set() };
    this.scopes.push(scope);
    cursor.expectPunct('(', 'after the graph name');
    if (!cursor.acceptPunct(')')) {
      do {
        const definition = this.valueDefinition('as a graph input');
        this.checkUnique(definition.token);
        const value = graph.addInput(definition.token.text, definition.type ?? UNKNOWN_TYPE);
        this.register(scope, value, definition);
        scope.inputs.add(value);
      } while (cursor.acceptPunct(','));
      cursor.expectPunct(')', 'after graph inputs');
    }
    for (;;) {
      if (cursor.isWord('doc')) {
        cursor.next();
        cursor.expectPunct('=', "after 'doc'");
        graph.docString = cursor.expectString("for the graph's doc");
      } else if (cursor.acceptWord('meta')) parseMetadata(cursor, graph.metadata);
      else break;
    }
    cursor.expectPunct('{', `to open the body of graph '@${graph.name}'`);
    for (;;) {
      const kind = cursor.kind;
      const text = cursor.text;
      if (kind === 'punct' && text === '}') break;
      if (kind === 'eof') throw cursor.errorAt(cursor.peek(), `expected '}' to close graph '@${graph.name}'`, { actual: 'end of input' });
      if (kind === 'word' && text === 'const') this.constant(scope);
      else if (kind === 'word' && text === 'default') this.defaultValue(scope);
      else if (kind === 'word' && text === 'return') {
        this.returnStatement(scope);
        if (!cursor.isPunct('}')) throw cursor.errorAt(cursor.peek(), "expected '}' after return", { actual: describeToken(cursor.peek()) });
      } else this.node(scope);
    }
    cursor.skip();
    this.resolvePending(scope);
    this.scopes.pop();
    cursor.leave();
    return graph;
  }

  private resolvePending(scope: Scope): void {
    const parent = this.scopes[this.scopes.length - 2];
    for (const use of scope.pending) {
      const value = scope.graph.getValue(use.token.text);
      if (value) use.node.setInput(use.index, value);
      else if (parent) parent.pending.push(use);
      else throw this.cursor.errorAt(use.token, `undefined value '%${use.token.text}'`, { hint: 'every operand must be a graph input, a constant or a node output' });
    }
  }

  private lookup(name: string): Value | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const value = this.scopes[i]!.graph.getValue(name);
      if (value) return value;
    }
    return undefined;
  }

  /** Values are SSA: a name is defined once in a graph and the graphs enclosing it. */
  private checkUnique(token: Token): void {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      const existing = scope.graph.getValue(token.text);
      if (existing !== undefined) {
        const line = scope.lines[scope.defined.lastIndexOf(existing)] ?? token.line;
        throw new ModelpassError({
          reason: `value '%${token.text}' is already defined`,
          location: this.location(token),
          code: 'mpir/redefinition',
          source: '@modelpass/ir',
          notes: [`first defined on line ${line}`],
        });
      }
    }
  }

  private location(token: Token): Location {
    return { ...(this.cursor.file !== undefined ? { file: this.cursor.file } : {}), line: token.line, column: token.column };
  }

  private register(scope: Scope, value: Value, definition: ValueDefinition): void {
    scope.defined.push(value);
    scope.lines.push(definition.token.line);
    if (definition.docString !== undefined) value.docString = definition.docString;
    if (definition.metadata) for (const [key, text] of definition.metadata) value.metadata.set(key, text);
  }

  /** `%name[: type][ doc="…"][ meta{…}]` */
  private valueDefinition(context: string): ValueDefinition {
    const cursor = this.cursor;
    const token = cursor.expectKind('value', "a value name like '%x'", context);
    const type = cursor.acceptPunct(':') ? parseType(cursor, `for '%${token.text}'`) : undefined;
    let docString: string | undefined;
    let metadata: Map<string, string> | undefined;
    for (;;) {
      if (cursor.acceptWord('doc')) {
        cursor.expectPunct('=', "after 'doc'");
        docString = cursor.expectString(`for the doc of '%${token.text}'`);
      } else if (cursor.acceptWord('meta')) {
        metadata = new Map();
        parseMetadata(cursor, metadata);
      } else break;
    }
    return { token, type, docString, metadata };
  }

  // ---- statements ---------------------------------------------------------------------------

  /** `const %w[: type] = tensor<…> …` or `= sparse<…>` */
  private constant(scope: Scope): void {
    const cursor = this.cursor;
    cursor.expectWord('const', 'to start a constant');
    const definition = this.valueDefinition("after 'const'");
    this.checkUnique(definition.token);
    cursor.expectPunct('=', `after constant '%${definition.token.text}'`);
    let value: Value;
    if (cursor.isWord('sparse')) {
      const sparse = parseSparseTensor(cursor);
      value = scope.graph.addConstant(definition.token.text, sparse.values);
      value.constant = undefined;
      value.sparseConstant = sparse;
      value.type = definition.type ?? sparseTypeOf(sparse);
    } else {
      value = scope.graph.addConstant(definition.token.text, parseTensor(cursor));
      if (definition.type) value.type = definition.type;
    }
    this.register(scope, value, definition);
  }

  /** `default %x = tensor<…> …`: the default value (initializer) of graph input `%x`. */
  private defaultValue(scope: Scope): void {
    const cursor = this.cursor;
    cursor.expectWord('default', 'to start a default');
    const token = cursor.expectKind('value', "a graph input like '%x'", "after 'default'");
    const value = scope.graph.getValue(token.text);
    if (!value || !scope.inputs.has(value)) throw cursor.errorAt(token, `'%${token.text}' is not an input of graph '@${scope.graph.name}', so it cannot have a default`);
    if (scope.defaulted.has(value)) throw cursor.errorAt(token, `graph input '%${token.text}' already has a default`);
    scope.defaulted.add(value);
    cursor.expectPunct('=', `after '%${token.text}'`);
    if (cursor.isWord('sparse')) {
      const sparse = parseSparseTensor(cursor);
      scope.graph.markConstant(value, sparse.values);
      value.constant = undefined;
      value.sparseConstant = sparse;
    } else {
      scope.graph.markConstant(value, parseTensor(cursor));
    }
  }

  private returnStatement(scope: Scope): void {
    const cursor = this.cursor;
    cursor.expectWord('return', 'to start the graph outputs');
    if (cursor.peek().kind !== 'value') return;
    do {
      const token = cursor.expectKind('value', "a value like '%y'", 'in return');
      const value = this.lookup(token.text);
      if (!value) throw cursor.errorAt(token, `undefined value '%${token.text}'`, { hint: 'graph outputs must be defined in the graph or an enclosing one' });
      scope.graph.addOutput(value);
    } while (cursor.acceptPunct(','));
  }

  /** `%a: T, null = dialect.Op(%x, null) {attrs} name="…" overload="…" doc="…" meta{…} loc(…)` */
  private node(scope: Scope): void {
    const cursor = this.cursor;
    const outputs: (ValueDefinition | null)[] = [];
    const firstKind = cursor.kind;
    if (firstKind === 'value' || (firstKind === 'word' && cursor.text === 'null')) {
      // Output names seen on this node: a short list scanned linearly, a set once it grows.
      let names: Set<string> | undefined;
      do {
        if (cursor.acceptWord('null')) {
          outputs.push(null);
          continue;
        }
        const definition = this.valueDefinition('as a node output');
        this.checkUnique(definition.token);
        const name = definition.token.text;
        if (outputs.length > 8) names ??= new Set(outputs.flatMap((o) => (o ? [o.token.text] : [])));
        if (names ? names.has(name) : outputs.some((o) => o !== null && o.token.text === name)) {
          throw cursor.errorAt(definition.token, `value '%${name}' is already defined`);
        }
        names?.add(name);
        outputs.push(definition);
      } while (cursor.acceptPunct(','));
      cursor.expectPunct('=', 'after node outputs');
    }
    const opToken = cursor.peek();
    if (opToken.kind !== 'word' && opToken.kind !== 'string') {
      throw cursor.errorAt(opToken, "expected an op name like 'onnx.Relu'", { actual: describeToken(opToken) });
    }
    cursor.skip();
    const { opType } = this.splitOp(opToken);
    cursor.expectPunct('(', `after op name '${opToken.text}'`);
    const inputs: (Value | null)[] = [];
    let pending: { index: number; token: Token }[] | undefined;
    if (!cursor.acceptPunct(')')) {
      do {
        const kind = cursor.kind;
        if (kind === 'word' && cursor.text === 'null') {
          cursor.skip();
          inputs.push(null);
        } else if (kind === 'value') {
          const value = this.lookup(cursor.text);
          if (!value) (pending ??= []).push({ index: inputs.length, token: cursor.peek() });
          cursor.skip();
          inputs.push(value ?? null);
        } else throw cursor.errorAt(cursor.peek(), "expected an operand ('%name' or null)", { actual: describeToken(cursor.peek()) });
      } while (cursor.acceptPunct(','));
      cursor.expectPunct(')', 'after operands');
    }
    const attributes: Map<string, Attribute> | undefined = cursor.isPunct('{') ? parseAttributeDict(cursor, () => this.graph()) : undefined;
    const trailer = this.nodeTrailer();
    const create: CreateNodeOptions = {
      op: opToken.text,
      inputs,
      outputs: outputs.map((o) => (o ? { name: o.token.text, type: o.type ?? UNKNOWN_TYPE } : null)),
      name: trailer.name ?? scope.graph.uniqueNodeName(opType),
    };
    if (attributes) create.attributes = attributes;
    if (trailer.loc) create.loc = trailer.loc;
    const node = scope.graph.createNode(create);
    if (trailer.overload !== undefined) node.overload = trailer.overload;
    if (trailer.docString !== undefined) node.docString = trailer.docString;
    if (trailer.metadata) for (const [key, text] of trailer.metadata) node.metadata.set(key, text);
    for (let index = 0; index < outputs.length; index++) {
      const definition = outputs[index];
      if (definition) this.register(scope, node.outputs[index]!, definition);
    }
    if (pending) for (const use of pending) scope.pending.push({ node, index: use.index, token: use.token });
  }

  private nodeTrailer(): { name?: string; overload?: string; docString?: string; metadata?: Map<string, string>; loc?: Location } {
    const cursor = this.cursor;
    const trailer: { name?: string; overload?: string; docString?: string; metadata?: Map<string, string>; loc?: Location } = {};
    let seen = 0;
    for (;;) {
      if (cursor.kind !== 'word') break;
      const key = cursor.text;
      const bit = TRAILER_KEYS[key as keyof typeof TRAILER_KEYS];
      if (bit === undefined || !Object.hasOwn(TRAILER_KEYS, key)) break;
      if (seen & bit) throw cursor.errorAt(cursor.peek(), `duplicate '${key}' on a node`);
      cursor.skip();
      seen |= bit;
      if (key === 'meta') {
        trailer.metadata = new Map();
        parseMetadata(cursor, trailer.metadata);
      } else if (key === 'loc') trailer.loc = parseLocation(cursor);
      else {
        cursor.expectPunct('=', `after '${key}'`);
        const text = cursor.expectString(`for the node's ${key}`);
        if (key === 'name') trailer.name = text;
        else if (key === 'overload') trailer.overload = text;
        else trailer.docString = text;
      }
    }
    return trailer;
  }
}

/** Reads `.mpir` text into a model; errors are ModelpassErrors located at file:line:column. */
export function parseModel(text: string, options: ParseOptions = {}): Model {
  checkParseModelText(text);
  const maxNesting = options.maxNesting ?? DEFAULT_MAX_NESTING;
  if (!Number.isInteger(maxNesting) || maxNesting < 1) {
    throw new ModelpassError({ reason: `maxNesting must be a whole number ≥ 1`, actual: String(maxNesting), source: '@modelpass/ir', code: 'mpir/bad-option' });
  }
  const cursor = new Cursor(text, options.file, fileReadPolicy(options), maxNesting);
  let model: Model;
  try {
    model = new Parser(cursor).model();
  } catch (error) {
    // Only reachable with a maxNesting raised past what the stack holds.
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw cursor.errorAt(cursor.peek(), `the text nests too deeply for the parser's stack (maxNesting is ${maxNesting})`, { hint: 'lower maxNesting' });
    }
    throw error;
  }
  model.sourceFormat = 'mpir';
  if (options.file !== undefined) model.sourcePath = options.file;
  return model;
}
