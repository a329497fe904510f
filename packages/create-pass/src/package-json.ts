import { MODELPASS_PACKAGES, type ModelpassPackage, type Wiring } from './wiring.js';

/** The toolchain a generated package builds and tests with (the versions modelpass itself uses). */
export const TOOLCHAIN = { typescript: '^5.9.3', vitest: '^4.1.12', '@types/node': '^20.19.0' } as const;

export interface ManifestInput {
  readonly name: string;
  readonly packageName: string;
  /** The `@modelpass/*` version range the plugin supports (peer dependencies, `passManager`). */
  readonly range: string;
  readonly wiring: Wiring;
}

const DIRECT: readonly ModelpassPackage[] = ['@modelpass/ir', '@modelpass/pass-manager', '@modelpass/testing'];

/** package.json of a generated pass package: peer dependencies on ir and pass-manager, dev dependencies to build and test. */
export function packageManifest({ name, packageName, range, wiring }: ManifestInput): string {
  const spec = (pkg: ModelpassPackage): string => (wiring.kind === 'local' ? wiring.specs[pkg] : range);
  const manifest: Record<string, unknown> = {
    name: packageName,
    version: '0.1.0',
    description: `The ${name} pass for modelpass, as a plugin`,
    type: 'module',
    license: 'Apache-2.0',
    keywords: ['modelpass', 'modelpass-plugin'],
    exports: {
      '.': { types: './dist/index.d.ts', import: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md'],
    scripts: { build: 'tsc -p tsconfig.json', test: 'vitest run', prepublishOnly: 'npm run build && npm test' },
    peerDependencies: { '@modelpass/ir': range, '@modelpass/pass-manager': range },
    devDependencies: {
      ...Object.fromEntries(DIRECT.map((pkg) => [pkg, spec(pkg)])),
      ...TOOLCHAIN,
    },
  };
  // Local tarballs depend on each other by version, which no registry has yet: point them at the tarballs too.
  if (wiring.kind === 'local') manifest['overrides'] = Object.fromEntries(MODELPASS_PACKAGES.map((pkg) => [pkg, spec(pkg)]));
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
