import { describe, expect, it } from 'vitest';
import { defineOp, OpRegistry, type OpSchema } from '@modelpass/ir';

const op = (name: string): OpSchema => defineOp({ op: name, inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }] });
const base = (): OpRegistry => new OpRegistry().register([op('onnx.Relu'), op('onnx.Neg')], 'base').markOpenDialect('com.microsoft');
const dialect: readonly OpSchema[] = Object.freeze([op('x.A'), op('x.B')]);

describe('OpRegistry clones share their tables until one of them changes', () => {
  it('a clone and its original are independent in both directions (schemas, owners, open dialects)', () => {
    const original = base();
    const copy = original.clone();
    copy.register(op('onnx.Abs'), 'copy').markOpenDialect('ai.onnx.ml');
    original.register(op('onnx.Exp'), 'original');
    expect(copy.ops()).toEqual(['onnx.Abs', 'onnx.Neg', 'onnx.Relu']);
    expect(original.ops()).toEqual(['onnx.Exp', 'onnx.Neg', 'onnx.Relu']);
    expect([copy.ownerOf('onnx.Abs'), original.ownerOf('onnx.Abs'), copy.ownerOf('onnx.Relu')]).toEqual(['copy', undefined, 'base']);
    expect([copy.isOpenDialect('ai.onnx.ml'), original.isOpenDialect('ai.onnx.ml'), copy.isOpenDialect('com.microsoft')]).toEqual([true, false, true]);
    // A clone of a clone, changed after its source changed, sees the source as it was when cloned.
    const second = copy.clone();
    copy.register(op('onnx.Sin'), 'copy');
    expect(second.has('onnx.Sin')).toBe(false);
    expect(second.size).toBe(3);
  });

  it('registering the same frozen list on clones of one registry gives each its own, equal, registry', () => {
    const canonical = base();
    const first = canonical.clone().register(dialect, 'x');
    const second = canonical.clone().register(dialect, 'x');
    const otherOwner = canonical.clone().register(dialect, 'y');
    expect(second.ops()).toEqual(first.ops());
    expect(second.ownerOf('x.A')).toBe('x');
    expect(otherOwner.ownerOf('x.A')).toBe('y');
    expect(canonical.has('x.A')).toBe(false);
    first.register(op('x.C'), 'x');
    expect([first.has('x.C'), second.has('x.C'), canonical.clone().register(dialect, 'x').has('x.C')]).toEqual([true, false, false]);
  });

  it('still refuses an op registered twice, also when the registration was made before on another clone', () => {
    const canonical = base();
    canonical.clone().register(dialect, 'x');
    const again = canonical.clone().register(dialect, 'x');
    expect(() => again.register(dialect, 'z')).toThrow("op 'x.A' is already registered by x");
    expect(() => canonical.clone().register([op('onnx.Relu')], 'late')).toThrow("op 'onnx.Relu' is already registered by base");
  });
});
