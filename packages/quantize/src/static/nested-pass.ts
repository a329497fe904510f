/**
 * Runs another pass (fuse-bn, materialize-qdq) as a step of quantize-static: inside a running pass
 * it shares the parent's registry, diagnostics, debug log and cancellation; from plain code it gets
 * a standalone context with the canonical op registry.
 */
import type { Model, OpRegistry } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { preservedAnalyses, type OptionSpecs, type Pass, type PassContext } from '@modelpass/pass-manager';

function withDefaults(pass: Pass<OptionSpecs>, overrides: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(pass.options)) if (spec.default !== undefined) values[name] = spec.default;
  return { ...values, ...overrides };
}

/** What a quantize-static step needs from its caller (a pass context, or defaults). */
export interface StepHost {
  readonly registry: OpRegistry;
  readonly passName: string;
  debug(message: string): void;
  report: PassContext['report'];
  readonly signal: AbortSignal;
  readonly parent?: PassContext<OptionSpecs>;
}

export function standaloneHost(options: { registry?: OpRegistry; debug?: (message: string) => void; warn?: (message: string) => void } = {}): StepHost {
  return {
    registry: options.registry ?? createOpRegistry(),
    passName: 'quantize-static',
    debug: options.debug ?? (() => {}),
    report: (diagnostic) => {
      if (diagnostic.severity === 'warning' || diagnostic.severity === 'error') options.warn?.(diagnostic.reason);
    },
    signal: new AbortController().signal,
  };
}

export function hostOf(context: PassContext<OptionSpecs>): StepHost {
  return {
    registry: context.registry,
    passName: context.passName,
    debug: (message) => context.debug(message),
    report: (diagnostic) => context.report(diagnostic),
    signal: context.signal,
    parent: context,
  };
}

export async function runStep(pass: Pass<OptionSpecs>, model: Model, host: StepHost, overrides: Record<string, unknown> = {}): Promise<void> {
  const parent = host.parent;
  const child: PassContext<OptionSpecs> = {
    options: withDefaults(pass, overrides) as PassContext<OptionSpecs>['options'],
    registry: host.registry,
    passName: `${host.passName}/${pass.name}`,
    patterns: parent?.patterns ?? [],
    statistic() {},
    analysis: (definition) => (parent ? parent.analysis(definition) : definition.compute(model, { registry: host.registry })),
    report: (diagnostic) => host.report(diagnostic),
    debug: (message) => host.debug(message),
    signal: host.signal,
    preserveAll: () => parent?.preserveAll() ?? preservedAnalyses.all(),
    preserveNone: () => parent?.preserveNone() ?? preservedAnalyses.none(),
    preserve: (analyses) => parent?.preserve(analyses) ?? preservedAnalyses.only(analyses),
  };
  await pass.run(model, child);
}
