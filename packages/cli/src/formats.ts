import { existsSync } from 'node:fs';
import { delimiter, extname } from 'node:path';
import { printModelToFile, readModelText, type DType, type Dim, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx, type ValueInfoPolicy } from '@modelpass/onnx';
import { assertNoTfliteOps, readTflite, writeTflite } from '@modelpass/tflite';
import { registerModelReader } from '@modelpass/runtime';
import { inlineModelFunctions } from '@modelpass/transforms';
import { assertNoAtenOps, readTorchScript, writeTorchScript, type TorchScriptInputSpec } from '@modelpass/torchscript';
import { UsageError } from './usage-error.js';

/** A model file format the CLI reads and writes, chosen by extension or `--from/--to`. */
export interface ModelFormat {
  readonly name: string;
  readonly extensions: readonly string[];
  read(path: string, options?: ModelReadOptions): Model | Promise<Model>;
  write(model: Model, path: string, options?: ModelWriteOptions): void | Promise<void>;
  /**
   * Pass that brings a model read in this format into canonical ops; convert runs it first when the
   * output format differs (`--no-legalize` turns that off).
   */
  readonly raisePass?: string;
  /** Pass that maps canonical ops to this format's dialect; convert runs it last when the input format differs. */
  readonly legalizePass?: string;
}

export interface ModelWriteOptions {
  /** ONNX only: which intermediate values get value_info (`--value-info`; default 'declared'). */
  readonly valueInfo?: ValueInfoPolicy;
  /** Bytes written so far of the weights' total (ONNX only; the CLI's progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ModelReadOptions {
  /**
   * Folders a `.mpir` input may read `file(...)` weights from besides its own folder (the
   * `--allow-read DIR` flag). Default: the folders listed in MODELPASS_ALLOW_READ (separated
   * like PATH), else none.
   */
  readonly allowRead?: readonly string[];
  /** Bytes read so far of the file's size (ONNX only; the CLI's progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Input shapes by input name (`--input-shape`). TorchScript needs them while importing (its
   * archives record none); convert checks and sets them on every other format's inputs after reading.
   */
  readonly inputShapes?: ReadonlyMap<string, readonly Dim[]>;
  /** TorchScript: input dtypes by name (default float32; `compare --inputs DIR` takes them from the files, e.g. silero's int64 `sr`). */
  readonly inputDtypes?: ReadonlyMap<string, DType>;
  /**
   * TorchScript: bind `inputShapes`/`inputDtypes` to forward's arguments by position, in this order of
   * names (`compare` of a .pt against a model whose input names differ: torch takes them by position).
   */
  readonly inputOrder?: readonly string[];
  /** TorchScript: values for non-tensor forward arguments (`--bind k=3`). */
  readonly bindings?: ReadonlyMap<string, number | boolean | string>;
  /** Told what a reader decided without being asked (TorchScript: an int/bool argument fixed at its default). */
  readonly onNote?: (note: string) => void;
}

function allowedReadFolders(options: ModelReadOptions | undefined): readonly string[] {
  if (options?.allowRead !== undefined) return options.allowRead;
  return (process.env['MODELPASS_ALLOW_READ'] ?? '').split(delimiter).filter((folder) => folder !== '');
}

const mpir: ModelFormat = {
  name: 'mpir',
  extensions: ['.mpir'],
  read(path, options) {
    // Refuses FIFOs and devices; file(...) references stay inside the file's folder unless allowed.
    const model = readModelText(path, { allowRead: allowedReadFolders(options) });
    model.sourceFormat = 'mpir';
    model.sourcePath = path;
    return model;
  },
  write(model, path) {
    // Streams: no whole-text string, so models past the ~512 MiB string limit still print.
    printModelToFile(model, path);
  },
};

const onnx: ModelFormat = {
  name: 'onnx',
  extensions: ['.onnx'],
  read(path, options) {
    const model = readOnnx(path, options?.onProgress ? { onProgress: options.onProgress } : {});
    model.sourceFormat = 'onnx';
    model.sourcePath = path;
    return model;
  },
  write(model, path, options) {
    // TFLite ops (a custom op above all) have no ONNX spelling: refuse them by node, not as unknown ONNX domains.
    assertNoTfliteOps(model, path, 'ONNX');
    // Opaque aten ops (no canonical lowering) are refused by op and TorchScript location.
    assertNoAtenOps(model, path, 'ONNX');
    writeOnnx(model, path, {
      ...(options?.valueInfo ? { valueInfo: options.valueInfo } : {}),
      ...(options?.onProgress ? { onProgress: options.onProgress } : {}),
    });
  },
};

