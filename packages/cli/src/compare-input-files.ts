/**
 * `compare a.pt b.onnx --inputs DIR`: a TorchScript archive records no input shapes, and reading it
 * needs them as soon as an op asks for a rank — while the input files already say them. A file named
 * after an input (`x.npy`, `x.pb`) gives that input's shape to the archives being read (only to them:
 * an ONNX or TFLite file declares its own). Positional files (`input_0.npy`) name no input, so they
 * give none; `--input-shape` still wins.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Dim } from '@modelpass/ir';
import { listTensorFiles, readTensorFile } from '@modelpass/runtime';

const POSITIONAL = /^(input|output)_\d+$/;

/** Input name → shape, from the tensor files at `path` (a folder or one file) named after inputs. */
export function shapesFromInputFiles(path: string): Map<string, readonly Dim[]> {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listTensorFiles(path) : [path];
  } catch {
    return new Map(); // loading the inputs later says what is wrong with the path
  }
  const shapes = new Map<string, readonly Dim[]>();
  for (const file of files) {
    const name = basename(file, extname(file));
    if (POSITIONAL.test(name)) continue;
    shapes.set(name, readTensorFile(file).shape);
  }
  return shapes;
}
