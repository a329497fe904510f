import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { decodeOnnx, readOnnx } from '@modelpass/onnx';
import { FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';
import type { onnx as OnnxTypes } from '../generated/onnx-types.js';

// Model-local functions of domain 'local'; the main graph calls the first one: y = F(x).
const OPSETS = [{ domain: '', version: 15 }, { domain: 'local', version: 1 }];

function fn(name: string, node: OnnxTypes.NodeProto.$Properties[]): OnnxTypes.FunctionProto.$Properties {
  return { name, domain: 'local', input: ['a'], output: ['b'], node, opset_import: OPSETS };
}

function call(op: string, input: string, output: string): OnnxTypes.NodeProto.$Properties {
  return { op_type: op, domain: 'local', input: [input], output: [output] };
}

function withFunctions(functions: OnnxTypes.FunctionProto.$Properties[]): Uint8Array {
  return modelBytes({
    ir_version: 8,
    opset_import: OPSETS,
    functions,
    graph: { name: 'main', node: [call(functions[0]!.name!, 'x', 'y')], input: [tensorInfo('x', FLOAT, [2])], output: [tensorInfo('y', FLOAT, [2])] },
  });
}

function errorOf(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelpassError, nothing was thrown');
}

describe('model-local functions that call themselves', () => {
  it('refuses a function that calls itself, naming it and the file (it was read, and written back, as a valid model)', () => {
    const path = join(tempDir('function-recursion'), 'self.onnx');
    writeFileSync(path, withFunctions([fn('Rec', [call('Rec', 'a', 'b')])]));
    const error = errorOf(() => readOnnx(path));
    expect(error.message).toContain(`${path}`);
    expect(error.message).toMatch(/malformed ONNX model: function 'local\.Rec' calls itself \(local\.Rec → local\.Rec\); ONNX functions cannot be recursive/);
  });

  it('refuses a cycle through another function and through an If branch inside a body', () => {
    const branch = (output: string): OnnxTypes.GraphProto.$Properties => ({ name: `branch_${output}`, node: [call('A', 'a', output)], output: [tensorInfo(output, FLOAT, [2])] });
    const b = fn('B', [
      { op_type: 'Constant', output: ['c'], attribute: [{ name: 'value', type: 4, t: { data_type: 9, dims: [], int32_data: [1] } }] },
      { op_type: 'If', input: ['c'], output: ['b'], attribute: [{ name: 'then_branch', type: 5, g: branch('t') }, { name: 'else_branch', type: 5, g: branch('e') }] },
    ]);
    const error = errorOf(() => decodeOnnx(withFunctions([fn('A', [{ op_type: 'Relu', input: ['a'], output: ['r'] }, call('B', 'r', 'b')]), b])));
    expect(error.message).toMatch(/function 'local\.A' calls itself \(local\.A → local\.B → local\.A\)/);
  });

  it('reads functions that call each other without a cycle', () => {
    const model = decodeOnnx(withFunctions([fn('Outer', [call('Inner', 'a', 'b')]), fn('Inner', [{ op_type: 'Relu', input: ['a'], output: ['b'] }])]));
    expect(model.functions.map((f) => f.name)).toEqual(['Outer', 'Inner']);
  });
});
