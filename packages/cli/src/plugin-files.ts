/**
 * Loading a plugin named on the command line or by a reproducer, so that whatever goes wrong names
 * the plugin's file: a FIFO or device is refused before `import()` could block on it, and a
 * hand-forged plugin object (one that claims to come from `definePlugin` but does not hold its
 * shape) fails with a `ModelpassError` pointing at the file instead of a bare TypeError.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelpassError } from '@modelpass/ir';
import { resolvePluginFile, type PassEnvironment } from '@modelpass/pass-manager';
import { describeFileKind } from '@modelpass/runtime';

function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
}

/** The file a specifier names, when it can be told (a path, or a package that resolves). */
function pluginFile(specifier: string, cwd: string): string | undefined {
  if (isPath(specifier)) return specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(cwd, specifier);
  try {
    return resolvePluginFile(specifier, cwd);
  } catch {
    return undefined;
  }
}

/** Refuses a plugin path that exists but is neither a regular file nor a folder (a package). */
function checkPluginPath(specifier: string, file: string): void {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return; // a missing file is reported by the loader, with its own words
  }
  if (stats.isDirectory()) return;
  if (stats.isFile()) {
    // Node 20 cannot import TypeScript; its own "Unknown file extension" does not say what to do.
    if (/\.[mc]?ts$/i.test(file) && !/\.d\.[mc]?ts$/i.test(file)) {
      throw new ModelpassError({
        reason: `cannot load plugin '${specifier}': it is TypeScript source, which Node does not import`,
        location: { file },
        source: '@modelpass/cli',
        expected: 'a JavaScript module (.js, .mjs) or a package folder',
        hint: `compile it first (npx tsc, or esbuild ${specifier} --format=esm --outfile=plugin.mjs) and pass the .js/.mjs file`,
      });
    }
    return;
  }
  throw new ModelpassError({
    reason: `cannot load plugin '${specifier}': it is ${describeFileKind(stats)}, not a regular file`,
    location: { file },
    source: '@modelpass/cli',
  });
}

/** Loads one plugin into `environment`; every failure names the plugin's file. */
export async function loadPluginFile(environment: PassEnvironment, specifier: string, cwd: string): Promise<void> {
  const file = pluginFile(specifier, cwd);
  if (file && isPath(specifier)) checkPluginPath(specifier, file);
  try {
    await environment.load(specifier, { cwd });
  } catch (error) {
    if (!file) throw error;
    if (ModelpassError.is(error)) {
      if (error.diagnostics.some((d) => d.location?.file !== undefined)) throw error;
      throw new ModelpassError(error.diagnostics.map((d) => ({ ...d, location: { ...d.location, file } })));
    }
    throw new ModelpassError({
      reason: `plugin '${specifier}' is malformed: ${error instanceof Error ? error.message : String(error)}`,
      location: { file },
      source: '@modelpass/cli',
      expected: 'export default definePlugin({ name, version, passManager, passes, ops, patterns })',
      hint: "build the plugin with definePlugin from '@modelpass/pass-manager' instead of writing the object by hand",
      cause: error,
    });
  }
}
