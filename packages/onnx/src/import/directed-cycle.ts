/**
 * One cycle of a directed graph given by its roots and each vertex's successors, or undefined when
 * there is none: the vertices from the first one met twice to the last before it closes, in walking
 * order. An iterative depth-first search (the stack is the current path), so a chain of a million
 * vertices cannot overflow the call stack.
 */
export function findDirectedCycle<T>(roots: Iterable<T>, successors: (vertex: T) => readonly T[]): T[] | undefined {
  const state = new Map<T, 'open' | 'done'>();
  for (const root of roots) {
    if (state.has(root)) continue;
    const path: T[] = [root];
    const lists: (readonly T[])[] = [successors(root)];
    const next: number[] = [0];
    state.set(root, 'open');
    while (path.length > 0) {
      const list = lists[lists.length - 1]!;
      const index = next[next.length - 1]!;
      if (index >= list.length) {
        state.set(path[path.length - 1]!, 'done');
        path.pop();
        lists.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = index + 1;
      const target = list[index]!;
      const seen = state.get(target);
      if (seen === 'open') return path.slice(path.indexOf(target));
      if (seen === undefined) {
        state.set(target, 'open');
        path.push(target);
        lists.push(successors(target));
        next.push(0);
      }
    }
  }
  return undefined;
}
