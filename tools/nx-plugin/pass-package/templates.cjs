'use strict';
/**
 * The files of a new pass package, as functions of the names. Plain strings (no template engine):
 * `@nx/devkit` is not a dependency of this workspace, so the generator writes through the `tree`
 * nx hands it.
 */

/** `strip-identity` → `stripIdentity`. */
function camelCase(kebab) {
  return kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function packageJson({ packageName, name }) {
  const pkg = {
    name: packageName,
    version: '0.1.0',
    description: `The ${name} pass for modelpass, as a plugin: removes Identity nodes (replace with your transformation)`,
    type: 'module',
    license: 'Apache-2.0',
    keywords: ['modelpass', 'modelpass-plugin'],
    exports: {
      '.': { source: './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md'],
    scripts: { build: 'tsc -b', test: 'vitest run' },
    dependencies: { '@modelpass/ir': '0.1.0', '@modelpass/pass-manager': '0.1.0' },
    devDependencies: { '@modelpass/ops': '0.1.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function tsconfigJson({ rootPrefix }) {
  const config = {
    extends: `${rootPrefix}/tsconfig.base.json`,
    compilerOptions: { rootDir: 'src', outDir: 'dist' },
    include: ['src'],
    exclude: ['src/**/__tests__/**'],
    references: [{ path: `${rootPrefix}/packages/ir` }, { path: `${rootPrefix}/packages/pass-manager` }],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function vitestConfig({ rootPrefix }) {
  return `export { default } from '${rootPrefix}/vitest.shared.js';\n`;
}

function indexTs({ name, packageName }) {
  const pass = `${camelCase(name)}Pass`;
  return `import type { Node, Value } from '@modelpass/ir';
import { definePass, definePlugin, option } from '@modelpass/pass-manager';

/**
 * Makes an Identity node disappear: its readers read its input instead. A graph output keeps its
 * name (the input value takes it over), so the model's interface does not change; when that is not
 * possible (the input is a graph input or output itself) the node stays. Returns whether it went.
 */
function removeIdentity(node: Node): boolean {
  const input = node.inputs[0];
  const output = node.outputs[0];
  if (!input || !output) return false;
  if (!output.isGraphOutput) {
    output.replaceAllUsesWith(input);
    node.erase();
    return true;
  }
  if (!canTakeOverName(input, output)) return false;
  const name = output.name;
  output.replaceAllUsesWith(input);
  node.erase(); // frees the name
  input.rename(name);
  if (input.type.kind === 'unknown') input.type = output.type;
  return true;
}

function canTakeOverName(value: Value, output: Value): boolean {
  return value.graph === output.graph && value.producer !== null && !value.isGraphOutput && !value.isGraphInput;
}

/**
 * TODO: replace with your transformation. As generated, it removes \`onnx.Identity\` nodes (subgraphs
 * included), which shows the parts every pass has: an option, a statistic, and telling the pass
 * manager whether anything changed.
 */
export const ${pass} = definePass({
  name: '${name}',
  summary: 'Remove Identity nodes (generated example: replace with your transformation)',
  options: {
    keep: option.list(option.string({}), { default: [], help: 'names of Identity nodes to keep' }),
  },
  statistics: ['identities-removed'],
  run(model, context) {
    const keep = new Set(context.options.keep);
    let removed = 0;
    for (const node of [...model.graph.allNodes()]) {
      if (node.op !== 'onnx.Identity' || keep.has(node.name)) continue;
      if (removeIdentity(node)) removed++;
      else context.debug(\`${name}: kept '\${node.name}': its output is a graph output that cannot be renamed\`);
    }
    context.statistic('identities-removed', removed);
    return removed > 0 ? context.preserveNone() : context.preserveAll();
  },
});

/** The plugin: \`modelpass convert … --plugin ${packageName} --pipeline '${name}'\`. Importing registers nothing. */
const plugin = definePlugin({
  name: '${packageName}',
  version: '0.1.0',
  passManager: '^0.1.0',
  passes: [${pass}],
});

export default plugin;
`;
}

function testTs({ name, packageName }) {
  const pass = `${camelCase(name)}Pass`;
  return `import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel, printModel } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, passStep, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { describe, expect, it } from 'vitest';
// The package's own source, so the test runs before \`npm install\` links the new workspace;
// other packages import it as '${packageName}'.
import plugin, { ${pass} } from '../index.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

function environment(): PassEnvironment {
  return new PassEnvironment({ ops: createOpRegistry() }).use(plugin);
}

async function run(input: string, options: Record<string, unknown>) {
  const model = parseModel(input);
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: environment(), instrumentations: [statistics] }).run(model, [passStep(${pass}, options)]);
  return { output: printModel(model), statistics: statistics.toJSON()['${name}'] ?? {} };
}

describe('${name}: golden fixtures (fixtures/<case>/{input.mpir, output.mpir, options.json})', () => {
  const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const { name: caseName } of cases) {
    it(caseName, async () => {
      const dir = join(FIXTURES, caseName);
      const options = JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) as Record<string, unknown>;
      const { output } = await run(readFileSync(join(dir, 'input.mpir'), 'utf8'), options);
      expect(output).toBe(printModel(parseModel(readFileSync(join(dir, 'output.mpir'), 'utf8'))));
    });
  }
});

describe('${name}', () => {
  it('is registered by the plugin and reachable from pipeline text', async () => {
    expect(environment().passes.has('${name}')).toBe(true);
    const model = parseModel(readFileSync(join(FIXTURES, 'basic/input.mpir'), 'utf8'));
    const result = await new PassManager({ environment: environment() }).run(model, '${name}');
    expect(result.changed).toBe(true);
  });

  it('counts what it removed and honours its option', async () => {
    const input = readFileSync(join(FIXTURES, 'basic/input.mpir'), 'utf8');
    expect((await run(input, {})).statistics).toEqual({ 'identities-removed': 2 });
    const kept = await run(input, { keep: ['id_a'] });
    expect(kept.statistics).toEqual({ 'identities-removed': 1 });
    expect(kept.output).toContain('onnx.Identity');
  });
});
`;
}

const FIXTURE_INPUT = `model opsets{onnx=17} {
graph @main(%x: float32[2,3]) {
  %a: float32[2,3] = onnx.Identity(%x) name="id_a"
  %r: float32[2,3] = onnx.Relu(%a) name="relu"
  %y: float32[2,3] = onnx.Identity(%r) name="id_out"
  return %y
}
}
`;

const FIXTURE_OUTPUT = `model opsets{onnx=17} {
graph @main(%x: float32[2,3]) {
  %y: float32[2,3] = onnx.Relu(%x) name="relu"
  return %y
}
}
`;

function readme({ name, packageName, directory }) {
  const pass = `${camelCase(name)}Pass`;
  return `# ${packageName}

The \`${name}\` pass for modelpass, published as a plugin. As generated it removes \`onnx.Identity\`
nodes; replace \`${pass}\` in \`src/index.ts\` with your transformation and its fixtures with yours.

\`\`\`sh
modelpass convert model.onnx -o out.onnx --plugin ${packageName} --pipeline 'canonicalize,${name},dce'
\`\`\`

In code:

\`\`\`ts
import plugin, { ${pass} } from '${packageName}';
environment.use(plugin);                                  // or: passStep(${pass}, { keep: ['id_a'] })
await new PassManager({ environment }).run(model, '${name}{keep=[id_a]}');
\`\`\`

## Options

| option | default | meaning |
|---|---|---|
| \`keep\` | \`[]\` | names of Identity nodes to keep |

Statistics: \`identities-removed\`.

## Tests

\`cd ${directory} && npx vitest run\`: every \`fixtures/<case>/\` runs \`input.mpir\` through the pass with the
options in \`options.json\` (camelCase keys, as \`passStep\` takes them) and must print as \`output.mpir\`.
Add a case per behaviour (a new folder, no code). Build with \`npx tsc -b\`; run \`npm install\` once
at the repository root so other workspace packages can import \`${packageName}\`.
`;
}

function changeset({ packageName, name }) {
  return `---
"${packageName}": minor
---

New package ${packageName}: the \`${name}\` pass as a modelpass plugin (generated by \`nx g @modelpass/nx-plugin:pass-package\`).
`;
}

module.exports = { camelCase, packageJson, tsconfigJson, vitestConfig, indexTs, testTs, readme, changeset, FIXTURE_INPUT, FIXTURE_OUTPUT };
