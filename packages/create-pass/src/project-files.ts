import { MODELPASS_PACKAGES, type ModelpassPackage, type Wiring } from './wiring.js';

/** The toolchain a standalone pass package builds and tests with (the versions modelpass itself uses). */
export const TOOLCHAIN = { typescript: '^5.9.3', vitest: '^4.1.12', '@types/node': '^20.19.0' } as const;

export interface ManifestInput {
  readonly name: string;
  readonly packageName: string;
  /** The `@modelpass/*` version range the plugin supports (peer dependencies, `passManager`). */
  readonly range: string;
  readonly wiring: Wiring;
}

const DIRECT: readonly ModelpassPackage[] = ['@modelpass/ir', '@modelpass/pass-manager', '@modelpass/testing'];

function devSpec(wiring: Wiring, range: string, pkg: ModelpassPackage): string {
  if (wiring.kind === 'local') return wiring.specs[pkg];
  if (wiring.kind === 'workspace') return wiring.version;
  return range;
}

/** package.json: peer dependencies on ir and pass-manager, dev dependencies to build and test. */
export function packageManifest({ name, packageName, range, wiring }: ManifestInput): string {
  const inWorkspace = wiring.kind === 'workspace';
  const manifest: Record<string, unknown> = {
    name: packageName,
    version: '0.1.0',
    description: `The ${name} pass for modelpass, as a plugin`,
    type: 'module',
    license: 'Apache-2.0',
    keywords: ['modelpass', 'modelpass-plugin'],
    exports: {
      // Inside the monorepo, vitest reads sources through the "source" condition like every package there.
      '.': { ...(inWorkspace ? { source: './src/index.ts' } : {}), types: './dist/index.d.ts', import: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md'],
    scripts: inWorkspace
      ? { build: 'tsc -b', test: 'vitest run' }
      : { build: 'tsc -p tsconfig.json', test: 'vitest run', prepublishOnly: 'npm run build && npm test' },
    peerDependencies: { '@modelpass/ir': range, '@modelpass/pass-manager': range },
    devDependencies: {
      ...Object.fromEntries(DIRECT.map((pkg) => [pkg, devSpec(wiring, range, pkg)])),
      ...(inWorkspace ? {} : TOOLCHAIN),
    },
  };
  // Local tarballs depend on each other by version, which no registry has yet: point them at the tarballs too.
  if (wiring.kind === 'local') manifest['overrides'] = Object.fromEntries(MODELPASS_PACKAGES.map((pkg) => [pkg, devSpec(wiring, range, pkg)]));
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const STANDALONE_COMPILER_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  declaration: true,
  sourceMap: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  types: ['node'],
};

/** tsconfig.json: self-contained, or (in the monorepo) extending its base config with project references. */
export function tsconfigJson(wiring: Wiring): string {
  const common = { include: ['src'], exclude: ['src/**/__tests__/**'] };
  const config =
    wiring.kind === 'workspace'
      ? {
          extends: `${wiring.rootPrefix}/tsconfig.base.json`,
          compilerOptions: { rootDir: 'src', outDir: 'dist' },
          ...common,
          references: [{ path: `${wiring.rootPrefix}/packages/ir` }, { path: `${wiring.rootPrefix}/packages/pass-manager` }],
        }
      : { compilerOptions: { ...STANDALONE_COMPILER_OPTIONS, rootDir: 'src', outDir: 'dist' }, ...common };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** vitest.config.ts for a package in the monorepo (the shared settings); standalone packages use vitest's defaults. */
export function vitestConfig(wiring: Wiring): string | undefined {
  return wiring.kind === 'workspace' ? `export { default } from '${wiring.rootPrefix}/vitest.shared.js';\n` : undefined;
}
