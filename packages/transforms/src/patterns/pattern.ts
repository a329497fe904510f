import type { Model, Node, Rewriter, RewritePattern } from '@modelpass/ir';

/** What a transform pattern can reach besides the node: the model, and the pass's log. */
export interface PatternEnv {
  readonly model: Model;
  /** Why a pattern left a node alone (shown with --debug). */
  debug(message: string): void;
  /** Adds to a statistic of the running pass. */
  count(statistic: string, delta?: number): void;
}

/**
 * A rewrite pattern of this package: like `RewritePattern` from `@modelpass/ir`, plus the pass
 * environment, so it can explain why it declined and count what it did.
 */
export interface TransformPattern {
  readonly name: string;
  readonly ops: readonly string[];
  readonly benefit?: number;
  /** Statistic incremented on each successful rewrite (besides `rewrites`). */
  readonly statistic?: string;
  rewrite(node: Node, rewriter: Rewriter, env: PatternEnv): boolean;
}

export function definePattern(pattern: TransformPattern): TransformPattern {
  return Object.freeze({ ...pattern });
}

/** Binds transform patterns to a pass environment, giving plain `RewritePattern`s. */
export function bindPatterns(patterns: readonly TransformPattern[], env: PatternEnv): RewritePattern[] {
  return patterns.map((pattern) => ({
    name: pattern.name,
    ops: pattern.ops,
    benefit: pattern.benefit ?? 1,
    rewrite(node: Node, rewriter: Rewriter): boolean {
      const changed = pattern.rewrite(node, rewriter, env);
      if (changed && pattern.statistic) env.count(pattern.statistic);
      return changed;
    },
  }));
}

/** A `debug` message naming the node a pattern declined, and why. */
export function declined(env: PatternEnv, pattern: string, node: Node, reason: string): false {
  env.debug(`${pattern}: left ${node.op} '${node.name}' alone: ${reason}`);
  return false;
}
