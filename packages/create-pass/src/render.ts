import { camelCase, checkPackageName, checkPassName } from './names.js';
import { packageManifest, tsconfigJson, vitestConfig } from './project-files.js';
import { renderTemplates } from './templates.js';
import type { Wiring } from './wiring.js';

export interface RenderOptions {
  /** The pass name, kebab-case. */
  readonly name: string;
  readonly packageName: string;
  readonly wiring: Wiring;
  /** The `@modelpass/*` range the plugin supports (peer dependencies and `passManager`). */
  readonly range: string;
}

function dependencyNote(wiring: Wiring, range: string): string {
  const peers = `\`@modelpass/ir\` and \`@modelpass/pass-manager\` are peer dependencies (${range}): the program that loads the plugin provides them.`;
  if (wiring.kind === 'registry') return `${peers} The dev dependencies build and test it.`;
  if (wiring.kind === 'workspace') return `${peers} Inside the modelpass monorepo the dev dependencies are its workspace packages; run \`npm install\` at the root once to link this one.`;
  return [
    peers,
    `For building and testing, this package installs modelpass from the tarballs in \`vendor/\`, packed from \`${wiring.source}\` by \`create-pass --modelpass\``,
    '(`file:` dev dependencies plus `overrides`, so the packages find each other). Once modelpass is published, replace them with',
    `\`${range}\` and delete \`vendor/\` and \`overrides\`.`,
  ].join('\n');
}

/**
 * The files of a pass package, relative path → contents, written nowhere: the template tree
 * (src/index.ts, the golden test, fixtures/<name>/…, README.md, .gitignore) plus package.json,
 * tsconfig.json and (in the monorepo) vitest.config.ts for the wiring. `create-pass` writes them
 * to disk; the monorepo's nx generator writes them into nx's tree.
 */
export function renderPassPackage(options: RenderOptions): Map<string, string> {
  checkPassName(options.name);
  checkPackageName(options.packageName);
  const files = renderTemplates({
    name: options.name,
    camelName: camelCase(options.name),
    packageName: options.packageName,
    passManagerRange: options.range,
    pluginSpecifier: options.packageName,
    dependencyNote: dependencyNote(options.wiring, options.range),
  });
  files.set('package.json', packageManifest(options));
  files.set('tsconfig.json', tsconfigJson(options.wiring));
  const vitest = vitestConfig(options.wiring);
  if (vitest !== undefined) files.set('vitest.config.ts', vitest);
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}
