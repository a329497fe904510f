/**
 * Plugin manifests, validated without importing any code:
 * - `definePlugin` → `definePlugin(value)`, `assertPluginCompatible`, `PassEnvironment.use`
 *   (the shape and version checks a loaded plugin goes through);
 * - `plugins.json` → `replayReproducer` on a scratch reproducer folder. Records never carry a
 *   `path` or `specifier` (the harness strips them), so replay cannot import anything;
 * - `package.json` → `resolvePluginFile` of a scratch plugin package (exports / main resolution).
 *   Property: the file it resolves lies inside the package folder (Node refuses exports targets
 *   outside it).
 * Input text: `<kind>\n<json>`; the JSON is sometimes mutated at the token level.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { printModel } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { PassEnvironment, assertPluginCompatible, definePlugin, isPlugin, replayReproducer, resolvePluginFile } from '@modelpass/pass-manager';
import { MANIFEST_KINDS, generatePluginManifest } from '../generate-plugin-manifest.mjs';
import { mutateText } from '../mutate-text.mjs';
import { PropertyViolation } from '../property.mjs';
import { scratchFolder } from '../scratch.mjs';
import { CONFORMANCE_DATA, REPO_ROOT } from '../seeds.mjs';

const JSON_TOKENS = ['{', '}', '[', ']', ',', ':', '"name"', '"version"', '"passManager"', '"exports"', '"main"', '"."', '"import"', '"default"', 'null', 'true', '0', '-1', '1e999', '"__proto__"', '"constructor"'];

/** The reproducer's input.mpir: a one-node conformance model (or a fixture model without the data). */
function reproducerModel() {
  const small = join(CONFORMANCE_DATA, 'node', 'test_add', 'model.onnx');
  const file = existsSync(small) ? small : join(REPO_ROOT, 'fixtures', 'models', 'fashion-mlp', 'model.onnx');
  return printModel(decodeOnnx(readFileSync(file)));
}

function stripLoadable(value) {
  // Replay imports a record's `path` or `specifier`; the fuzzer must never make it import code.
  if (Array.isArray(value)) {
    for (const record of value) {
      if (typeof record === 'object' && record !== null) {
        delete record.path;
        delete record.specifier;
      }
    }
  }
  return value;
}

export const pluginManifestTarget = {
  name: 'plugin-manifest',
  extension: 'txt',
  inputKind: 'text',
  setup(options) {
    const dir = mkdtempSync(join(scratchFolder(options), 'plugin-'));
    const reproducer = join(dir, 'reproducer');
    mkdirSync(reproducer);
    writeFileSync(join(reproducer, 'input.mpir'), reproducerModel());
    writeFileSync(join(reproducer, 'pipeline.txt'), '');
    const project = join(dir, 'project');
    const pluginFolder = join(project, 'node_modules', 'fuzz-plugin');
    mkdirSync(join(pluginFolder, 'dist'), { recursive: true });
    mkdirSync(join(pluginFolder, 'dir'), { recursive: true });
    writeFileSync(join(pluginFolder, 'index.js'), '');
    writeFileSync(join(pluginFolder, 'dist', 'index.js'), '');
    writeFileSync(join(pluginFolder, 'dir', 'index.js'), '');
    const environment = new PassEnvironment();
    environment.use(definePlugin({ name: 'my-plugin', version: '1.0.0', passManager: '*' }));
    return { reproducer, project, pluginFolder, environment };
  },
  generate(rng) {
    const text = generatePluginManifest(rng);
    if (rng.chance(0.75)) return text;
    const newline = text.indexOf('\n');
    return text.slice(0, newline + 1) + mutateText(rng, text.slice(newline + 1), JSON_TOKENS);
  },
  async parse(input, state) {
    const newline = input.indexOf('\n');
    const kind = input.slice(0, newline);
    const json = input.slice(newline + 1);
    if (kind === 'definePlugin') {
      let value;
      try {
        value = JSON.parse(json);
      } catch {
        return { kind, skipped: true }; // JSON.parse is not ours; definePlugin takes values
      }
      const plugin = definePlugin(value);
      assertPluginCompatible(plugin);
      state.environment.clone().use(plugin);
      return { kind, plugin };
    }
    if (kind === 'plugins.json') {
      let text = json;
      try {
        text = JSON.stringify(stripLoadable(JSON.parse(json)));
      } catch {
        // Not JSON: replay must say so itself.
      }
      writeFileSync(join(state.reproducer, 'plugins.json'), text);
      await replayReproducer(state.reproducer, { environment: state.environment, cwd: state.project });
      return { kind };
    }
    if (kind === 'package.json') {
      writeFileSync(join(state.pluginFolder, 'package.json'), json);
      return { kind, file: resolvePluginFile(specifierFor(json), state.project) };
    }
    return { kind, skipped: !MANIFEST_KINDS.includes(kind) };
  },
  check(result, input, state) {
    if (result.kind === 'definePlugin' && result.plugin && (!isPlugin(result.plugin) || !Object.isFrozen(result.plugin))) {
      throw new PropertyViolation('plugin-shape', 'definePlugin returned something that is not a frozen plugin');
    }
    if (result.kind === 'package.json' && !result.file.startsWith(state.pluginFolder + sep)) {
      throw new PropertyViolation('plugin-resolves-inside-package', `resolvePluginFile gave a file that is not inside the package folder: ${result.file.replace(state.pluginFolder, '<package>')}`);
    }
  },
};

/** `fuzz-plugin` or, when the manifest has a './sub' export, sometimes `fuzz-plugin/sub`. */
function specifierFor(json) {
  return json.includes('"./sub"') && json.length % 2 === 0 ? 'fuzz-plugin/sub' : 'fuzz-plugin';
}
