import type { Model, OpRegistry } from '@modelpass/ir';
import { checkAnalysisNames } from './analysis-names.js';
import type { AnalysisDefinition, PreservedAnalyses } from './pass.js';

interface CachedAnalysis {
  readonly definition: AnalysisDefinition<unknown>;
  readonly value: unknown;
}

/**
 * Caches analysis results per model (weakly: a model that is dropped takes its cache with it).
 * After each pass the pass manager calls `invalidate` with what the pass preserved; analyses it did
 * not preserve are computed again on their next request.
 */
export class AnalysisManager {
  private readonly caches = new WeakMap<Model, Map<string, CachedAnalysis>>();
  private computations = 0;

  constructor(private readonly registry: OpRegistry) {}

  /** The analysis for `model`, computed now unless a valid result is cached. */
  get<T>(definition: AnalysisDefinition<T>, model: Model): T {
    let cache = this.caches.get(model);
    if (!cache) this.caches.set(model, (cache = new Map()));
    const cached = cache.get(definition.name);
    if (cached && cached.definition === definition) return cached.value as T;
    const value = definition.compute(model, { registry: this.registry });
    this.computations++;
    cache.set(definition.name, { definition: definition as AnalysisDefinition<unknown>, value });
    return value;
  }

  /** Whether a valid result for `definition` on `model` is cached. */
  isCached(definition: AnalysisDefinition<unknown>, model: Model): boolean {
    return this.caches.get(model)?.get(definition.name)?.definition === definition;
  }

  /**
   * What `context.preserve(names)` returns: checks every name against the defined analyses (and
   * those cached for `model`), throwing a located error for an unknown one.
   */
  preserve(model: Model, names: readonly string[], passLabel: string): PreservedAnalyses {
    if (!Array.isArray(names)) checkAnalysisNames([String(names)], passLabel);
    checkAnalysisNames(names, passLabel, this.caches.get(model)?.keys() ?? []);
    return preservedAnalyses.only(names);
  }

  /** Drops every cached result for `model` that `preserved` does not keep. */
  invalidate(model: Model, preserved: PreservedAnalyses): void {
    if (preserved.all) return;
    const cache = this.caches.get(model);
    if (!cache) return;
    for (const name of [...cache.keys()]) if (!preserved.analyses.has(name)) cache.delete(name);
  }

  /** Forgets everything cached for `model`. */
  clear(model: Model): void {
    this.caches.delete(model);
  }

  /** How many times an analysis has been computed (not served from the cache). */
  get computeCount(): number {
    return this.computations;
  }
}

/** What a pass preserved, as values (`preserveAll()` and friends build these). */
export const preservedAnalyses = {
  all(): PreservedAnalyses {
    return ALL;
  },
  none(): PreservedAnalyses {
    return NONE;
  },
  only(analyses: Iterable<string>): PreservedAnalyses {
    return Object.freeze({ all: false, analyses: new Set(analyses) });
  },
};

const ALL: PreservedAnalyses = Object.freeze({ all: true });
const NONE: PreservedAnalyses = Object.freeze({ all: false, analyses: new Set<string>() });
