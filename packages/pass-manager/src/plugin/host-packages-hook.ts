/**
 * A Node module resolve hook (registered with `module.register` by `shareHostPackages`; it runs on
 * Node's loader thread, so it imports nothing of ours). It lets a plugin that lives anywhere import
 * `@modelpass/<package>` (and subpaths) and get the copy the host program (the CLI) itself uses:
 *
 * - the importer's nearest package.json lists the package in `peerDependencies` → the host's copy,
 *   even when the importer's own folder has one (a peer dependency means "the host's instance");
 * - otherwise Node's normal resolution first, and the host's copy only when that finds nothing
 *   (a plugin that bundles its own copy as a regular dependency keeps it).
 *
 * One registration serves one host location; each `register` call adds a link to Node's hook chain.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HostPackagesHookData {
  /** A file URL inside the host program: `@modelpass/*` resolves from here. */
  readonly hostUrl: string;
}

interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Record<string, string>;
}

interface ResolveResult {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}

type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;

const MODELPASS_SPECIFIER = /^(@modelpass\/[^/]+)(\/.*)?$/;

let hostUrl: string | undefined;

/** Nearest package.json's peerDependencies per folder (plugins are few; the cache stays small). */
const peerCache = new Map<string, ReadonlySet<string>>();

export function initialize(data: HostPackagesHookData): void {
  hostUrl = data.hostUrl;
}

function peersOf(folder: string): ReadonlySet<string> {
  const cached = peerCache.get(folder);
  if (cached) return cached;
  let peers: ReadonlySet<string>;
  let manifest: { peerDependencies?: Record<string, string> } | undefined;
  try {
    manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as typeof manifest;
  } catch {
    manifest = undefined; // no (readable) package.json here: look one folder up
  }
  if (manifest !== undefined) peers = new Set(Object.keys(manifest?.peerDependencies ?? {}));
  else peers = dirname(folder) === folder ? new Set() : peersOf(dirname(folder));
  peerCache.set(folder, peers);
  return peers;
}

function declaresPeer(parentUrl: string, packageName: string): boolean {
  if (!parentUrl.startsWith('file:')) return false;
  return peersOf(dirname(fileURLToPath(parentUrl))).has(packageName);
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<ResolveResult> {
  const match = MODELPASS_SPECIFIER.exec(specifier);
  const parentUrl = context.parentURL;
  if (!match || hostUrl === undefined || parentUrl === undefined || parentUrl === hostUrl) return nextResolve(specifier, context);
  const fromHost = (): Promise<ResolveResult> => nextResolve(specifier, { ...context, parentURL: hostUrl });
  if (declaresPeer(parentUrl, match[1]!)) {
    try {
      return await fromHost();
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return nextResolve(specifier, context); // the host lacks it: the plugin's own copy, if any
    }
  }
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      return await fromHost();
    } catch {
      throw error; // neither has it: report the plugin's own resolution failure
    }
  }
}
