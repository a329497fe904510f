import type { Node, Value } from '@modelpass/ir';

/**
 * Makes `node`'s only output disappear in favour of `replacement`: every use reads `replacement`
 * and `node` is erased. When the output is a graph output, `replacement` takes over its name, so
 * the model's interface does not change; that is only possible for a value a node of the same
 * graph produces that is not itself a graph input or output (returns false otherwise, changing
 * nothing). The replacement also inherits the output's type when its own is unknown.
 */
export function forwardOutput(node: Node, replacement: Value): boolean {
  const output = node.outputs[0];
  if (!output || node.outputs.length !== 1 || output === replacement) return false;
  if (!output.isGraphOutput) {
    output.replaceAllUsesWith(replacement);
    node.erase();
    return true;
  }
  const renamable = replacement.graph === output.graph && replacement.producer !== null && !replacement.isGraphOutput && !replacement.isGraphInput;
  if (!renamable) return false;
  const name = output.name;
  output.replaceAllUsesWith(replacement);
  node.erase(); // frees the name
  replacement.rename(name);
  // A graph output's declared type is part of the model's interface: keep it when the value that
  // takes over has none.
  if (replacement.type.kind === 'unknown') replacement.type = output.type;
  return true;
}

/** Erases `node` when none of its outputs is used any more; returns whether it did. */
export function eraseIfUnused(node: Node): boolean {
  if (!node.graph || node.outputs.some((output) => output?.hasUses)) return false;
  node.erase();
  return true;
}
