import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, type Stats, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkPackageName, checkPassName, defaultPackageName } from './names.js';
import { renderPassPackage } from './render.js';
import { ScaffoldError } from './scaffold-error.js';
import { localWiring, ownVersion, registryWiring, type Wiring } from './wiring.js';

export interface ScaffoldOptions {
  /** The pass name, kebab-case (`strip-identity`). */
  readonly name: string;
  /** Where the package goes (default `./<name>` under `cwd`); must not exist or be empty. */
  readonly directory?: string;
  /** The npm package name (default `modelpass-plugin-<name>`). */
  readonly packageName?: string;
  /**
   * A local modelpass to install from instead of the registry: a built checkout (its packages are
   * `npm pack`ed) or a folder of `npm pack` tarballs. They are copied into `vendor/`.
   */
  readonly modelpass?: string;
  readonly cwd?: string;
}

export interface ScaffoldResult {
  readonly directory: string;
  readonly packageName: string;
  /** Relative paths of the files written (vendored tarballs included). */
  readonly files: readonly string[];
  readonly wiring: Wiring;
}

function listRelative(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listRelative(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/**
 * Writes a pass package: `src/index.ts` (definePass + definePlugin), a golden case per behaviour
 * under `fixtures/<name>/`, a vitest test through `@modelpass/testing`'s harness, package.json
 * (peer dependencies on ir and pass-manager), tsconfig.json, README.md, .gitignore. Everything is
 * staged in a sibling folder and renamed into place, so a failure leaves nothing behind.
 */
export function scaffoldPassPackage(options: ScaffoldOptions): ScaffoldResult {
  checkPassName(options.name);
  const packageName = options.packageName ?? defaultPackageName(options.name);
  checkPackageName(packageName);
  const directory = resolve(options.cwd ?? process.cwd(), options.directory ?? options.name);
  const existing = lstatIfAny(directory);
  if (existing?.isSymbolicLink()) {
    // The package is renamed into place, which a link (dangling or not) would turn into ENOTDIR.
    throw new ScaffoldError(`'${directory}' is a symbolic link (to '${readlinkSync(directory)}'), not a folder`, {
      hint: 'give --directory the folder itself, or another name',
    });
  }
  if (existing && !existing.isDirectory()) {
    throw new ScaffoldError(`'${directory}' already exists and is a file, not a folder`, { hint: 'pick another name or --directory' });
  }
  if (existing && readdirSync(directory).length > 0) {
    throw new ScaffoldError(`'${directory}' already exists and is not an empty folder`, { hint: 'pick another name or --directory' });
  }
  if (!existsSync(dirname(directory))) throw new ScaffoldError(`the parent folder of '${directory}' does not exist`);
  const staging = join(dirname(directory), `.${basename(directory)}.create-pass-${process.pid}`);
  mkdirSync(staging);
  try {
    const range = `^${ownVersion()}`;
    const wiring = options.modelpass !== undefined ? localWiring(options.modelpass, staging) : registryWiring();
    for (const [path, text] of renderPassPackage({ name: options.name, packageName, range, wiring })) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), text);
    }
    if (existsSync(directory)) rmdirSync(directory);
    renameSync(staging, directory);
    return { directory, packageName, files: listRelative(directory).sort(), wiring };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
