import type { Model } from '@modelpass/ir';
import type { OptionSpecs, Pass, PassContext } from '@modelpass/pass-manager';

/** Runs another pass inside this one (its options at their defaults plus `overrides`; its statistics dropped). */
export async function runNestedPass(pass: Pass<OptionSpecs>, model: Model, parent: PassContext<OptionSpecs>, overrides: Record<string, unknown> = {}): Promise<void> {
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(pass.options)) if (spec.default !== undefined) options[name] = spec.default;
  const child: PassContext<OptionSpecs> = {
    options: { ...options, ...overrides } as PassContext<OptionSpecs>['options'],
    registry: parent.registry,
    passName: `${parent.passName}/${pass.name}`,
    patterns: parent.patterns,
    statistic: () => {},
    analysis: (definition) => parent.analysis(definition),
    report: (diagnostic) => parent.report(diagnostic),
    debug: (message) => parent.debug(message),
    signal: parent.signal,
    preserveAll: () => parent.preserveAll(),
    preserveNone: () => parent.preserveNone(),
    preserve: (analyses) => parent.preserve(analyses),
  };
  await pass.run(model, child);
}
