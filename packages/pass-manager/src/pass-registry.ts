import { ModelpassError } from '@modelpass/ir';
import { checkOptionSpecs } from './option-value.js';
import { kebabCase, type OptionSpec, type OptionSpecs } from './option.js';
import type { Pass } from './pass.js';
import { ANCHOR_NAMES } from './pipeline/anchors.js';
import { closestName, namesStartingWith } from './suggest.js';

/** Who contributed a pass: a package of ours, a plugin, or user code. */
export interface PassOwner {
  /** Package or plugin name, e.g. `@modelpass/transforms` or `modelpass-plugin-foo`. */
  readonly name: string;
  /** Set when the pass came from a plugin (`definePlugin`). */
  readonly plugin?: { readonly name: string; readonly version: string };
}

export interface RegisteredPass {
  readonly pass: Pass;
  readonly owner: PassOwner;
}

/** An option as `modelpass passes --json` shows it: kebab-case name, plain JSON values. */
export interface OptionDescription {
  readonly name: string;
  readonly kind: OptionSpec['kind'];
  readonly default?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  readonly values?: readonly string[];
  readonly pattern?: string;
  /** For lists: the element's description. */
  readonly element?: Omit<OptionDescription, 'name' | 'default' | 'help'>;
  readonly help?: string;
}

export interface PassDescription {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options: readonly OptionDescription[];
  readonly statistics: readonly string[];
  /** The package or plugin that registered it. */
  readonly owner: string;
  /** The plugin it came from, when it came from one. */
  readonly plugin?: string;
}

function toOwner(owner: string | PassOwner | undefined): PassOwner {
  if (owner === undefined) return { name: 'modelpass' };
  return typeof owner === 'string' ? { name: owner } : owner;
}

function describeOwner(owner: PassOwner): string {
  return owner.plugin ? `plugin '${owner.plugin.name}'@${owner.plugin.version}` : `'${owner.name}'`;
}

/**
 * Passes whose option specs and statistic names were found valid, with the specs object checked: a pass from
 * `definePass` is frozen, so registering it again (a PassEnvironment per conversion, `clone()`) skips the check.
 */
const checkedSpecs = new WeakMap<Pass, OptionSpecs>();

/**
 * The passes a pipeline may name. A plain value: nothing registers itself on import; the CLI or
 * an embedder builds one from the built-in passes plus loaded plugins.
 */
export class PassRegistry {
  private readonly entries = new Map<string, RegisteredPass>();

  constructor(passes: Iterable<Pass> = [], owner?: string | PassOwner) {
    this.register(passes, owner);
  }

