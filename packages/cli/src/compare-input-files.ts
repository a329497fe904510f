/**
 * `compare a.pt b.onnx --inputs DIR`: a TorchScript archive records no input shapes, and reading it
 * needs them as soon as an op asks for a rank — while the input files already say them. A file named
 * after an input (`x.npy`, `x.pb`) gives that input's shape to the archives being read (only to them:
 * an ONNX or TFLite file declares its own). Positional files (`input_0.npy`) name no input, so they
 * give none; `--input-shape` still wins.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { DType, Dim } from '@modelpass/ir';
import { listTensorFiles, readTensorFile, resolveInputFolder } from '@modelpass/runtime';

const POSITIONAL = /^(input|output)_\d+$/;

/** What the tensor files at `path` (a folder or one file) named after inputs say of each input. */
export interface InputFileFacts {
  readonly shapes: Map<string, readonly Dim[]>;
  /** An archive's inputs are float32 unless a file says otherwise (silero VAD's int64 `sr`). */
  readonly dtypes: Map<string, DType>;
}

/** Reads each file once for both facts. */
export function inputFileFacts(path: string): InputFileFacts {
  const tensors = inputFileTensors(path);
  return {
    shapes: new Map([...tensors].map(([name, tensor]) => [name, tensor.shape])),
    dtypes: new Map([...tensors].map(([name, tensor]) => [name, tensor.dtype])),
  };
}

function inputFileTensors(path: string): Map<string, { shape: readonly Dim[]; dtype: DType }> {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listTensorFiles(resolveInputFolder(path)) : [path];
  } catch {
    return new Map(); // loading the inputs later says what is wrong with the path
  }
  const tensors = new Map<string, { shape: readonly Dim[]; dtype: DType }>();
  for (const file of files) {
    const name = basename(file, extname(file));
    if (POSITIONAL.test(name)) continue;
    const tensor = readTensorFile(file);
    tensors.set(name, { shape: tensor.shape, dtype: tensor.dtype });
  }
  return tensors;
}
