import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { resolvePluginFile } from '@modelpass/pass-manager';

const temp = mkdtempSync(join(tmpdir(), 'pm-plugin-symlink-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A project with node_modules/linked-plugin whose package.json is `manifest`; `outside.js` lies beside the project. */
function project(name: string, manifest: object): { root: string; folder: string; outside: string } {
  const root = join(temp, name);
  const folder = join(root, 'node_modules', 'linked-plugin');
  mkdirSync(join(folder, 'dist'), { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify(manifest));
  const outside = join(temp, `${name}-outside.js`);
  writeFileSync(outside, 'export default {};');
  return { root, folder, outside };
}

function refusal(specifier: string, cwd: string): ModelpassError {
  try {
    resolvePluginFile(specifier, cwd);
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`${specifier} resolved`);
}

describe('a plugin package whose entry is a symbolic link out of its folder (QA s20 H)', () => {
  it('refuses "main", "exports" and a subpath that link out, naming the link target', () => {
    const main = project('main', { main: 'dist/index.js' });
    symlinkSync(main.outside, join(main.folder, 'dist', 'index.js'));
    expect(refusal('linked-plugin', main.root).reason).toBe(
      `cannot load plugin 'linked-plugin': its "main" 'dist/index.js' is a symbolic link to '${main.outside}', outside the package folder '${main.folder}'`,
    );
    const exported = project('exports', { exports: './dist/index.js' });
    symlinkSync(exported.outside, join(exported.folder, 'dist', 'index.js'));
    expect(refusal('linked-plugin', exported.root).reason).toMatch(/its "exports" target '\.\/dist\/index\.js' is a symbolic link to/);
    const sub = project('subpath', { main: 'dist/index.js' });
    symlinkSync(sub.outside, join(sub.folder, 'dist', 'extra.js'));
    expect(refusal('linked-plugin/dist/extra.js', sub.root).reason).toMatch(/its subpath '\.\/dist\/extra\.js' is a symbolic link to/);
  });

  it('still resolves a package folder that is itself a link (npm workspaces, pnpm) and a link inside the package', () => {
    const root = join(temp, 'workspace');
    const real = join(root, 'packages', 'plugin');
    mkdirSync(join(real, 'dist'), { recursive: true });
    writeFileSync(join(real, 'package.json'), JSON.stringify({ main: 'dist/entry.js' }));
    writeFileSync(join(real, 'dist', 'index.js'), 'export default {};');
    symlinkSync('index.js', join(real, 'dist', 'entry.js'));
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(real, join(root, 'node_modules', 'linked-plugin'));
    expect(resolvePluginFile('linked-plugin', root)).toBe(join(root, 'node_modules', 'linked-plugin', 'dist', 'entry.js'));
  });
});
