import { ModelpassError, type OpSchema, type RewritePattern } from '@modelpass/ir';
import type { Pass } from '../pass.js';
import { describeValue, isPass } from '../pass-registry.js';
import { PASS_MANAGER_VERSION } from '../version.js';
import { isValidRange, parseVersion, satisfies } from './semver.js';

export interface PluginDefinition {
  /** The plugin's name, usually its npm package name. */
  readonly name: string;
  /** The plugin's own version (semver). */
  readonly version: string;
  /** The `@modelpass/pass-manager` versions it works with, as a semver range (`^0.1.0`). */
  readonly passManager: string;
  readonly description?: string;
  readonly passes?: readonly Pass[];
  /** Schemas of the ops its passes create or accept (dialect-qualified names). */
  readonly ops?: readonly OpSchema[];
  /** Rewrite patterns offered to `canonicalize` (they appear as `context.patterns`). */
  readonly patterns?: readonly RewritePattern[];
}

export interface Plugin extends PluginDefinition {
  readonly passes: readonly Pass[];
  readonly ops: readonly OpSchema[];
  readonly patterns: readonly RewritePattern[];
  /** Marks a value made by `definePlugin`. */
  readonly kind: 'modelpass.plugin';
}

function invalid(name: string, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({ reason: `invalid plugin '${name}': ${reason}`, source: '@modelpass/pass-manager', code: 'plugin/invalid', ...extra });
}

/** Copies an optional list field (`passes`, `ops`, `patterns`), which must be an array when given. */
function listField<T>(pluginName: string, field: string, value: readonly T[] | undefined, elements: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw invalid(pluginName, `'${field}' must be an array`, { expected: `an array of ${elements}`, actual: describeValue(value) });
  }
  return [...(value as readonly T[])];
}

/**
 * Checks and freezes a plugin. Defining a plugin registers nothing: it is a plain value that the
 * CLI or an embedder passes to `PassEnvironment.use` (or loads with `loadPlugin`).
 */
export function definePlugin(definition: PluginDefinition): Plugin {
  const name = typeof definition?.name === 'string' ? definition.name : '<unnamed>';
  if (typeof definition !== 'object' || definition === null) throw invalid(name, 'expected an object', { actual: describeValue(definition) });
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(definition.name ?? '')) {
    throw invalid(name, 'the name must be an npm-style package name', { actual: describeValue(definition.name) });
  }
  if (typeof definition.version !== 'string' || !parseVersion(definition.version)) {
    throw invalid(name, 'the version must be a semver version like 1.0.0', { actual: describeValue(definition.version) });
  }
  if (typeof definition.passManager !== 'string' || !isValidRange(definition.passManager)) {
    throw invalid(name, "'passManager' must be a semver range of @modelpass/pass-manager versions", {
      actual: describeValue(definition.passManager),
      hint: `e.g. passManager: '^${PASS_MANAGER_VERSION}'`,
    });
  }
  const passes = listField(name, 'passes', definition.passes, 'Pass values made by definePass');
  passes.forEach((pass, index) => {
    if (!isPass(pass)) throw invalid(name, `passes[${index}] was not made by definePass`, { actual: describeValue(pass) });
  });
  const ops = listField(name, 'ops', definition.ops, 'op schemas made by defineOp');
  ops.forEach((op, index) => {
    if (typeof op !== 'object' || op === null || typeof op.op !== 'string') throw invalid(name, `ops[${index}] is not an op schema (use defineOp)`, { actual: describeValue(op) });
  });
  const patterns = listField(name, 'patterns', definition.patterns, 'rewrite patterns');
  patterns.forEach((pattern, index) => {
    if (typeof pattern !== 'object' || pattern === null || typeof pattern.name !== 'string' || typeof pattern.rewrite !== 'function') {
      throw invalid(name, `patterns[${index}] is not a rewrite pattern`, { expected: '{ name, ops, rewrite(node, rewriter) }', actual: describeValue(pattern) });
    }
  });
  return Object.freeze({
    ...definition,
    passes: Object.freeze(passes),
    ops: Object.freeze(ops),
    patterns: Object.freeze(patterns),
    kind: 'modelpass.plugin' as const,
  });
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'modelpass.plugin';
}

/**
 * Throws unless the plugin declares that it works with this pass manager (`passManager` range,
 * checked against this package's version), like Babel's `api.assertVersion`.
 */
export function assertPluginCompatible(plugin: Plugin, version: string = PASS_MANAGER_VERSION): void {
  if (satisfies(version, plugin.passManager)) return;
  throw new ModelpassError({
    reason: `plugin '${plugin.name}'@${plugin.version} requires @modelpass/pass-manager ${plugin.passManager}, but this is ${version}`,
    expected: plugin.passManager,
    actual: version,
    source: '@modelpass/pass-manager',
    code: 'plugin/incompatible',
    hint: `use a version of '${plugin.name}' built for @modelpass/pass-manager ${version}, or a modelpass that matches ${plugin.passManager}`,
  });
}
