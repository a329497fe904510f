/**
 * Checks on what a tarball really ships (an unpacked `package/` folder), for what a user's tools
 * follow from it: source maps (stack traces, "go to definition") and `exports` conditions (a
 * bundler or TypeScript with a custom condition such as `source`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/** Unpacks `tarball` into `destination` and returns the folder holding its files (`package/`). */
export function unpackTarball(tarball, destination) {
  mkdirSync(destination, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', destination], { stdio: ['ignore', 'ignore', 'pipe'] });
  return join(destination, 'package');
}

/** Every file under `root`, as a set of `/`-separated paths relative to it. */
export function listFiles(root) {
  const files = new Set();
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.add(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return files;
}

/** `target` (relative to the file `from`) as a package-relative path, or null when it leaves the package. */
function resolveInside(from, target) {
  const resolved = posix.normalize(posix.join(posix.dirname(from), target));
  return resolved.startsWith('../') || resolved === '..' || posix.isAbsolute(resolved) ? null : resolved;
}

/**
 * For every shipped `.map`, each `sources` entry (joined to `sourceRoot`) and its `file` must be
 * shipped, unless the map embeds the text (`sourcesContent`); every `sourceMappingURL` comment
 * of a shipped `.js`/`.d.ts` must name a shipped map. Returns one line per problem.
 */
export function unresolvedSourceMaps(root, files = listFiles(root)) {
  const problems = [];
  for (const file of [...files].sort()) {
    if (file.endsWith('.map')) {
      let map;
      try {
        map = JSON.parse(readFileSync(join(root, file), 'utf8'));
      } catch (error) {
        problems.push(`${file}: not a JSON source map (${error.message})`);
        continue;
      }
      if (!Array.isArray(map.sources)) {
        problems.push(`${file}: has no "sources" array`);
        continue;
      }
      map.sources.forEach((source, index) => {
        if (typeof map.sourcesContent?.[index] === 'string') return;
        if (/^[a-z][a-z0-9+.-]*:/i.test(source)) {
          problems.push(`${file}: source ${source} is a URL, not a file in the tarball`);
          return;
        }
        const resolved = resolveInside(file, posix.join(map.sourceRoot ?? '', source));
        if (resolved === null) problems.push(`${file}: source ${source} points outside the package`);
        else if (!files.has(resolved)) problems.push(`${file}: source ${source} (${resolved}) is not in the tarball`);
      });
      if (typeof map.file === 'string') {
        const generated = resolveInside(file, map.file);
        if (generated === null || !files.has(generated)) problems.push(`${file}: its "file" ${map.file} is not in the tarball`);
      }
    } else if (/\.(?:[cm]?js|d\.[cm]?ts)$/.test(file)) {
      const text = readFileSync(join(root, file), 'utf8');
      const match = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text);
      if (!match || match[1].startsWith('data:')) continue;
      const resolved = resolveInside(file, decodeURIComponent(match[1]));
      if (resolved === null || !files.has(resolved)) problems.push(`${file}: sourceMappingURL ${match[1]} is not in the tarball`);
    }
  }
  return problems;
}

/** Regular expression for an `exports` target holding one `*` (a subpath pattern). */
function patternRegExp(target) {
  const [head, tail] = target.slice(2).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${head}.+${tail}$`);
}

/**
 * Every target of every `exports` condition (nested conditions and fallback arrays included),
 * and `main`, `types`/`typings`, `module` and each `bin`, names a shipped file (a `*` pattern: at
 * least one). Returns one line per problem, naming the subpath and the condition path.
 */
export function missingManifestTargets(manifest, files) {
  const problems = [];
  const check = (where, target) => {
    if (target === null) return; // an excluded subpath
    if (typeof target !== 'string') {
      problems.push(`${where}: expected a path string, got ${JSON.stringify(target)}`);
      return;
    }
    if (!target.startsWith('./')) {
      problems.push(`${where}: ${target} does not start with ./`);
      return;
    }
    if (target.includes('*')) {
      const pattern = patternRegExp(target);
      if (![...files].some((file) => pattern.test(file))) problems.push(`${where}: ${target} matches no file in the tarball`);
    } else if (!files.has(posix.normalize(target))) problems.push(`${where}: ${target} is not in the tarball`);
  };
  const walk = (where, value) => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(`${where}[${index}]`, item));
    else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(`${where}.${key}`, inner);
    else check(where, value);
  };
  const { exports } = manifest;
  if (exports !== undefined) {
    const isSubpathMap = exports !== null && typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith('.'));
    if (isSubpathMap) for (const [subpath, value] of Object.entries(exports)) walk(`exports['${subpath}']`, value);
    else walk(`exports['.']`, exports);
  }
  for (const field of ['main', 'module', 'types', 'typings']) {
    if (typeof manifest[field] === 'string') check(field, manifest[field].startsWith('./') ? manifest[field] : `./${manifest[field]}`);
  }
  const bins = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, target] of Object.entries(bins)) check(`bin.${name}`, target.startsWith('./') ? target : `./${target}`);
  return problems;
}

/**
 * Shipped entries of `dist/` and `src/` that are tests or test data: `__tests__/` folders,
 * `*.test.*`/`*.spec.*` files and their maps/declarations. (Other folders are left alone: the
 * scaffold's `templates/` ships a test template on purpose.)
 */
export function shippedTests(files) {
  return [...files].filter((file) => /^(?:dist|src)\//.test(file) && /\/__tests__\/|\.(?:test|spec)\.(?:[cm]?[jt]sx?|d\.[cm]?ts)(?:\.map)?$/.test(file)).sort();
}
