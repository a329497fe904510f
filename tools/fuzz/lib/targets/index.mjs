/** The parsers the fuzzer knows, by `--parser` name. */
import { mpirTarget } from './mpir.mjs';
import { npyTarget } from './npy.mjs';
import { onnxFileTarget } from './onnx-file.mjs';
import { onnxTarget } from './onnx.mjs';
import { pipelineTarget } from './pipeline.mjs';
import { pluginManifestTarget } from './plugin-manifest.mjs';
import { tensorProtoTarget } from './tensor-proto.mjs';
import { torchscriptTarget } from './torchscript.mjs';

export const TARGETS = new Map(
  [onnxTarget, onnxFileTarget, mpirTarget, pipelineTarget, npyTarget, tensorProtoTarget, pluginManifestTarget, torchscriptTarget].map((t) => [t.name, t]),
);

export const PARSER_NAMES = [...TARGETS.keys()];

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