  /** Adds passes; a name registered twice is an error naming both owners. */
  register(passes: Pass | Iterable<Pass>, owner?: string | PassOwner): this {
    const who = toOwner(owner);
    const iterable = typeof passes === 'object' && passes !== null && Symbol.iterator in passes;
    const list: Pass[] = iterable ? [...(passes as Iterable<Pass>)] : [passes as Pass];
    for (const pass of list) {
      if (!isPass(pass)) {
        throw new ModelpassError({
          reason: `${describeOwner(who)} registers something that is not a pass`,
          expected: 'a value made by definePass',
          actual: describeValue(pass),
          source: '@modelpass/pass-manager',
          code: 'registry/not-a-pass',
        });
      }
      if (ANCHOR_NAMES.includes(pass.name)) {
        throw new ModelpassError({
          reason: `pass name '${pass.name}' (from ${describeOwner(who)}) is reserved for the built-in pipeline anchor`,
          source: '@modelpass/pass-manager',
          code: 'registry/reserved-name',
        });
      }
      const existing = this.entries.get(pass.name);
      if (existing) {
        throw new ModelpassError({
          reason: `pass '${pass.name}' is registered twice: by ${describeOwner(existing.owner)} and by ${describeOwner(who)}`,
          hint: 'rename one of the passes, or load only one of the plugins',
          source: '@modelpass/pass-manager',
          code: 'registry/duplicate-pass',
        });
      }
      if (checkedSpecs.get(pass) !== pass.options) {
        const problems = checkOptionSpecs(pass.options);
        for (const statistic of pass.statistics) {
          if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(statistic)) problems.push(`statistic '${statistic}' must be kebab-case`);
        }
        if (problems.length > 0) {
          throw new ModelpassError(
            problems.map((reason) => ({ reason: `pass '${pass.name}' (from ${describeOwner(who)}): ${reason}`, source: '@modelpass/pass-manager', code: 'registry/bad-pass' })),
          );
        }
        if (Object.isFrozen(pass)) checkedSpecs.set(pass, pass.options);
      }
      this.entries.set(pass.name, Object.freeze({ pass, owner: who }));
    }
    return this;
  }

  get(name: string): Pass | undefined {
    return this.entries.get(name)?.pass;
  }

  entry(name: string): RegisteredPass | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  ownerOf(name: string): PassOwner | undefined {
    return this.entries.get(name)?.owner;
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Registered passes, sorted by name. */
  list(): RegisteredPass[] {
    return this.names().map((name) => this.entries.get(name)!);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The registered name nearest to `name` (for "did you mean"). */
  suggest(name: string): string | undefined {
    return closestName(name, [...this.entries.keys(), ...ANCHOR_NAMES]);
  }

  /**
   * The names the user may have meant by `name`: every registered name starting with it when there
   * are several (a family such as `prune-*`), else the nearest one, else none.
   */
  suggestAll(name: string): string[] {
    const known = [...this.entries.keys(), ...ANCHOR_NAMES];
    const family = namesStartingWith(name, known);
    if (family.length > 1) return family;
    const nearest = closestName(name, known);
    return nearest === undefined ? [] : [nearest];
  }

  /** A copy that can be extended without touching this registry. */
  clone(): PassRegistry {
    const copy = new PassRegistry();
    for (const entry of this.entries.values()) copy.register(entry.pass, entry.owner);
    return copy;
  }
}

export function isPass(value: unknown): value is Pass {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'modelpass.pass' && typeof (value as Pass).run === 'function';
}

/** `a function`, `undefined`, `an object with keys a, b`, ... for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function${value.name ? ` '${value.name}'` : ''}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'an empty object';
  }
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describeOption(name: string, spec: OptionSpec): OptionDescription {
  const base = (s: OptionSpec): Record<string, unknown> => {
    const d: Record<string, unknown> = { kind: s.kind };
    if (s.kind === 'number') {
      if (s.min !== undefined) d['min'] = s.min;
      if (s.max !== undefined) d['max'] = s.max;
      if (s.integer) d['integer'] = true;
    }
    if (s.kind === 'enum') d['values'] = [...s.values];
    if (s.kind === 'string' && s.pattern !== undefined) d['pattern'] = s.pattern;
    if (s.kind === 'list') d['element'] = base(s.element);
    return d;
  };
  const description: Record<string, unknown> = { name: kebabCase(name), ...base(spec) };
  if (spec.default !== undefined) description['default'] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  if (spec.help !== undefined) description['help'] = spec.help;
  return description as unknown as OptionDescription;
}

/** Every registered pass as plain JSON (for `modelpass passes --json`), sorted by name. */
export function describePasses(registry: PassRegistry): PassDescription[] {
  return registry.list().map(({ pass, owner }) => {
    const description: PassDescription = {
      name: pass.name,
      summary: pass.summary,
      ...(pass.description !== undefined ? { description: pass.description } : {}),
      options: Object.entries(pass.options).map(([name, spec]) => describeOption(name, spec)),
      statistics: [...pass.statistics],
      owner: owner.name,
      ...(owner.plugin ? { plugin: owner.plugin.name } : {}),
    };
    return description;
  });
}
