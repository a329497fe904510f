import type { Model } from '@modelpass/ir';
import type { OptionSpecs, Pass, PassContext, PreservedAnalyses } from '@modelpass/pass-manager';

/** Default option values of a pass, with `overrides` on top. */
export function optionsWithDefaults(pass: Pass<OptionSpecs>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(pass.options)) if (spec.default !== undefined) values[name] = spec.default;
  return { ...values, ...overrides };
}

/**
 * Runs `pass` inside a composite pass (simplify, optimize): same registry, diagnostics, debug log and
 * cancellation; statistics forwarded only when the composite declares them (`forward`).
 */
export async function runNested(
  pass: Pass<OptionSpecs>,
  model: Model,
  parent: PassContext<OptionSpecs>,
  options: { overrides?: Record<string, unknown>; forward: ReadonlySet<string>; collect?: Map<string, number> },
): Promise<PreservedAnalyses | void> {
  const child: PassContext<OptionSpecs> = {
    options: optionsWithDefaults(pass, options.overrides) as PassContext<OptionSpecs>['options'],
    registry: parent.registry,
    passName: `${parent.passName}/${pass.name}`,
    patterns: parent.patterns,
    statistic(name, delta = 1) {
      options.collect?.set(name, (options.collect.get(name) ?? 0) + delta);
      if (options.forward.has(name)) parent.statistic(name, delta);
    },
    collectsStatistic: (name) => options.collect !== undefined || (options.forward.has(name) && (parent.collectsStatistic?.(name) ?? true)),
    analysis: (definition) => parent.analysis(definition),
    report: (diagnostic) => parent.report(diagnostic),
    debug: (message) => parent.debug(message),
    signal: parent.signal,
    preserveAll: () => parent.preserveAll(),
    preserveNone: () => parent.preserveNone(),
    preserve: (analyses) => parent.preserve(analyses),
  };
  return pass.run(model, child);
}
