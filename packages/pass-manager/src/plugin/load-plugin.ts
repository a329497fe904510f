import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelpassError } from '@modelpass/ir';
import { describeValue } from '../pass-registry.js';
import { shareHostPackages } from './host-packages.js';
import { assertPluginCompatible, isPlugin, type Plugin } from './plugin.js';

export interface LoadPluginOptions {
  /** Where package names are resolved from and relative paths are relative to (default `process.cwd()`). */
  readonly cwd?: string;
}

export interface LoadedPlugin {
  readonly plugin: Plugin;
  /** As given: a package name or a path. */
  readonly specifier: string;
  /** The absolute file that was imported. */
  readonly path: string;
}

function loadError(specifier: string, reason: string, extra: { hint?: string; cause?: unknown; expected?: string; actual?: string } = {}): ModelpassError {
  return new ModelpassError({ reason: `cannot load plugin '${specifier}': ${reason}`, source: '@modelpass/pass-manager', code: 'plugin/load', ...extra });
}

/** The `@modelpass/*` package a CommonJS `require` failed to find, if that is what went wrong. */
function requiredHostPackage(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') return undefined;
  return /^Cannot find module '(@modelpass\/[^'/]+)/.exec(error.message)?.[1];
}

export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('.') || specifier.startsWith('file:') || isAbsolute(specifier);
}

/** Splits `@scope/name/sub/path` into the package name and the exports subpath (`./sub/path`). */
function splitPackageSpecifier(specifier: string): { name: string; subpath: string } | undefined {
  const match = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.*)?$/.exec(specifier);
  if (!match) return undefined;
  return { name: match[1]!, subpath: match[2] ? `.${match[2]}` : '.' };
}

const CONDITIONS = ['import', 'node', 'default'];

/** Picks the target of a package.json `exports` value for an ESM import on Node. */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = exportTarget(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (CONDITIONS.includes(key)) {
        const target = exportTarget(inner);
        if (target !== undefined) return target;
      }
    }
  }
  return undefined;
}

/** True when `file` is `folder` itself or lies below it (compared lexically, after resolving). */
function isInside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves a path a package names for itself (`exports` target, `main`, a subpath) and refuses one
 * that leaves the package folder: a plugin package may only point at its own files.
 */
function packageFile(specifier: string, folder: string, what: string, target: string): string {
  const file = resolve(folder, target);
  if (!isInside(folder, file)) {
    throw loadError(specifier, `its ${what} '${target}' points outside the package folder '${folder}'`, {
      expected: 'a relative path inside the package, like ./dist/index.js',
      actual: JSON.stringify(target),
    });
  }
  return file;
}

/**
 * `file` (which exists) after following symbolic links must still lie in the package folder (itself followed: a
 * package linked into node_modules by npm workspaces or pnpm is fine): the lexical check above does not see a link.
 */
function inRealFolder(specifier: string, folder: string, what: string, target: string, file: string): string {
  const real = realpathSync(file);
  if (!isInside(realpathSync(folder), real)) {
    throw loadError(specifier, `its ${what} '${target}' is a symbolic link to '${real}', outside the package folder '${folder}'`, {
      expected: 'an entry file inside the package (links out of it are not followed)',
      actual: real,
    });
  }
  return file;
}

