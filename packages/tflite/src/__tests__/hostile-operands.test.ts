import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTflite } from '@modelpass/tflite';
import {
  AddOptions,
  Buffer as FbBuffer,
  BuiltinOptions,
  DimensionMetadata,
  DimensionType,
  Int32Vector,
  Model as FbModel,
  Operator,
  OperatorCode,
  SparseIndexVector,
  SparsityParameters,
  SubGraph,
  Tensor as FbTensor,
} from '../generated/flatbuffers/tflite.js';

// Files built field by field (not by writeTflite, which cannot spell these mistakes): y = ADD(x, w), w a constant,
// dense or sparse (a [4,4] DENSE × SPARSE_CSR matrix).
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-hostile-operands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CsrLevel {
  readonly segments: readonly number[];
  readonly indices: readonly number[];
  readonly rows?: number;
}

interface AddFile {
  readonly wShape?: readonly number[];
  readonly wValues?: readonly number[];
  readonly csr?: CsrLevel;
  readonly addInputs?: readonly number[];
}

function int32Vector(builder: Builder, values: readonly number[]): number {
  const vector = Int32Vector.createValuesVector(builder, [...values]);
  Int32Vector.startInt32Vector(builder);
  Int32Vector.addValues(builder, vector);
  return Int32Vector.endInt32Vector(builder);
}

function sparsity(builder: Builder, csr: CsrLevel): number {
  const segments = int32Vector(builder, csr.segments);
  const indices = int32Vector(builder, csr.indices);
  const rows = DimensionMetadata.createDimensionMetadata(builder, DimensionType.DENSE, csr.rows ?? 4, 0, 0, 0, 0);
  const columns = DimensionMetadata.createDimensionMetadata(builder, DimensionType.SPARSE_CSR, 0, SparseIndexVector.Int32Vector, segments, SparseIndexVector.Int32Vector, indices);
  const order = SparsityParameters.createTraversalOrderVector(builder, [0, 1]);
  const levels = SparsityParameters.createDimMetadataVector(builder, [rows, columns]);
  return SparsityParameters.createSparsityParameters(builder, order, 0, levels);
}

function addFile(name: string, spec: AddFile): string {
  const builder = new Builder(1024);
  const wShape = spec.wShape ?? (spec.csr ? [4, 4] : [1, 4]);
  const ioShape = spec.csr ? [4, 4] : [1, 4];
  const values = new Uint8Array(Float32Array.from(spec.wValues ?? [1, 2, 3, 4]).buffer);
  const buffers = [0, 0, FbBuffer.createDataVector(builder, values), 0].map((data) => {
    FbBuffer.startBuffer(builder);
    if (data) FbBuffer.addData(builder, data);
    return FbBuffer.endBuffer(builder);
  });
  const tensors = [
    { name: 'x', shape: ioShape, buffer: 1 },
    { name: 'w', shape: wShape, buffer: 2, sparse: spec.csr },
    { name: 'y', shape: ioShape, buffer: 3 },
  ].map((t) => {
    const tensorName = builder.createString(t.name);
    const shape = FbTensor.createShapeVector(builder, [...t.shape]);
    const sparse = t.sparse ? sparsity(builder, t.sparse) : 0;
    FbTensor.startTensor(builder);
    FbTensor.addShape(builder, shape);
    FbTensor.addBuffer(builder, t.buffer);
    FbTensor.addName(builder, tensorName);
    if (sparse) FbTensor.addSparsity(builder, sparse);
    return FbTensor.endTensor(builder);
  });
  const inputs = Operator.createInputsVector(builder, [...(spec.addInputs ?? [0, 1])]);
  const outputs = Operator.createOutputsVector(builder, [2]);
  const options = AddOptions.createAddOptions(builder, 0, false);
  Operator.startOperator(builder);
  Operator.addOpcodeIndex(builder, 0);
  Operator.addInputs(builder, inputs);
  Operator.addOutputs(builder, outputs);
  Operator.addBuiltinOptionsType(builder, BuiltinOptions.AddOptions);
  Operator.addBuiltinOptions(builder, options);
  const add = Operator.endOperator(builder);
  const subgraph = SubGraph.createSubGraph(
    builder,
    SubGraph.createTensorsVector(builder, tensors),
    SubGraph.createInputsVector(builder, [0]),
    SubGraph.createOutputsVector(builder, [2]),
    SubGraph.createOperatorsVector(builder, [add]),
    builder.createString('main'),
    -1,
  );
  const code = OperatorCode.createOperatorCode(builder, 0, 0, 1, 0);
  const codes = FbModel.createOperatorCodesVector(builder, [code]);
  const subgraphs = FbModel.createSubgraphsVector(builder, [subgraph]);
  const bufferVector = FbModel.createBuffersVector(builder, buffers);
  FbModel.startModel(builder);
  FbModel.addVersion(builder, 3);
  FbModel.addOperatorCodes(builder, codes);
  FbModel.addSubgraphs(builder, subgraphs);
  FbModel.addBuffers(builder, bufferVector);
  builder.finish(FbModel.endModel(builder), 'TFL3');
  const path = join(dir, `${name}.tflite`);
  writeFileSync(path, builder.asUint8Array());
  return path;
}

