/**
 * Builds the browser page: bundles `src/page/main.ts` and the pure-TypeScript core it imports
 * (ir, ops, onnx, pass-manager, transforms, the runtime's reference entry) with esbuild into one
 * script, inlined with its stylesheet into one HTML file that opens from `file://` with no
 * network. A Content-Security-Policy allows only that script (by hash).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ModelpassError } from '@modelpass/ir';
import { browserBuiltinsPlugin, type BuiltinUse } from './browser-builtins-plugin.js';
import { pageHtml } from './page-html.js';

export interface WebPageBuild {
  /** The page, one self-contained HTML document. */
  readonly html: string;
  /** Bytes of the bundled script. */
  readonly scriptBytes: number;
  /** Every source file in the bundle, relative to the workspace root. */
  readonly inputs: readonly string[];
  /** Node built-ins the core imports → the files importing them (each served by a browser module). */
  readonly builtins: Readonly<Record<string, readonly string[]>>;
}

export interface BuildWebPageOptions {
  /** Minify the script (default true). */
  readonly minify?: boolean;
}

// src/build and dist/build both sit two levels below the package root.
const PACKAGE_ROOT = new URL('../../', import.meta.url);
const WORKSPACE_ROOT = fileURLToPath(new URL('../../', PACKAGE_ROOT)).replace(/\/$/, '');

function passManagerPackage(): { name: string; version: string } {
  const require = createRequire(import.meta.url);
  const json = JSON.parse(readFileSync(require.resolve('@modelpass/pass-manager/package.json'), 'utf8')) as { name: string; version: string };
  return { name: json.name, version: json.version };
}

export async function buildWebPage(options: BuildWebPageOptions = {}): Promise<WebPageBuild> {
  const uses: BuiltinUse = { importers: new Map() };
  let result;
  try {
    result = await build({
      entryPoints: [fileURLToPath(new URL('src/page/main.ts', PACKAGE_ROOT))],
      absWorkingDir: WORKSPACE_ROOT,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      // Workspace packages resolve to their TypeScript sources, as in the tests.
      conditions: ['source'],
      minify: options.minify ?? true,
      legalComments: 'eof',
      charset: 'utf8',
      logLevel: 'silent',
      define: { __MODELPASS_PASS_MANAGER_PACKAGE__: JSON.stringify(passManagerPackage()) },
      inject: [fileURLToPath(new URL('src/browser-builtins/globals.ts', PACKAGE_ROOT))],
      plugins: [browserBuiltinsPlugin(new URL('src/browser-builtins/', PACKAGE_ROOT), WORKSPACE_ROOT, uses)],
    });
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    throw new ModelpassError({
      reason: `the browser page did not build: ${errors.map((e) => `${e.text}${e.location ? ` (${e.location.file}:${e.location.line})` : ''}`).join('; ') || String(error)}`,
      source: '@modelpass/web',
      cause: error,
    });
  }
  const script = result.outputFiles[0]!.text;
  if (/<\/script|<!--/i.test(script)) {
    throw new ModelpassError({ reason: "the page script contains '</script' or '<!--' and cannot be inlined", source: '@modelpass/web' });
  }
  const scriptHash = `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
  return {
    html: pageHtml(script, scriptHash),
    scriptBytes: Buffer.byteLength(script),
    inputs: Object.keys(result.metafile.inputs).sort(),
    builtins: Object.fromEntries([...uses.importers].map(([name, files]) => [name, [...files].sort()])),
  };
}
