import type { Model, ModelFunction, Node } from '@modelpass/ir';
import { onnxError } from '../errors.js';
import { findDirectedCycle } from './directed-cycle.js';

/** `dialect.name` of a function, with its overload when it has one: how an error names it. */
function nameOf(fn: ModelFunction): string {
  return `${fn.dialect}.${fn.name}${fn.overload ? `:${fn.overload}` : ''}`;
}

/** The model-local function a node calls, if any (ops are `dialect.name`; a dialect may hold dots). */
function callee(model: Model, node: Node): ModelFunction | undefined {
  const dot = node.op.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return model.findFunction(node.op.slice(0, dot), node.op.slice(dot + 1), node.overload);
}

/**
 * ONNX forbids a model-local function that calls itself, directly or through others (it could
 * never be inlined: ONNX Runtime refuses the file, and an inliner would not stop). Refuses the
 * first such cycle, naming the calls around it; an iterative walk, so a long chain of calls
 * cannot overflow the stack.
 */
export function checkFunctionRecursion(model: Model, file: string | undefined): void {
  const calls = new Map<ModelFunction, ModelFunction[]>();
  for (const fn of model.functions) {
    const callees = new Set<ModelFunction>();
    for (const node of fn.body.allNodes()) {
      const target = callee(model, node);
      if (target) callees.add(target);
    }
    calls.set(fn, [...callees]);
  }
  const found = findDirectedCycle(model.functions, (fn) => calls.get(fn) ?? []);
  if (!found) return;
  const target = found[0]!;
  const cycle = [...found, target].map(nameOf);
  throw onnxError({
    reason: `malformed ONNX model: function '${nameOf(target)}' calls itself (${cycle.join(' → ')}); ONNX functions cannot be recursive`,
    location: { ...(file !== undefined ? { file } : {}), path: `function ${target.name}` },
    expected: 'model-local functions that call only ONNX ops or other functions, without a cycle',
    actual: cycle.join(' → '),
    code: 'onnx/malformed',
  });
}