/** The constant `w` as numbers, read with every check. */
function weights(path: string): number[] {
  const model = readTflite(path);
  return model.graph.constants.find((value) => value.name === 'w')!.constant!.toNumbers();
}

function failure(path: string): ModelpassError {
  try {
    weights(path);
  } catch (error) {
    expect(ModelpassError.is(error), String((error as Error).stack)).toBe(true);
    expect((error as ModelpassError).location?.file).toBe(path);
    return error as ModelpassError;
  }
  throw new Error(`${path} was read without an error`);
}

describe('sparse constants whose metadata does not describe one dense tensor', () => {
  it('densifies a consistent CSR matrix (the diagonal 1..4)', () => {
    const path = addFile('diagonal', { csr: { segments: [0, 1, 2, 3, 4], indices: [0, 1, 2, 3] } });
    expect(weights(path)).toEqual([1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4]);
  });

  it('refuses a negative column index (it wrapped into the row before: 2 landed at [0,3])', () => {
    const path = addFile('negative-index', { csr: { segments: [0, 1, 2, 3, 4], indices: [0, -1, 2, 3] } });
    expect(failure(path).message).toMatch(/sparse tensor 'w' \(model\.subgraphs\[0\]\.tensors\[1\]\): a stored value lands at coordinate -1 of dim 1, outside its size 4/);
  });

  it('refuses two stored values at one position (one of them was dropped without a word)', () => {
    const path = addFile('repeated-index', { csr: { segments: [0, 2, 2, 3, 4], indices: [0, 0, 2, 3] } });
    expect(failure(path).message).toMatch(/sparse tensor 'w' .*: stored value 1 lands at \[0,0\], where an earlier one is already/);
  });

  it('refuses a DENSE level whose dense_size is not its dim\'s size, naming both', () => {
    const path = addFile('dense-size', { csr: { segments: [0, 1, 2, 3, 4], indices: [0, 1, 2, 3], rows: 1_000_000_000 } });
    expect(failure(path).message).toMatch(/dim_metadata\[0\] \(DENSE, dim 0\) has dense_size 1000000000, but the dim has 4 coordinates/);
  });
});

describe('operand indices and constant shapes', () => {
  it('refuses an operator input index below -1 as malformed, naming the field (it read as an absent operand)', () => {
    const path = addFile('input-minus-5', { addInputs: [0, -5] });
    expect(failure(path).message).toMatch(/model\.subgraphs\[0\]\.operators\[0\]\.inputs: tensor index -5 is negative \(an operator's optional operand may be -1, absent; nothing else\)/);
  });

  it('still reads -1 as an absent optional operand', () => {
    const path = addFile('input-minus-1', { addInputs: [0, -1] });
    const [add] = readTflite(path).graph.nodeList();
    expect(add!.inputs[1]).toBeNull();
  });

  it('refuses a constant with a -1 dim (its data length chose the dim: [-1,4] read as [1,4])', () => {
    const path = addFile('constant-unknown-dim', { wShape: [-1, 4] });
    expect(failure(path).message).toMatch(/tensors\[1\]\.shape\[0\]: constant tensor 'w' has an unknown \(-1\) dimension/);
  });
});
