/**
 * A float16 graph input Cast straight to a float32 graph output (ONNX's test_cast_FLOAT16_to_FLOAT; passes fuzz s18
 * legalize-reshape-float16-declared.onnx): removing the Cast leaves an Identity whose output took the input's type,
 * float16, after the float16 values had been listed — legalize then declared 'output' float16 over a float32 RESHAPE.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, isTensorType, tensorType } from '@modelpass/ir';
import { float16AsFloat32 } from './float16-compute.js';

describe('float16AsFloat32', () => {
  it('leaves no float16 value when a boundary Cast joins a graph input to a graph output', () => {
    const b = new GraphBuilder();
    const x = b.input('input', tensorType('float16', [3, 4]));
    b.output(b.op1('onnx.Cast', [x], { to: attrs.int(1) }, { name: 'cast' }));
    const model = b.model({ onnx: 13 });
    const result = float16AsFloat32(model.graph);
    expect(result.casts).toBe(1);
    const left = [...model.graph.definedValues()].filter((value) => isTensorType(value.type) && value.type.dtype === 'float16').map((value) => value.name);
    expect(left).toEqual([]);
    expect(model.graph.outputs.map((value) => (isTensorType(value.type) ? value.type.dtype : undefined))).toEqual(['float32']);
  });
});
