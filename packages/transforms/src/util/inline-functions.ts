import { ModelpassError, type Attribute, type Model, type ModelFunction, type Node, type Value } from '@modelpass/ir';
import { eraseDeep } from './graph-walk.js';

/** What `inlineModelFunctions` did, for statistics and debug lines. */
export interface InlinedFunctions {
  callsInlined: number;
  nodesAdded: number;
  functionsDropped: number;
}

/** Nested calls deeper than this are refused (the ONNX reader already refuses recursion). */
const MAX_ROUNDS = 10_000;

/** The model-local function `node` calls, if any. */
export function calledFunction(model: Model, node: Node): ModelFunction | undefined {
  if (model.functions.length === 0) return undefined;
  return model.findFunction(node.dialect, node.opType, node.overload);
}

function functionName(fn: ModelFunction): string {
  return `${fn.dialect}.${fn.name}${fn.overload ? `:${fn.overload}` : ''}`;
}

function refuse(reason: string, node?: Node, hint?: string): never {
  throw new ModelpassError({
    reason,
    source: '@modelpass/transforms',
    code: 'inline-functions/refused',
    ...(node?.loc ? { location: node.loc } : {}),
    ...(hint ? { hint } : {}),
  });
}

/**
 * Why the body of `fn` cannot be copied in place of `call`, or undefined when it can. Checked for
 * every call before anything changes, so a refusal leaves the model as it was.
 */
function whyCallCannotBeInlined(call: Node, fn: ModelFunction): string | undefined {
  const name = functionName(fn);
  if (call.inputs.length > fn.body.inputs.length) {
    return `node '${call.name}' passes ${call.inputs.length} input(s) to function '${name}', which declares ${fn.body.inputs.length}`;
  }
  if (call.outputs.length > fn.body.outputs.length) {
    return `node '${call.name}' expects ${call.outputs.length} output(s) from function '${name}', which returns ${fn.body.outputs.length}`;
  }
  for (const node of fn.body.nodeList()) {
    if (node.subgraphs.length > 0) return `function '${name}': body node '${node.name}' (${node.op}) holds a subgraph, which inline-functions does not copy yet`;
  }
  for (const constant of fn.body.constants) {
    if (!constant.constant) return `function '${name}': body initializer '${constant.name}' holds no dense data`;
  }
  return undefined;
}

/** The attribute a body node gets: a `ref` resolved from the call's attributes, then the function's defaults; undefined = left out. */
function resolveAttribute(attribute: Attribute, call: Node, fn: ModelFunction): Attribute | undefined {
  if (attribute.kind !== 'ref') return attribute;
  const given = call.getAttribute(attribute.refName) ?? fn.attributeDefaults.get(attribute.refName);
  if (given === undefined) return undefined; // ONNX: a referenced attribute the call does not set and with no default is absent
  if (given.kind === 'ref') return given; // a call inside another body, not inlined yet: resolved when its caller is
  if (given.kind !== attribute.refKind) {
    refuse(
      `node '${call.name}' sets attribute '${attribute.refName}' of function '${functionName(fn)}' as ${given.kind}; the body reads it as ${attribute.refKind}`,
      call,
    );
  }
  return given;
}

