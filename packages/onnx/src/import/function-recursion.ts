import type { Model, ModelFunction, Node } from '@modelpass/ir';
import { onnxError } from '../errors.js';

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
  const state = new Map<ModelFunction, 'open' | 'done'>();
  for (const root of model.functions) {
    if (state.has(root)) continue;
    const path: ModelFunction[] = [root];
    const next: number[] = [0];
    state.set(root, 'open');
    while (path.length > 0) {
      const fn = path[path.length - 1]!;
      const list = calls.get(fn)!;
      const index = next[next.length - 1]!;
      if (index >= list.length) {
        state.set(fn, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = index + 1;
      const target = list[index]!;
      const seen = state.get(target);
      if (seen === 'open') {
        const cycle = [...path.slice(path.indexOf(target)), target].map(nameOf);
        throw onnxError({
          reason: `malformed ONNX model: function '${nameOf(target)}' calls itself (${cycle.join(' → ')}); ONNX functions cannot be recursive`,
          location: { ...(file !== undefined ? { file } : {}), path: `function ${target.name}` },
          expected: 'model-local functions that call only ONNX ops or other functions, without a cycle',
          actual: cycle.join(' → '),
          code: 'onnx/malformed',
        });
      }
      if (seen === undefined) {
        state.set(target, 'open');
        path.push(target);
        next.push(0);
      }
    }
  }
}
