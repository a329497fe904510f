/**
 * The publishable packages of this repository (every `packages/*` whose package.json is not
 * private) and `npm pack` of them into one folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** @returns {{ name: string, version: string, folder: string, manifest: Record<string, any> }[]} */
export function publishablePackages(root = REPO_ROOT) {
  const packagesFolder = join(root, 'packages');
  return readdirSync(packagesFolder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesFolder, entry.name, 'package.json')))
    .map((entry) => {
      const folder = join(packagesFolder, entry.name);
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
      return { name: manifest.name, version: manifest.version, folder, manifest };
    })
    .filter((item) => item.manifest.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The environment of a user's shell: under `npm test`, npm sets npm_config_local_prefix,
 * npm_package_* and friends, which would point a child npm at this repository.
 */
export function userEnvironment(extra = {}) {
  const kept = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_nodedir']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !(key.toLowerCase().startsWith('npm_') && !kept.has(key.toLowerCase())) && key !== 'INIT_CWD'),
  );
  // onnxruntime-node's install script downloads CUDA libraries; the CPU build is in its tarball.
  // node-gyp (the TFLite runtime's optional binding) uses Debian's Node headers instead of downloading them.
  const headers = !env.npm_config_nodedir && existsSync('/usr/include/node/node.h') ? { npm_config_nodedir: '/usr' } : {};
  return { ...env, ...headers, ONNXRUNTIME_NODE_INSTALL: 'skip', NO_COLOR: '1', ...extra };
}

/**
 * `npm pack`s the given packages (which must be built: each needs its dist/index.js) into
 * `destination`; returns package name → absolute tarball path.
 */
export function packPackages(packages, destination) {
  for (const item of packages) {
    if (!existsSync(join(item.folder, 'dist', 'index.js'))) {
      throw new Error(`${item.name} is not built (no ${join(item.folder, 'dist', 'index.js')}); run npm run build first`);
    }
  }
  const output = execFileSync('npm', ['pack', ...packages.map((item) => item.folder), '--pack-destination', destination, '--json', '--ignore-scripts', '--silent'], {
    cwd: destination,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: userEnvironment(),
  });
  const packed = JSON.parse(output);
  const tarballs = new Map();
  for (const item of packages) {
    const entry = packed.find((candidate) => candidate.name === item.name);
    if (!entry) throw new Error(`npm pack reported no tarball for ${item.name}`);
    tarballs.set(item.name, join(destination, basename(entry.filename.replace(/^@/, '').replace('/', '-'))));
  }
  return tarballs;
}
