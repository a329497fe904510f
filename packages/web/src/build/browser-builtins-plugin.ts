/**
 * The esbuild plugin that keeps Node out of the browser bundle. The core packages import a few
 * Node built-ins for their file-backed features (lazy file ranges, atomic writes, IR dumps, plugin
 * loading); the page never uses those, so each allowed built-in resolves to a small browser module
 * in `src/browser-builtins/` (path arithmetic, SHA-256, size limits; the rest throws naming the
 * function). Any other built-in, and onnxruntime-node, fails the build naming the importer.
 */
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

/** Built-in → its browser module (relative to src/browser-builtins/). */
export const BROWSER_BUILTINS: Readonly<Record<string, string>> = {
  'node:fs': 'fs.ts',
  'node:path': 'path.ts',
  'node:buffer': 'buffer.ts',
  'node:crypto': 'crypto.ts',
  'node:module': 'module.ts',
  'node:url': 'url.ts',
};

/** Packages that must never reach the page (native code). */
export const FORBIDDEN_PACKAGES: readonly string[] = ['onnxruntime-node', 'onnxruntime-common', 'tfjs-tflite-node'];

const BUILTIN_NAMES = /^(node:)?(assert|async_hooks|buffer|child_process|cluster|console|crypto|dgram|dns|events|fs|fs\/promises|http|http2|https|inspector|module|net|os|path|perf_hooks|process|querystring|readline|stream|string_decoder|timers|tls|tty|url|util|v8|vm|worker_threads|zlib)$/;

export interface BuiltinUse {
  /** Built-in name (`node:fs`) → files (relative to the workspace) that import it. */
  readonly importers: Map<string, Set<string>>;
}

export function browserBuiltinsPlugin(builtinsDir: URL, workspaceRoot: string, uses: BuiltinUse): Plugin {
  return {
    name: 'modelpass-browser-builtins',
    setup(build) {
      const ownModules = fileURLToPath(builtinsDir);
      build.onResolve({ filter: BUILTIN_NAMES }, (args) => {
        // The browser modules themselves import npm's `buffer`: resolve that normally.
        if (args.importer.startsWith(ownModules) && !args.path.startsWith('node:')) return undefined;
        const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
        const importer = args.importer.startsWith(workspaceRoot) ? args.importer.slice(workspaceRoot.length + 1) : args.importer;
        const target = BROWSER_BUILTINS[name];
        if (target === undefined) {
          return { errors: [{ text: `${name} has no browser module (imported by ${importer}); the page must not reach it` }] };
        }
        const set = uses.importers.get(name) ?? new Set<string>();
        set.add(importer);
        uses.importers.set(name, set);
        return { path: fileURLToPath(new URL(target, builtinsDir)) };
      });
      const forbidden = new RegExp(`^(${FORBIDDEN_PACKAGES.map((p) => p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})(/|$)`);
      build.onResolve({ filter: forbidden }, (args) => ({
        errors: [{ text: `${args.path} is native code and must not be in the browser bundle (imported by ${args.importer})` }],
      }));
    },
  };
}
