/** The parsers the fuzzer knows, by `--parser` name. */
import { mpirTarget } from './mpir.mjs';
import { npyTarget } from './npy.mjs';
import { onnxFileTarget } from './onnx-file.mjs';
import { onnxTarget } from './onnx.mjs';
import { pipelineTarget } from './pipeline.mjs';
import { pluginManifestTarget } from './plugin-manifest.mjs';
import { tensorProtoTarget } from './tensor-proto.mjs';

export const TARGETS = new Map(
  [onnxTarget, onnxFileTarget, mpirTarget, pipelineTarget, npyTarget, tensorProtoTarget, pluginManifestTarget].map((t) => [t.name, t]),
);

export const PARSER_NAMES = [...TARGETS.keys()];
