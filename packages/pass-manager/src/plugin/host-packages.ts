import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelpassError } from '@modelpass/ir';
import type { HostPackagesHookData } from './host-packages-hook.js';

const shared = new Set<string>();

/** The compiled hook beside this file; undefined when running from TypeScript sources (vitest, tsx). */
function hookUrl(): URL | undefined {
  const url = new URL('./host-packages-hook.js', import.meta.url);
  return import.meta.url.endsWith('.js') && existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * Makes `import '@modelpass/…'` in plugins resolve to the copies that the program at `hostUrl` (a
 * file URL or path inside it, usually `import.meta.url`) uses, so a plugin file in any folder works
 * and a plugin's peer dependency gets the host's very module instance. Registers a Node resolve hook
 * (`module.register`) once per host location; loads no plugin code. `loadPlugin` calls it for the
 * pass manager's own location; a CLI or embedder can add its own location first.
 *
 * Rules: a package that the importer's package.json lists in `peerDependencies` always comes from
 * the host (when the host has it); anything else comes from the importer's own `node_modules` when
 * it has the package, and from the host only when it does not. Only bare `@modelpass/*` specifiers
 * are touched, and only Node's ESM loader sees the hook (not `require`, not bundlers or vitest).
 * Returns false when hooks cannot apply here (running from TypeScript sources).
 */
export function shareHostPackages(hostUrl: string | URL): boolean {
  const host = typeof hostUrl === 'string' && !hostUrl.startsWith('file:') ? pathToFileURL(hostUrl).href : String(hostUrl);
  if (shared.has(host)) return true;
  const hook = hookUrl();
  if (hook === undefined) return false;
  const register = (nodeModule as { register?: (specifier: string | URL, options: { data: HostPackagesHookData }) => void }).register;
  if (typeof register !== 'function') {
    throw new ModelpassError({
      reason: `plugins need Node's module.register (Node 20.6 or later) to import @modelpass packages; this is Node ${process.versions.node}`,
      source: '@modelpass/pass-manager',
      code: 'plugin/node-version',
      hint: 'upgrade Node to 20.19 or later',
    });
  }
  register(hook, { data: { hostUrl: host } });
  shared.add(host);
  return true;
}