const tflite: ModelFormat = {
  name: 'tflite',
  extensions: ['.tflite'],
  raisePass: 'raise-tflite',
  legalizePass: 'legalize-tflite',
  read(path, options) {
    // The tflite dialect as the file has it; converting to ONNX is a pipeline (raise, layout).
    // Sparse constants are read dense, and said so: every writer stores them dense.
    return readTflite(path, options?.onNote ? { onNote: options.onNote } : {});
  },
  write(model, path) {
    // Refuses (per node, before writing) ops not in the tflite dialect: legalize-tflite maps canonical ones.
    writeTflite(model, path);
  },
};

const torchscript: ModelFormat = {
  name: 'torchscript',
  extensions: ['.pt', '.pth'],
  read(path, options) {
    // Interprets forward symbolically into canonical ops; never runs the archive's code or pickles.
    const shapes = options?.inputShapes;
    const inputs: Record<string, TorchScriptInputSpec> = {};
    for (const [name, shape] of shapes ?? []) inputs[name] = { shape };
    for (const [name, dtype] of options?.inputDtypes ?? []) inputs[name] = { ...inputs[name], dtype };
    for (const [name, value] of options?.bindings ?? []) inputs[name] = { ...inputs[name], value };
    const order = options?.inputOrder;
    return readTorchScript(path, {
      ...(order ? { inputs: order.map((name) => inputs[name] ?? {}) } : Object.keys(inputs).length > 0 ? { inputs } : {}),
      ...(options?.onNote ? { onNote: options.onNote } : {}),
    });
  },
  write(model, path) {
    // A TorchScript module class with the constants as parameters; refuses ops it has no torch.* call for.
    // Model-local functions (torch's export_modules_as_functions) have no torch.* call: their bodies replace the calls.
    inlineModelFunctions(model);
    writeTorchScript(model, path);
  },
};

/** Formats by name; a table, not a switch, so a new format is one entry. */
export const formats: ReadonlyMap<string, ModelFormat> = new Map([mpir, onnx, tflite, torchscript].map((format) => [format.name, format]));

/**
 * Lets `loadModel` of `@modelpass/runtime` read the CLI's formats it has no reader of its own for
 * (TorchScript archives, the textual IR), so a model path inside a pass option — `distill{teacher=t.pt}`
 * — reads as it does on the command line instead of failing as "not an ONNX model". Called once by
 * `main`; registering again replaces the readers (by name).
 */
export function registerFormatReadersForRuntime(): void {
  for (const format of [torchscript, mpir]) {
    registerModelReader({
      name: `cli-${format.name}`,
      matches: (path) => format.extensions.includes(extname(path).toLowerCase()),
      read: (path) => {
        const model = format.read(path);
        if (model instanceof Promise) throw new Error(`the ${format.name} reader is asynchronous; loadModel needs a synchronous one`);
        return model;
      },
    });
  }
}

/** The format named by `explicit`, else the one owning the file's extension. */
export function formatFor(path: string, explicit: string | undefined, role: 'input' | 'output'): ModelFormat {
  const extension = extname(path).toLowerCase();
  if (explicit !== undefined) {
    const format = formats.get(explicit);
    if (!format) throw new UsageError(`unknown format '${explicit}' for the ${role}; known formats: ${[...formats.keys()].join(', ')}`);
    // `-o model.onnx --to tflite` would write a TFLite file that every tool (this one included) reads as ONNX.
    const named = [...formats.values()].find((other) => other.extensions.includes(extension));
    if (role === 'output' && named && named !== format) {
      throw new UsageError(`--to ${explicit} contradicts the output's extension '${extension}' (${named.name}); name the file with ${format.extensions.join(' or ')} or leave --to out`);
    }
    return format;
  }
  for (const format of formats.values()) if (format.extensions.includes(extension)) return format;
  if (role === 'input' && !existsSync(path)) throw new UsageError(`input '${path}' does not exist`);
  throw new UsageError(
    `cannot tell the format of ${role} '${path}' from its extension '${extension || '(none)'}'; ` +
      `use ${role === 'input' ? '--from' : '--to'} with one of: ${[...formats.keys()].join(', ')}`,
  );
}
