'use strict';
/**
 * `nx g @modelpass/nx-plugin:pass-package <name> [--directory=…] [--packageName=…]`: scaffolds a
 * pass package (definePass + definePlugin, a golden-fixture test, a README and a changeset).
 *
 * Plain CommonJS without `@nx/devkit`: nx `require`s this file and calls the default export with
 * its virtual file tree (`tree.write/read/exists/children/isFile`, `tree.root`) and the options.
 * Nothing touches the disk until nx commits the tree (so `--dry-run` works).
 */
const path = require('node:path');
const templates = require('./templates.cjs');

const PASS_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/;

/** Checks the options and fills in the defaults. Throws an Error naming the bad option. */
function normalizeOptions(options) {
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!PASS_NAME.test(name)) {
    throw new Error(`pass-package: name '${options.name}' must be a kebab-case pass name (lowercase words joined by '-'), e.g. strip-doc-strings`);
  }
  const packageName = options.packageName || `@modelpass/pass-${name}`;
  if (!PACKAGE_NAME.test(packageName)) throw new Error(`pass-package: packageName '${packageName}' is not an npm package name`);
  const directory = path.posix.normalize((options.directory || `packages/pass-${name}`).replace(/\\/g, '/')).replace(/\/$/, '');
  if (directory.startsWith('..') || path.posix.isAbsolute(directory) || directory === '.') {
    throw new Error(`pass-package: directory '${options.directory}' must be a folder inside the workspace, e.g. packages/pass-${name}`);
  }
  // From the package folder back to the workspace root, for tsconfig/vitest paths.
  const rootPrefix = directory.split('/').map(() => '..').join('/');
  return { name, packageName, directory, rootPrefix };
}

/** The files to write, workspace-relative path → content. */
function passPackageFiles(options) {
  const o = normalizeOptions(options);
  const at = (file) => `${o.directory}/${file}`;
  return {
    options: o,
    files: {
      [at('package.json')]: templates.packageJson(o),
      [at('tsconfig.json')]: templates.tsconfigJson(o),
      [at('vitest.config.ts')]: templates.vitestConfig(o),
      [at('src/index.ts')]: templates.indexTs(o),
      [at(`src/__tests__/${o.name}.test.ts`)]: templates.testTs(o),
      [at('fixtures/basic/input.mpir')]: templates.FIXTURE_INPUT,
      [at('fixtures/basic/output.mpir')]: templates.FIXTURE_OUTPUT,
      [at('fixtures/basic/options.json')]: '{}\n',
      [at('README.md')]: templates.readme(o),
      [`.changeset/pass-${o.name}.md`]: templates.changeset(o),
    },
  };
}

function isNonEmptyFolder(tree, dir) {
  return tree.exists(dir) && !(typeof tree.isFile === 'function' && tree.isFile(dir)) && tree.children(dir).length > 0;
}

async function passPackageGenerator(tree, options) {
  const { options: o, files } = passPackageFiles(options);
  if (isNonEmptyFolder(tree, o.directory)) {
    throw new Error(`pass-package: ${o.directory} already exists and is not empty; choose another name or --directory`);
  }
  const changeset = `.changeset/pass-${o.name}.md`;
  if (tree.exists(changeset)) throw new Error(`pass-package: ${changeset} already exists`);
  for (const [file, content] of Object.entries(files)) tree.write(file, content);
  return () => {
    console.log(`\nCreated ${o.packageName} in ${o.directory}.`);
    console.log(`Next: npm install (links the workspace), then: cd ${o.directory} && npx tsc -b && npx vitest run`);
  };
}

module.exports = passPackageGenerator;
module.exports.default = passPackageGenerator;
module.exports.passPackageGenerator = passPackageGenerator;
module.exports.passPackageFiles = passPackageFiles;
module.exports.normalizeOptions = normalizeOptions;
