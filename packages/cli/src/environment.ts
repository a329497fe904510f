import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, shareHostPackages } from '@modelpass/pass-manager';
import { prunePasses } from '@modelpass/prune';
import { quantizePasses } from '@modelpass/quantize';
import { registerTfliteDialect, tflitePasses } from '@modelpass/tflite';
import { distillPasses, trainPasses } from '@modelpass/train';
import { transformPasses } from '@modelpass/transforms';
import type { CliIO } from './cli-io.js';
import { loadPluginFile } from './plugin-files.js';

/** The built-in passes and the canonical op set. */
export function builtinEnvironment(): PassEnvironment {
  // The canonical op set plus the tflite dialect (what legalize-tflite writes and raise-tflite reads).
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(prunePasses, '@modelpass/prune');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  environment.passes.register(trainPasses, '@modelpass/train');
  environment.passes.register(distillPasses, '@modelpass/train');
  return environment;
}

/** The built-in environment plus the plugins named by `--plugin` (package names or paths, resolved from cwd). */
export async function environmentWithPlugins(plugins: readonly string[], io: CliIO): Promise<PassEnvironment> {
  const environment = builtinEnvironment();
  // A plugin in any folder imports @modelpass/* and gets the copies this CLI runs on.
  if (plugins.length > 0) shareHostPackages(import.meta.url);
  for (const specifier of plugins) await loadPluginFile(environment, specifier, io.cwd);
  return environment;
}