/** Copies the body of `fn` in place of `call` (just before it), binds inputs and outputs, then erases the call. Returns the nodes added. */
function inlineCall(call: Node, fn: ModelFunction): number {
  const graph = call.graph!;
  const prefix = call.name || fn.name;
  const bound = new Map<Value, Value | null>();
  fn.body.inputs.forEach((input, index) => bound.set(input, call.inputs[index] ?? null));
  const resolve = (value: Value | null): Value | null => (value ? (bound.has(value) ? bound.get(value)! : value) : null);
  const created = new Set<Value>();

  for (const constant of fn.body.constants) {
    const copy = graph.addConstant(graph.uniqueName(`${prefix}/${constant.name}`), constant.constant!);
    copy.type = constant.type;
    bound.set(constant, copy);
  }

  let nodesAdded = 0;
  for (const node of fn.body.nodeList()) {
    const attributes = new Map<string, Attribute>();
    for (const [key, attribute] of node.attributes) {
      const resolved = resolveAttribute(attribute, call, fn);
      if (resolved !== undefined) attributes.set(key, resolved);
    }
    const copy = graph.createNode({
      op: node.op,
      name: graph.uniqueNodeName(`${prefix}/${node.name || node.opType}`),
      loc: node.loc ?? call.loc,
      inputs: node.inputs.map(resolve),
      outputs: node.outputs.map((output) => (output ? { name: graph.uniqueName(`${prefix}/${output.name}`), type: output.type } : null)),
      attributes,
      before: call,
    });
    copy.docString = node.docString;
    copy.overload = node.overload;
    node.outputs.forEach((output, index) => {
      if (!output) return;
      bound.set(output, copy.output(index));
      created.add(copy.output(index));
    });
    nodesAdded++;
  }

  // Each call output keeps its name: the body value computing it takes the name, or an Identity named after it
  // produces it (the body returns one of its inputs, a constant, or one value twice).
  const named = new Set<Value>();
  call.outputs.forEach((callOutput, index) => {
    if (!callOutput) return;
    let replacement = resolve(fn.body.outputs[index]!);
    if (!replacement) refuse(`function '${functionName(fn)}' returns an omitted value for output ${index} of node '${call.name}'`, call);
    if (!created.has(replacement) || replacement.isGraphOutput || named.has(replacement)) {
      const identity = graph.createNode({
        op: 'onnx.Identity',
        name: graph.uniqueNodeName(`${prefix}/${callOutput.name}`),
        loc: call.loc,
        inputs: [replacement],
        outputs: [{ name: graph.uniqueName(`${callOutput.name}__inlined`), type: callOutput.type }],
        before: call,
      });
      replacement = identity.output(0);
      nodesAdded++;
    }
    named.add(replacement);
    const name = callOutput.name;
    callOutput.replaceAllUsesWith(replacement, { keepOutputNames: false });
    callOutput.rename(graph.uniqueName(`${name}__call`));
    replacement.rename(name);
    if (replacement.type.kind === 'unknown') replacement.type = callOutput.type;
  });

  eraseDeep(call);
  return nodesAdded;
}

/** Refuses an opset import of `fn` the model imports at another version (the caller then merges them). */
function checkOpsets(model: Model, fn: ModelFunction, call: Node): void {
  for (const [dialect, version] of fn.opsetImports) {
    const current = model.opsetImports.get(dialect);
    if (current !== undefined && current !== version) {
      refuse(
        `function '${functionName(fn)}' (called by node '${call.name}') imports ${dialect} opset ${version}, the model imports ${dialect} opset ${current}: its body cannot be inlined as is`,
        call,
        're-export the model with one opset version for the model and its functions',
      );
    }
  }
}

/**
 * Replaces every call of a model-local function (in the main graph and in subgraphs, nested calls too)
 * by a copy of the function's body, then drops the functions no node calls any more. Node and value
 * names of a copy are prefixed with the call node's name (`<call>/<body name>`); the call's outputs
 * keep their names. Throws a ModelpassError naming the function and node when a call cannot be inlined.
 */
export function inlineModelFunctions(model: Model, debug: (message: string) => void = () => {}): InlinedFunctions {
  const result: InlinedFunctions = { callsInlined: 0, nodesAdded: 0, functionsDropped: 0 };
  if (model.functions.length === 0) return result;
  for (let round = 0; ; round++) {
    const calls: [Node, ModelFunction][] = [];
    for (const node of model.graph.allNodes()) {
      const fn = calledFunction(model, node);
      if (fn) calls.push([node, fn]);
    }
    if (calls.length === 0) break;
    if (round >= MAX_ROUNDS) refuse(`function calls are still nested after ${MAX_ROUNDS} rounds of inlining (e.g. '${functionName(calls[0]![1])}')`, calls[0]![0]);
    for (const [call, fn] of calls) {
      const why = whyCallCannotBeInlined(call, fn);
      if (why) refuse(why, call);
      checkOpsets(model, fn, call);
    }
    for (const [, fn] of calls) for (const [dialect, version] of fn.opsetImports) model.opsetImports.set(dialect, version);
    for (const [call, fn] of calls) {
      const name = call.name;
      const added = inlineCall(call, fn);
      debug(`${name}: inlined function '${functionName(fn)}' (${added} node(s))`);
      result.callsInlined++;
      result.nodesAdded += added;
    }
  }
  // No node calls a function now (calls inside function bodies are gone with their callers' copies).
  result.functionsDropped = model.functions.length;
  for (const fn of model.functions) debug(`dropped function '${functionName(fn)}'`);
  model.functions.length = 0;
  return result;
}
