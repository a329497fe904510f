import { ModelpassError, OpRegistry } from '@modelpass/ir';
import { PassRegistry } from './pass-registry.js';
import { PatternRegistry } from './pattern-registry.js';
import { loadPlugin, type LoadedPlugin, type LoadPluginOptions } from './plugin/load-plugin.js';
import { assertPluginCompatible, isPlugin, type Plugin } from './plugin/plugin.js';
import { describeValue } from './pass-registry.js';

/** A plugin as recorded for reproducers (`plugins.json`) and `modelpass passes`. */
export interface PluginRecord {
  readonly name: string;
  readonly version: string;
  /** How it was asked for (package name or path), when it was loaded rather than passed in code. */
  readonly specifier?: string;
  /** The absolute file that was imported, when loaded. */
  readonly path?: string;
}

export interface PassEnvironmentInit {
  readonly passes?: PassRegistry;
  readonly ops?: OpRegistry;
  readonly patterns?: PatternRegistry;
}

/**
 * Everything a pipeline is resolved and run against: the pass registry, the op registry (for
 * verification and `context.registry`), the plugins' rewrite patterns (`context.patterns`) and the
 * list of plugins in use. The CLI builds one from the built-in passes and canonical ops, then
 * adds plugins with `use`/`load`.
 */
export class PassEnvironment {
  readonly passes: PassRegistry;
  readonly ops: OpRegistry;
  readonly patterns: PatternRegistry;
  private readonly pluginRecords: PluginRecord[] = [];

  constructor(init: PassEnvironmentInit = {}) {
    this.passes = init.passes ?? new PassRegistry();
    this.ops = init.ops ?? new OpRegistry();
    this.patterns = init.patterns ?? new PatternRegistry();
  }

  /** Plugins registered so far, in order. */
  get plugins(): readonly PluginRecord[] {
    return [...this.pluginRecords];
  }

  hasPlugin(name: string): boolean {
    return this.pluginRecords.some((p) => p.name === name);
  }

  /**
   * Registers a plugin (a value from `definePlugin`, or what `loadPlugin` returned): its passes,
   * ops and patterns. Checks its `passManager` version range first. All or nothing: on a name
   * clash nothing of the plugin stays registered.
   */
  use(plugin: Plugin | LoadedPlugin): this {
    checkUseArgument(plugin);
    const loaded = isPlugin(plugin) ? undefined : plugin;
    const value = loaded ? loaded.plugin : (plugin as Plugin);
    assertPluginCompatible(value);
    const earlier = this.pluginRecords.find((record) => record.name === value.name);
    if (earlier) {
      // Said as it is, rather than as the first of its passes "registered twice" by the same plugin.
      const where = (record: { readonly specifier?: string }): string => (record.specifier !== undefined ? ` (loaded as '${record.specifier}')` : '');
      throw new ModelpassError({
        reason: `plugin '${value.name}'@${value.version}${loaded ? where(loaded) : ''} is already in use in this environment: '${earlier.name}'@${earlier.version}${where(earlier)}`,
        hint: 'use or load each plugin once; to try two versions of a plugin, give each its own PassEnvironment (clone() one)',
        source: '@modelpass/pass-manager',
        code: 'plugin/duplicate',
      });
    }
    const owner = { name: value.name, plugin: { name: value.name, version: value.version } };
    // A dry run on copies first, so a clash leaves this environment untouched.
    this.passes.clone().register(value.passes, owner);
    this.ops.clone().register(value.ops, `plugin '${value.name}'`);
    this.patterns.clone().add(value.patterns, `plugin '${value.name}'`);
    this.passes.register(value.passes, owner);
    if (value.ops.length) this.ops.register(value.ops, `plugin '${value.name}'`);
    this.patterns.add(value.patterns, `plugin '${value.name}'`);
    this.pluginRecords.push(
      Object.freeze({
        name: value.name,
        version: value.version,
        ...(loaded ? { specifier: loaded.specifier, path: loaded.path } : {}),
      }),
    );
    return this;
  }

  /** `loadPlugin` + `use`. */
  async load(specifier: string, options: LoadPluginOptions = {}): Promise<Plugin> {
    const loaded = await loadPlugin(specifier, options);
    this.use(loaded);
    return loaded.plugin;
  }

  /** A copy whose registries can be extended without touching this one. */
  clone(): PassEnvironment {
    const copy = new PassEnvironment({ passes: this.passes.clone(), ops: this.ops.clone(), patterns: this.patterns.clone() });
    copy.pluginRecords.push(...this.pluginRecords);
    return copy;
  }
}

/** `use` takes a plugin value, or what `loadPlugin` returned; a name or path is for `load`. */
function checkUseArgument(plugin: unknown): void {
  if (isPlugin(plugin)) return;
  const loaded = typeof plugin === 'object' && plugin !== null ? (plugin as { plugin?: unknown }).plugin : undefined;
  if (isPlugin(loaded)) return;
  throw new ModelpassError({
    reason: 'PassEnvironment.use takes a plugin made by definePlugin (or what loadPlugin returned)',
    actual: describeValue(plugin),
    source: '@modelpass/pass-manager',
    code: 'plugin/invalid',
    hint:
      typeof plugin === 'string'
        ? `to load a plugin by package name or path, await environment.load('${plugin}')`
        : "import the plugin's default export: import plugin from 'modelpass-plugin-…'",
  });
}