function firstExisting(candidates: readonly string[]): string | undefined {
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

/** The file a package folder's entry point (or `subpath` of its exports) names. */
function packageEntry(specifier: string, folder: string, subpath: string): string {
  const manifestPath = join(folder, 'package.json');
  let manifest: { exports?: unknown; main?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (error) {
    throw loadError(specifier, `'${manifestPath}' is not readable JSON`, { cause: error });
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw loadError(specifier, `'${manifestPath}' is not a JSON object`, { expected: 'a package.json object', actual: describeValue(manifest) });
  }
  if (manifest.exports !== undefined) {
    const exportsValue = manifest.exports;
    const keyed = typeof exportsValue === 'object' && exportsValue !== null && !Array.isArray(exportsValue) && Object.keys(exportsValue).some((k) => k.startsWith('.'));
    const entry = keyed ? (exportsValue as Record<string, unknown>)[subpath] : subpath === '.' ? exportsValue : undefined;
    const target = exportTarget(entry);
    if (target === undefined) {
      throw loadError(specifier, `the package's "exports" has no entry for '${subpath}' that an ESM import can use`, { hint: `give '${subpath}' an "import" or "default" target in ${manifestPath}` });
    }
    // Node requires exports targets to be relative URLs starting with './' (package-relative).
    if (!target.startsWith('./')) {
      throw loadError(specifier, `the "exports" target '${target}' for '${subpath}' in ${manifestPath} must start with './'`, {
        expected: 'a target like ./dist/index.js',
        actual: JSON.stringify(target),
      });
    }
    const file = packageFile(specifier, folder, '"exports" target', target);
    if (!existsSync(file)) throw loadError(specifier, `its "exports" points at '${file}', which does not exist`, { hint: 'build the plugin package first' });
    if (!statSync(file).isFile()) throw loadError(specifier, `its "exports" points at '${file}', which is not a file`);
    return inRealFolder(specifier, folder, '"exports" target', target, file);
  }
  if (subpath !== '.') {
    const base = packageFile(specifier, folder, 'subpath', subpath);
    const file = firstExisting([base, base + '.js', join(base, 'index.js')]);
    if (!file) throw loadError(specifier, `no file for '${subpath}' in '${folder}'`);
    return inRealFolder(specifier, folder, 'subpath', subpath, file);
  }
  const main = manifest.main ?? 'index.js';
  if (typeof main !== 'string' || main === '') {
    throw loadError(specifier, `the "main" field of ${manifestPath} must be a non-empty string`, { expected: 'a path like ./dist/index.js', actual: describeValue(main) });
  }
  const mainFile = packageFile(specifier, folder, '"main"', main);
  const file = firstExisting([mainFile, mainFile + '.js', join(mainFile, 'index.js')]);
  if (!file) throw loadError(specifier, `its entry point '${main}' does not exist in '${folder}'`, { hint: 'build the plugin package first' });
  return inRealFolder(specifier, folder, '"main"', main, file);
}

/** The file to import for `specifier` (a path, or a package name looked up in node_modules from `cwd`). */
export function resolvePluginFile(specifier: string, cwd: string): string {
  if (isPathSpecifier(specifier)) {
    const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(cwd, specifier);
    if (!existsSync(path)) throw loadError(specifier, `'${path}' does not exist`);
    if (statSync(path).isDirectory()) {
      if (existsSync(join(path, 'package.json'))) return packageEntry(specifier, path, '.');
      const index = firstExisting([join(path, 'index.js'), join(path, 'index.mjs')]);
      if (!index) throw loadError(specifier, `the folder '${path}' has neither a package.json nor an index.js`);
      return index;
    }
    return path;
  }
  const parts = splitPackageSpecifier(specifier);
  if (!parts) throw loadError(specifier, 'it is neither a path (./x, /x) nor a package name');
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const folder = join(dir, 'node_modules', parts.name);
    if (existsSync(join(folder, 'package.json'))) return packageEntry(specifier, folder, parts.subpath);
    if (dirname(dir) === dir) break;
  }
  throw loadError(specifier, `package '${parts.name}' is not installed where '${resolve(cwd)}' can see it`, {
    hint: `install it (npm install ${parts.name}) or give a path to the plugin`,
  });
}

/**
 * Loads a plugin by npm package name (resolved from `cwd`) or by path (a file, or a folder with a
 * package.json), with a dynamic `import()`. Takes the default export or an export named `plugin`,
 * checks that it came from `definePlugin` and that its `passManager` range accepts this version.
 * Registers nothing: hand the result to `PassEnvironment.use`. The plugin's `@modelpass/*` imports
 * resolve to this program's copies when its folder lacks them or lists them as peer dependencies
 * (see `shareHostPackages`), so a plugin file works from any folder.
 */
export async function loadPlugin(specifier: string, options: LoadPluginOptions = {}): Promise<LoadedPlugin> {
  const cwd = options.cwd ?? process.cwd();
  // Like Node's own resolution, import through the real path (a linked package is one module).
  const path = realpathSync(resolvePluginFile(specifier, cwd));
  shareHostPackages(import.meta.url);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const required = requiredHostPackage(error);
    if (required) {
      // Node's ESM resolve hook (shareHostPackages) does not reach require(): a CommonJS plugin cannot get the host's copy.
      throw loadError(specifier, `importing '${path}' failed: its require('${required}') found no copy (the host shares its @modelpass packages with ES modules only)`, {
        cause: error,
        hint: `write the plugin as an ES module (an .mjs file, or "type": "module") that imports ${required}, or install ${required} beside it`,
      });
    }
    throw loadError(specifier, `importing '${path}' failed: ${message}`, { cause: error });
  }
  let value: unknown = module['default'] ?? module['plugin'];
  // A CommonJS module compiled from `export default` arrives as { default: { default: plugin } }.
  if (!isPlugin(value) && typeof value === 'object' && value !== null && isPlugin((value as Record<string, unknown>)['default'])) {
    value = (value as Record<string, unknown>)['default'];
  }
  if (!isPlugin(value)) {
    const got = value === undefined ? `nothing (the module has no default export and no 'plugin' export; its exports: ${Object.keys(module).join(', ') || 'none'})` : describeValue(value);
    const looksLikeOne = typeof value === 'object' && value !== null && 'name' in value && ('passes' in value || 'ops' in value);
    throw new ModelpassError({
      reason: `'${specifier}' is not a modelpass plugin: expected an object from definePlugin, got ${got}`,
      expected: 'export default definePlugin({ name, version, passManager, passes, ops })',
      source: '@modelpass/pass-manager',
      code: 'plugin/not-a-plugin',
      location: { file: path },
      ...(looksLikeOne ? { hint: "wrap the object in definePlugin(...) from '@modelpass/pass-manager'" } : {}),
    });
  }
  assertPluginCompatible(value);
  return Object.freeze({ plugin: value, specifier, path });
}
