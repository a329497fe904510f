/**
 * `--engine` on `compare` and `eval` names one engine for every model, but each engine loads only
 * some formats: a file no engine of that name can load is refused up front, naming the file, its
 * format and what runs it — instead of the runtime's own failure (ONNX Runtime's "Protobuf parsing
 * failed" on a .tflite, TFLite's "not a valid Flatbuffer buffer" on an .onnx, a Python traceback
 * from torch.jit.load, or "no reference kernel" for a TFLite op).
 */
import { UsageError } from './usage-error.js';

/** Formats (by `ModelFormat.name`) an engine cannot load; absent: it loads every format. */
const REFUSED_FORMATS: Readonly<Record<string, readonly string[]>> = {
  ort: ['tflite'],
  reference: ['tflite'],
  tflite: ['onnx', 'torchscript'],
  torch: ['onnx', 'tflite', 'mpir'],
};

const DEFAULT_RUNTIME: Readonly<Record<string, string>> = {
  onnx: 'ONNX Runtime (ort)',
  tflite: 'the TFLite runtime (tflite)',
  torchscript: 'torch',
  mpir: 'ONNX Runtime (ort)',
};

const FORMAT_WORDS: Readonly<Record<string, string>> = {
  onnx: 'an ONNX model',
  tflite: 'a TFLite model',
  torchscript: 'a TorchScript archive',
  mpir: 'a textual IR (.mpir) model',
};

/** Throws a usage error when `engine` cannot load the file `path` of format `format`. */
export function checkEngineLoads(engine: string | undefined, format: string, path: string): void {
  if (engine === undefined || !REFUSED_FORMATS[engine]?.includes(format)) return;
  throw new UsageError(
    `--engine ${engine} cannot run '${path}': it is ${FORMAT_WORDS[format] ?? `a ${format} model`}, which ${DEFAULT_RUNTIME[format] ?? 'another engine'} runs; ` +
      'leave --engine out to run each model on its own runtime, or convert the file first (modelpass convert)',
  );
}
