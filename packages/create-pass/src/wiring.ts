import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ScaffoldError } from './scaffold-error.js';

/** The modelpass packages a generated pass package installs (the first three directly, ops through testing). */
export const MODELPASS_PACKAGES = ['@modelpass/ir', '@modelpass/pass-manager', '@modelpass/testing', '@modelpass/ops'] as const;
export type ModelpassPackage = (typeof MODELPASS_PACKAGES)[number];

/**
 * How the generated package gets `@modelpass/*`: published versions from the registry, or tarballs
 * of a local modelpass (a checkout packed with `npm pack`, or a folder of such tarballs) copied into
 * the package's `vendor/` folder and referenced as `file:` specs (plus `overrides`, so the packages'
 * dependencies on each other resolve to the same tarballs).
 */
export type Wiring =
  | { readonly kind: 'registry'; readonly range: string }
  | { readonly kind: 'local'; readonly source: string; readonly specs: Readonly<Record<ModelpassPackage, string>> }
  /** A package inside the modelpass monorepo itself: workspace versions, the shared tsconfig and vitest settings. */
  | { readonly kind: 'workspace'; readonly version: string; readonly rootPrefix: string };

export const VENDOR_FOLDER = 'vendor';

const shortName = (name: ModelpassPackage): string => name.slice('@modelpass/'.length);

function isCheckout(folder: string): boolean {
  return existsSync(join(folder, 'packages', 'pass-manager', 'package.json'));
}

/** Under `npm create`/`npm exec`, npm passes its project settings down (npm_config_local_prefix, npm_package_*); the packing npm must not inherit them. */
function withoutNpmScriptSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_(package_|lifecycle_|config_local_prefix$|config_workspaces?$)/i.test(key)));
}

/** `npm pack`s each package of a built checkout into `vendor`; returns package name → tarball file name. */
function packCheckout(checkout: string, vendor: string): Record<ModelpassPackage, string> {
  const folders = MODELPASS_PACKAGES.map((name) => {
    const folder = join(checkout, 'packages', shortName(name));
    const manifest = join(folder, 'package.json');
    if (!existsSync(manifest)) throw new ScaffoldError(`the modelpass checkout '${checkout}' has no ${name} (expected ${manifest})`, { hint: 'point --modelpass at a newer checkout' });
    if (!existsSync(join(folder, 'dist', 'index.js'))) {
      throw new ScaffoldError(`${name} in '${checkout}' is not built (no dist/index.js)`, { hint: `build the checkout first: cd ${checkout} && npm run build` });
    }
    return folder;
  });
  let output: string;
  try {
    output = execFileSync('npm', ['pack', ...folders, '--pack-destination', vendor, '--json', '--ignore-scripts', '--silent'], {
      cwd: vendor,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: withoutNpmScriptSettings(process.env),
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new ScaffoldError(`npm pack failed for the packages of '${checkout}': ${stderr.trim() || String(error)}`, { cause: error });
  }
  const packed = JSON.parse(output) as Array<{ name: string; filename: string }>;
  const files = {} as Record<ModelpassPackage, string>;
  for (const name of MODELPASS_PACKAGES) {
    const entry = packed.find((item) => item.name === name);
    if (!entry) throw new ScaffoldError(`npm pack did not report a tarball for ${name}`);
    files[name] = basename(entry.filename.replace(/^@/, '').replace('/', '-'));
  }
  return files;
}

/** Copies `modelpass-<pkg>-<version>.tgz` for each package from a folder of tarballs into `vendor`. */
function copyTarballs(folder: string, vendor: string): Record<ModelpassPackage, string> {
  const available = readdirSync(folder).filter((file) => file.endsWith('.tgz'));
  const files = {} as Record<ModelpassPackage, string>;
  for (const name of MODELPASS_PACKAGES) {
    const pattern = new RegExp(`^modelpass-${shortName(name)}-\\d+\\.\\d+\\.\\d+.*\\.tgz$`);
    const matches = available.filter((file) => pattern.test(file)).sort();
    if (matches.length === 0) {
      throw new ScaffoldError(`'${folder}' has no tarball for ${name}`, { expected: `modelpass-${shortName(name)}-<version>.tgz (from npm pack)`, hint: 'or point --modelpass at a built modelpass checkout' });
    }
    const file = matches[matches.length - 1]!;
    copyFileSync(join(folder, file), join(vendor, file));
    files[name] = file;
  }
  return files;
}

/** Local wiring from `source` (a built checkout or a folder of tarballs), writing tarballs into `<packageDir>/vendor`. */
export function localWiring(source: string, packageDir: string): Wiring {
  const folder = resolve(source);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new ScaffoldError(`--modelpass '${source}' is not a folder`, { expected: 'a modelpass checkout or a folder of npm pack tarballs' });
  const vendor = join(packageDir, VENDOR_FOLDER);
  mkdirSync(vendor, { recursive: true });
  const files = isCheckout(folder) ? packCheckout(folder, vendor) : copyTarballs(folder, vendor);
  const specs = Object.fromEntries(MODELPASS_PACKAGES.map((name) => [name, `file:${VENDOR_FOLDER}/${files[name]}`])) as Record<ModelpassPackage, string>;
  return { kind: 'local', source: folder, specs };
}

/** This scaffold's own version: a published scaffold wires the matching `^version` of the packages. */
export function ownVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export function registryWiring(version = ownVersion()): Wiring {
  return { kind: 'registry', range: `^${version}` };
}

/** For a package `depth` folders below the monorepo's root (e.g. 2 for packages/pass-x). */
export function workspaceWiring(depth: number, version = ownVersion()): Wiring {
  return { kind: 'workspace', version, rootPrefix: Array.from({ length: depth }, () => '..').join('/') };
}
