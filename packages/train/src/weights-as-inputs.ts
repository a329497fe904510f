/**
 * Turns the differentiated initializers of a training graph into graph inputs of the same names, so
 * a step loop can feed the current weights each step (ONNX Runtime does not take feeds for
 * initializers).
 */
import type { Model, Tensor } from '@modelpass/ir';

export function weightsAsInputs(model: Model, names: Iterable<string>): Map<string, Tensor> {
  const graph = model.graph;
  const initial = new Map<string, Tensor>();
  for (const name of names) {
    const constant = graph.getValue(name);
    if (!constant?.constant || constant.isGraphInput) continue;
    initial.set(name, constant.constant);
    const input = graph.addInput(graph.uniqueName(`${name}__input`), constant.type);
    constant.replaceAllUsesWith(input, { keepOutputNames: false });
    graph.removeConstant(constant);
    input.rename(name);
  }
  return initial;
}
