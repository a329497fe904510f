/**
 * Builds the browser page: esbuild bundles the engine (`src/page/engine-worker.ts`: the
 * pure-TypeScript core — ir, ops, onnx, pass-manager, transforms, the runtime's reference entry)
 * and the UI (`src/page/main.ts`, which imports no core module) into two scripts, inlined into one
 * HTML file that opens from `file://` with no network. The UI runs the engine in a Web Worker made
 * from the inert `<script type="text/plain" id="engine-source">`. A Content-Security-Policy allows
 * only the UI script (by hash), blob: workers, and nothing else.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { ModelpassError } from '@modelpass/ir';
import { browserBuiltinsPlugin, type BuiltinUse } from './browser-builtins-plugin.js';
import { pageHtml } from './page-html.js';

export interface WebPageBuild {
  /** The page, one self-contained HTML document. */
  readonly html: string;
  /** Bytes of the engine script (the core) and of the UI script. */
  readonly engineScriptBytes: number;
  readonly uiScriptBytes: number;
  /** Every source file in the engine bundle, relative to the workspace root. */
  readonly inputs: readonly string[];
  /** Every source file in the UI bundle (only `packages/web/src/page/`). */
  readonly uiInputs: readonly string[];
  /** Node built-ins the core imports → the files importing them (each served by a browser module). */
  readonly builtins: Readonly<Record<string, readonly string[]>>;
}

export interface BuildWebPageOptions {
  /** Minify the scripts (default true). */
  readonly minify?: boolean;
}

// src/build and dist/build both sit two levels below the package root.
const PACKAGE_ROOT = new URL('../../', import.meta.url);
const WORKSPACE_ROOT = fileURLToPath(new URL('../../', PACKAGE_ROOT)).replace(/\/$/, '');
const PAGE_DIR = fileURLToPath(new URL('src/page/', PACKAGE_ROOT));

function passManagerPackage(): { name: string; version: string } {
  const require = createRequire(import.meta.url);
  const json = JSON.parse(readFileSync(require.resolve('@modelpass/pass-manager/package.json'), 'utf8')) as { name: string; version: string };
  return { name: json.name, version: json.version };
}

/** The UI must stay small: it may import its own folder and type-only modules, nothing else. */
const uiOnlyPlugin: Plugin = {
  name: 'modelpass-ui-only',
  setup(b) {
    b.onResolve({ filter: /^[^.]/ }, (args) => (args.kind === 'entry-point' ? undefined : { errors: [{ text: `the page UI imports ${args.path} (${args.importer}); only the engine worker may import the core` }] }));
  },
};

async function bundle(entry: string, options: BuildOptions): Promise<{ text: string; inputs: string[] }> {
  let result;
  try {
    result = await build({
      entryPoints: [fileURLToPath(new URL(entry, PACKAGE_ROOT))],
      absWorkingDir: WORKSPACE_ROOT,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      // Workspace packages resolve to their TypeScript sources, as in the tests.
      conditions: ['source'],
      legalComments: 'eof',
      charset: 'utf8',
      logLevel: 'silent',
      ...options,
    });
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    throw new ModelpassError({
      reason: `the browser page did not build (${entry}): ${errors.map((e) => `${e.text}${e.location ? ` (${e.location.file}:${e.location.line})` : ''}`).join('; ') || String(error)}`,
      source: '@modelpass/web',
      cause: error,
    });
  }
  const text = result.outputFiles![0]!.text;
  if (/<\/script|<!--/i.test(text)) {
    throw new ModelpassError({ reason: `the bundle of ${entry} contains '</script' or '<!--' and cannot be inlined`, source: '@modelpass/web' });
  }
  return { text, inputs: Object.keys(result.metafile!.inputs).sort() };
}

export async function buildWebPage(options: BuildWebPageOptions = {}): Promise<WebPageBuild> {
  const uses: BuiltinUse = { importers: new Map() };
  const minify = options.minify ?? true;
  const engine = await bundle('src/page/engine-worker.ts', {
    minify,
    define: { __MODELPASS_PASS_MANAGER_PACKAGE__: JSON.stringify(passManagerPackage()) },
    inject: [fileURLToPath(new URL('src/browser-builtins/globals.ts', PACKAGE_ROOT))],
    plugins: [browserBuiltinsPlugin(new URL('src/browser-builtins/', PACKAGE_ROOT), WORKSPACE_ROOT, uses)],
  });
  const ui = await bundle('src/page/main.ts', { minify, plugins: [uiOnlyPlugin] });
  const outside = ui.inputs.filter((file) => !`${WORKSPACE_ROOT}/${file}`.startsWith(PAGE_DIR));
  if (outside.length > 0) throw new ModelpassError({ reason: `the page UI bundles ${outside.join(', ')}; only the engine worker may`, source: '@modelpass/web' });
  const uiHash = `'sha256-${createHash('sha256').update(ui.text, 'utf8').digest('base64')}'`;
  return {
    html: pageHtml({ ui: ui.text, uiHash, engine: engine.text }),
    engineScriptBytes: Buffer.byteLength(engine.text),
    uiScriptBytes: Buffer.byteLength(ui.text),
    inputs: engine.inputs,
    uiInputs: ui.inputs,
    builtins: Object.fromEntries([...uses.importers].map(([name, files]) => [name, [...files].sort()])),
  };
}
