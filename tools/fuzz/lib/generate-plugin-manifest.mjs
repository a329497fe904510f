/**
 * Plugin manifests as JSON text, three kinds (the first line of each input names it):
 * - `definePlugin`: the object a plugin hands to `definePlugin` (name, version, passManager range,
 *   passes/ops/patterns arrays) — values only, never code;
 * - `plugins.json`: a crash reproducer's list of plugin records `{ name, version, specifier?, path? }`;
 * - `package.json`: a plugin package's manifest (`exports`, `main`) as the plugin resolver reads it.
 */

const NAMES = ['my-plugin', '@scope/plugin', '@scope/', '@', '', 'UPPER', 'a'.repeat(300), '../x', 'x/y/z', '__proto__', 'constructor', 'é', 'with space', '-lead', '.hidden', 'node:fs', 'file:///etc', '\u0000'];
const VERSIONS = ['1.0.0', '0.1.0', '0.0.0', 'v1.2.3', '1.2', '1', '1.2.3-alpha.1', '1.2.3+build', '1.2.3-', '01.2.3', '9007199254740993.0.0', '1.2.3-alpha..1', '', ' 1.0.0 ', 'latest', '1.0.0.0', '99999999999999999999.0.0'];
const RANGES = ['^0.1.0', '~0.1', '>=0.1.0 <1', '0.x', '*', '', 'x', '^0.1.0 || ^1', '||', '>=', '> 0.1.0', '=0.1.0', '<=0.1.0-0', '^', '~', '1.2.3 - 2.3.4', '^0.1.0-rc.1', 'v0.1.0', '>=1.2.3-alpha.1.beta', '^99999999999999999999.0.0', '0.1.0 0.2.0', '   ', '^0.1.0||', 'latest', '1.x.x', '1.*.3', 'X.X.X', '^0.0.x', '~0', '<0.0.0-0'];
const KEYS = ['name', 'version', 'passManager', 'passes', 'ops', 'patterns', 'description', 'kind', '__proto__', 'constructor', 'specifier', 'path', 'exports', 'main', 'module', 'type'];

function scalar(rng, depth) {
  return rng.weighted([
    [3, () => rng.pick(NAMES)],
    [3, () => rng.pick(VERSIONS)],
    [3, () => rng.pick(RANGES)],
    [1, () => rng.range(-5, 5)],
    [1, () => rng.pick([1e308, -0, 0.5, 2 ** 53 + 2])],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => (depth > 0 ? randomValue(rng, depth - 1) : [])],
  ])();
}

function randomValue(rng, depth) {
  if (depth <= 0 || rng.chance(0.5)) return scalar(rng, depth);
  if (rng.chance(0.5)) return Array.from({ length: rng.smallSize(4) }, () => randomValue(rng, depth - 1));
  const obj = {};
  for (let i = rng.smallSize(4); i > 0; i--) obj[rng.pick(KEYS)] = randomValue(rng, depth - 1);
  return obj;
}

function pluginDefinition(rng) {
  const def = {};
  if (rng.chance(0.95)) def.name = rng.chance(0.7) ? 'my-plugin' : rng.chance(0.5) ? rng.pick(NAMES) : scalar(rng, 1);
  if (rng.chance(0.95)) def.version = rng.chance(0.7) ? rng.pick(VERSIONS) : scalar(rng, 1);
  if (rng.chance(0.95)) def.passManager = rng.chance(0.8) ? rng.pick(RANGES) : scalar(rng, 1);
  if (rng.chance(0.3)) def.passes = rng.chance(0.7) ? [] : randomValue(rng, 2);
  if (rng.chance(0.3)) def.ops = rng.chance(0.5) ? [{ op: 'x.Y' }] : randomValue(rng, 2);
  if (rng.chance(0.3)) def.patterns = rng.chance(0.5) ? [] : randomValue(rng, 2);
  if (rng.chance(0.1)) def.description = randomValue(rng, 1);
  if (rng.chance(0.05)) return rng.chance(0.5) ? randomValue(rng, 3) : [def];
  return def;
}

function pluginRecords(rng) {
  const n = rng.smallSize(4);
  const records = [];
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.1)) {
      records.push(scalar(rng, 1));
      continue;
    }
    const record = {};
    if (rng.chance(0.9)) record.name = rng.chance(0.6) ? rng.pick(NAMES) : scalar(rng, 1);
    if (rng.chance(0.9)) record.version = rng.pick(VERSIONS);
    if (rng.chance(0.2)) record.note = randomValue(rng, 2);
    records.push(record);
  }
  return rng.chance(0.05) ? randomValue(rng, 2) : records;
}

function packageManifest(rng) {
  const manifest = { name: rng.pick(NAMES), version: rng.pick(VERSIONS) };
  const target = () => rng.pick(['./index.js', './dist/index.js', 'index.js', './missing.js', '../outside.js', '/etc/hostname', './', '', './dir', 'dir']);
  const conditions = () => {
    const obj = {};
    for (let i = rng.smallSize(3); i >= 0; i--) obj[rng.pick(['import', 'node', 'default', 'require', 'types', 'browser'])] = rng.chance(0.8) ? target() : conditions0(rng, target);
    return obj;
  };
  const shape = rng.below(6);
  if (shape === 0) manifest.exports = target();
  else if (shape === 1) manifest.exports = { '.': rng.chance(0.5) ? target() : conditions(), './sub': target() };
  else if (shape === 2) manifest.exports = conditions();
  else if (shape === 3) manifest.exports = Array.from({ length: rng.smallSize(3) }, () => (rng.chance(0.5) ? target() : conditions()));
  else if (shape === 4) manifest.main = rng.chance(0.8) ? target() : scalar(rng, 1);
  else manifest.exports = randomValue(rng, 3);
  return manifest;
}

function conditions0(rng, target) {
  return rng.chance(0.5) ? [target(), target()] : { default: target() };
}

export const MANIFEST_KINDS = ['definePlugin', 'plugins.json', 'package.json'];

/** A manifest input: `<kind>\n<json text>`. */
export function generatePluginManifest(rng) {
  const kind = rng.pick(MANIFEST_KINDS);
  const value = kind === 'definePlugin' ? pluginDefinition(rng) : kind === 'plugins.json' ? pluginRecords(rng) : packageManifest(rng);
  return `${kind}\n${JSON.stringify(value, null, rng.chance(0.5) ? 2 : 0)}`;
}
