import type { DiagnosticInit, Graph, Value } from '@modelpass/ir';

/**
 * Graph inputs with a default value: what ONNX files of IR version 3 and below hold for every
 * weight (torch's `keep_initializers_as_inputs=True`, older exporters), since every initializer had
 * to be a graph input then. TFLite has no defaulted inputs: kept, each would be an input the caller
 * must feed, and the convolutions reading them would have run-time weights (which the lowering
 * refuses). `legalize-tflite` freezes them into constants by default (`defaulted-inputs=constant`).
 */

/** The graph inputs that carry a default value (an initializer of the same name). */
export function defaultedInputs(graph: Graph): Value[] {
  return graph.inputs.filter((input) => input.constant !== undefined);
}

/**
 * Turns every defaulted graph input into a constant of the same name holding its default, read by
 * the same nodes; graph inputs without a default stay. Returns the names frozen, in input order.
 */
export function freezeDefaultedInputs(graph: Graph): string[] {
  const frozen: string[] = [];
  for (const input of defaultedInputs(graph)) {
    const tensor = input.constant!;
    const name = input.name;
    input.rename(graph.uniqueName(`${name}__defaulted_input`));
    const constant = graph.addConstant(name, tensor);
    input.replaceAllUsesWith(constant);
    graph.removeConstant(input);
    graph.removeInput(input);
    frozen.push(name);
  }
  return frozen;
}

/** The note and statistic for defaulted inputs frozen into constants (none: nothing said). */
export function reportFrozenInputs(names: readonly string[], context: { statistic(name: string, delta?: number): void; report(diagnostic: DiagnosticInit): void }): void {
  context.statistic('defaulted-inputs-frozen', names.length);
  if (names.length === 0) return;
  const listed = names.length <= 4 ? names.map((name) => `'${name}'`).join(', ') : `${names.slice(0, 4).map((name) => `'${name}'`).join(', ')}, …`;
  context.report({
    severity: 'info',
    reason: `${names.length} graph input(s) with a default value (${listed}) frozen into constants: TFLite has no defaulted inputs (ONNX IR ≤ 3 lists initializers as inputs)`,
    source: '@modelpass/tflite',
    hint: 'legalize-tflite{defaulted-inputs=input} keeps them as inputs to feed',
  });
}
