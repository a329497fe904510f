import { ModelpassError, type RewritePattern } from '@modelpass/ir';

export interface RegisteredPattern {
  readonly pattern: RewritePattern;
  /** Who contributed it, as text for messages, e.g. `plugin 'acme'`. */
  readonly owner: string;
}

/**
 * Rewrite patterns contributed by plugins, in registration order. Passes see them as
 * `context.patterns`; a `canonicalize` pass adds them to its own pattern set. Each pattern is
 * wrapped so an error it throws names the pattern and its plugin.
 */
export class PatternRegistry {
  private readonly entries: RegisteredPattern[] = [];
  private readonly byName = new Map<string, RegisteredPattern>();

  add(patterns: RewritePattern | Iterable<RewritePattern>, owner = "'modelpass'"): this {
    const list = isPattern(patterns) ? [patterns] : [...(patterns as Iterable<RewritePattern>)];
    for (const pattern of list) {
      if (!isPattern(pattern)) {
        throw new ModelpassError({ reason: `${owner} contributes something that is not a rewrite pattern`, expected: '{ name, ops, rewrite(node, rewriter) }', source: '@modelpass/pass-manager' });
      }
      const existing = this.byName.get(pattern.name);
      if (existing) {
        throw new ModelpassError({
          reason: `rewrite pattern '${pattern.name}' is registered twice: by ${existing.owner} and by ${owner}`,
          source: '@modelpass/pass-manager',
          code: 'registry/duplicate-pattern',
        });
      }
      const entry = Object.freeze({ pattern: attributed(pattern, owner), owner });
      this.entries.push(entry);
      this.byName.set(pattern.name, entry);
    }
    return this;
  }

  /** The patterns, in registration order (what `context.patterns` holds). */
  list(): readonly RewritePattern[] {
    return this.entries.map((e) => e.pattern);
  }

  registered(): readonly RegisteredPattern[] {
    return [...this.entries];
  }

  get size(): number {
    return this.entries.length;
  }

  clone(): PatternRegistry {
    const copy = new PatternRegistry();
    for (const entry of this.entries) {
      copy.entries.push(entry);
      copy.byName.set(entry.pattern.name, entry);
    }
    return copy;
  }
}

function isPattern(value: unknown): value is RewritePattern {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RewritePattern).name === 'string' &&
    typeof (value as RewritePattern).rewrite === 'function' &&
    ((value as RewritePattern).ops === '*' || Array.isArray((value as RewritePattern).ops))
  );
}

function attributed(pattern: RewritePattern, owner: string): RewritePattern {
  return Object.freeze({
    ...pattern,
    rewrite(node, rewriter) {
      try {
        return pattern.rewrite(node, rewriter);
      } catch (error) {
        throw new ModelpassError({
          reason: `rewrite pattern '${pattern.name}' from ${owner} failed: ${error instanceof Error ? error.message : String(error)}`,
          location: node.location,
          source: owner,
          code: 'pattern/failed',
          cause: error,
        });
      }
    },
  } satisfies RewritePattern);
}
