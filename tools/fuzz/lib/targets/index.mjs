/** The parsers the fuzzer knows, by `--parser` name. */
import { mpirTarget } from './mpir.mjs';
import { npyTarget } from './npy.mjs';
import { onnxFileTarget } from './onnx-file.mjs';
import { onnxTarget } from './onnx.mjs';
import { passesTarget } from './passes.mjs';
import { pipelineTarget } from './pipeline.mjs';
import { pluginManifestTarget } from './plugin-manifest.mjs';
import { tensorProtoTarget } from './tensor-proto.mjs';
import { torchscriptTarget } from './torchscript.mjs';

const PARSERS = [onnxTarget, onnxFileTarget, mpirTarget, pipelineTarget, npyTarget, tensorProtoTarget, pluginManifestTarget, torchscriptTarget];

/** Every target by `--parser` name: the parsers, and the `passes` mode (valid models mutated, then the pipelines). */
export const TARGETS = new Map([...PARSERS, passesTarget].map((t) => [t.name, t]));

/** The parsers (what `--parser all` runs); the passes mode is run by name. */
export const PARSER_NAMES = PARSERS.map((t) => t.name);

/**
 * Adds the targets exported (as `targets`, an array) by each module URL — how the harness's own
 * tests bring targets that crash, hang or allocate on purpose into a worker.
 */
export async function registerTargetModules(urls = []) {
  for (const url of urls) {
    const module = await import(url);
    for (const target of module.targets ?? []) TARGETS.set(target.name, target);
  }
}
