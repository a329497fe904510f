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
import { listTensorFiles, readTensorFile } from '@modelpass/runtime';

const POSITIONAL = /^(input|output)_\d+$/;

/** Input name → shape, from the tensor files at `path` (a folder or one file) named after inputs. */
export function shapesFromInputFiles(path: string): Map<string, readonly Dim[]> {
  return new Map([...inputFileTensors(path)].map(([name, tensor]) => [name, tensor.shape]));
}

/** Input name → dtype, from the same files (an archive's inputs are float32 unless a file says otherwise). */
export function dtypesFromInputFiles(path: string): Map<string, DType> {
  return new Map([...inputFileTensors(path)].map(([name, tensor]) => [name, tensor.dtype]));
}

function inputFileTensors(path: string): Map<string, { shape: readonly Dim[]; dtype: DType }> {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listTensorFiles(path) : [path];
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
