/**
 * `compare a.pt b.onnx --inputs DIR`: a TorchScript archive records no input shapes, and reading it
 * needs them as soon as an op asks for a rank — while the input files already say them. A file named
 * after an input (`x.npy`, `x.pb`) gives that input's shape to the archives being read (only to them:
 * an ONNX or TFLite file declares its own). Positional files (`input_0.npy`) name no input: they feed
 * the N-th input that needs a feed, so with one archive beside another model their shapes are lent
 * under that model's input names (`positionalFileShapes`), as its declared shapes would be without
 * `--inputs`; `--input-shape` still wins.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { DType, Dim } from '@modelpass/ir';
import { listTensorFiles, readTensorFile, resolveInputFolder } from '@modelpass/runtime';

const POSITIONAL = /^(input|output)_\d+$/;
const POSITIONAL_INPUT = /^input_(\d+)$/;

/** What the tensor files at `path` (a folder or one file) named after inputs say of each input. */
export interface InputFileFacts {
  readonly shapes: Map<string, readonly Dim[]>;
  /** An archive's inputs are float32 unless a file says otherwise (silero VAD's int64 `sr`). */
  readonly dtypes: Map<string, DType>;
  /** The shapes of the positional files `input_N` by N. */
  readonly positionalShapes: Map<number, readonly Dim[]>;
}

/** Reads each file once for both facts. */
export function inputFileFacts(path: string): InputFileFacts {
  const { named, positional } = inputFileTensors(path);
  return {
    shapes: new Map([...named].map(([name, tensor]) => [name, tensor.shape])),
    dtypes: new Map([...named].map(([name, tensor]) => [name, tensor.dtype])),
    positionalShapes: new Map([...positional].map(([index, tensor]) => [index, tensor.shape])),
  };
}

/**
 * The shapes the positional files give, under the names of `feedOrder` (the other model's inputs that need a feed, in
 * order: `input_N` feeds the N-th) — only for inputs that neither `--input-shape` nor a file named after them sizes.
 */
export function positionalFileShapes(
  facts: InputFileFacts,
  feedOrder: readonly string[],
  given: ReadonlyMap<string, readonly Dim[]>,
): Map<string, readonly Dim[]> {
  const lent = new Map<string, readonly Dim[]>();
  for (const [index, shape] of facts.positionalShapes) {
    const name = feedOrder[index];
    if (name !== undefined && !given.has(name) && !facts.shapes.has(name)) lent.set(name, shape);
  }
  return lent;
}

interface TensorFacts {
  readonly shape: readonly Dim[];
  readonly dtype: DType;
}

function inputFileTensors(path: string): { named: Map<string, TensorFacts>; positional: Map<number, TensorFacts> } {
  const named = new Map<string, TensorFacts>();
  const positional = new Map<number, TensorFacts>();
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listTensorFiles(resolveInputFolder(path)) : [path];
  } catch {
    return { named, positional }; // loading the inputs later says what is wrong with the path
  }
  for (const file of files) {
    const name = basename(file, extname(file));
    const index = POSITIONAL_INPUT.exec(name)?.[1];
    if (POSITIONAL.test(name) && index === undefined) continue;
    const tensor = readTensorFile(file);
    if (index !== undefined) positional.set(Number(index), { shape: tensor.shape, dtype: tensor.dtype });
    else named.set(name, { shape: tensor.shape, dtype: tensor.dtype });
  }
  return { named, positional };
}
