import { describe, expect, it } from 'vitest';
import { defineOp } from '@modelpass/ir';
import { canonicalOps, createOpRegistry } from '@modelpass/ops';

describe('createOpRegistry', () => {
  it('gives a fresh registry each call: what one is extended with stays out of the others', () => {
    const first = createOpRegistry();
    first.register(defineOp({ op: 'plugin.Thing', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }] }), 'plugin');
    first.markOpenDialect('plugin');
    const second = createOpRegistry();
    expect([first.has('plugin.Thing'), second.has('plugin.Thing'), second.isOpenDialect('plugin')]).toEqual([true, false, false]);
    expect(second.size).toBe(first.size - 1);
    expect(second.has('onnx.Conv') && second.isOpenDialect('com.microsoft')).toBe(true);
    expect(second.ownerOf('onnx.Conv')).toBe('@modelpass/ops');
    expect(second.size).toBeGreaterThanOrEqual(canonicalOps.length);
    // Registering a canonical op again is still refused, naming its owner.
    expect(() => createOpRegistry().register(canonicalOps[0]!.schema, 'late')).toThrow(`op '${canonicalOps[0]!.schema.op}' is already registered by @modelpass/ops`);
  });
});
