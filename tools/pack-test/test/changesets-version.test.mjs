/**
 * A release as `changeset version` makes it, in a temporary copy of the repository's manifests:
 * a minor change to @modelpass/pass-manager moves every @modelpass package to one new version (the
 * `fixed` group of .changeset/config.json), rewrites the internal dependencies, writes changelogs,
 * and moves the example plugin's peer range with it — and the plugin, which reads its
 * `passManager` range from that peer range, then passes the pass manager's compatibility check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { assertPluginCompatible } from '@modelpass/pass-manager';
import { publishablePackages, REPO_ROOT, userEnvironment } from '../lib/packages.mjs';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-changesets-')));
after(() => rmSync(temp, { recursive: true, force: true }));

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const PLUGIN = 'examples/plugin-activations';
const current = readJson(join(REPO_ROOT, 'packages/pass-manager/package.json')).version;
const [major, minor] = current.split('.').map(Number);
const next = `${major}.${minor + 1}.0`;

/** Every workspace folder named by the root package.json (globs of the form `dir/*` or plain folders). */
function workspaceFolders() {
  return readJson(join(REPO_ROOT, 'package.json')).workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(REPO_ROOT, pattern.slice(0, -2)), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern],
  ).filter((folder) => existsSync(join(REPO_ROOT, folder, 'package.json')));
}

const copyInto = (relative) => {
  mkdirSync(dirname(join(temp, relative)), { recursive: true });
  cpSync(join(REPO_ROOT, relative), join(temp, relative), { recursive: true });
};

let versionRun;
before(() => {
  copyInto('package.json');
  copyInto('.changeset/config.json');
  for (const folder of workspaceFolders()) copyInto(`${folder}/package.json`);
  copyInto(`${PLUGIN}/dist`);
  // The copied plugin imports @modelpass/* from the repository's node_modules.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(temp, 'node_modules'), 'dir');
  writeFileSync(join(temp, '.changeset/pipeline-anchor.md'), '---\n"@modelpass/pass-manager": minor\n---\n\nA new pipeline anchor.\n');
  versionRun = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: temp, encoding: 'utf8', env: userEnvironment() });
});

test('changeset version succeeds and consumes the changeset', () => {
  assert.equal(versionRun.status, 0, versionRun.stdout + versionRun.stderr);
  assert.equal(existsSync(join(temp, '.changeset/pipeline-anchor.md')), false);
});

test(`every publishable package moves to ${next} together, internal dependencies with it`, () => {
  for (const item of publishablePackages(temp)) {
    assert.equal(item.version, next, item.name);
    for (const [name, range] of Object.entries({ ...item.manifest.dependencies, ...item.manifest.devDependencies })) {
      if (name.startsWith('@modelpass/')) assert.equal(range, next, `${item.name} → ${name}`);
    }
  }
});

test('each publishable package gets a changelog; the pass manager\'s has the change under Minor Changes', () => {
  for (const item of publishablePackages(temp)) {
    const changelog = readFileSync(join(item.folder, 'CHANGELOG.md'), 'utf8');
    assert.match(changelog, new RegExp(`^# ${item.name}\\n\\n## ${next.replaceAll('.', '\\.')}\\n`), item.name);
  }
  const passManager = readFileSync(join(temp, 'packages/pass-manager/CHANGELOG.md'), 'utf8');
  assert.match(passManager, /### Minor Changes\n\n- A new pipeline anchor\.\n/);
});

test('the example plugin\'s peer range moves, and the plugin (reading it) is compatible with the new pass manager', async () => {
  const manifest = readJson(join(temp, PLUGIN, 'package.json'));
  assert.equal(manifest.peerDependencies['@modelpass/pass-manager'], `^${next}`);
  const { default: bumped } = await import(pathToFileURL(join(temp, PLUGIN, 'dist/index.js')).href);
  assert.equal(bumped.passManager, `^${next}`);
  assert.doesNotThrow(() => assertPluginCompatible(bumped, next));
  // The plugin as it is in the repository today declares the old range: the new pass manager refuses it.
  const { default: today } = await import(pathToFileURL(join(REPO_ROOT, PLUGIN, 'dist/index.js')).href);
  assert.throws(() => assertPluginCompatible(today, next), new RegExp(`requires @modelpass/pass-manager \\^${current.replaceAll('.', '\\.')}, but this is ${next.replaceAll('.', '\\.')}`));
});
