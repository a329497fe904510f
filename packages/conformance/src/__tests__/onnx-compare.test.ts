import { expect, test } from 'vitest';
import { ortOutputsIdentical } from '@modelpass/conformance';

test('output comparison is bitwise, NaN-aware, and sees sign of zero, type and shape', () => {
  const f = (values: number[], dims = [values.length], type = 'float32') => ({ type, dims, data: Float32Array.from(values) });
  expect(ortOutputsIdentical(f([1, NaN, 3]), f([1, NaN, 3]))).toBe(true);
  expect(ortOutputsIdentical(f([1, 2, 3]), f([1, 2, 3.0000002]))).toBe(false);
  expect(ortOutputsIdentical(f([0]), f([-0]))).toBe(false);
  expect(ortOutputsIdentical(f([1, 2]), f([1, 2], [2, 1]))).toBe(false);
  expect(ortOutputsIdentical(f([1, 2]), { type: 'int32', dims: [2], data: Int32Array.from([1, 2]) })).toBe(false);
  expect(ortOutputsIdentical({ type: 'string', dims: [1], data: ['a'] }, { type: 'string', dims: [1], data: ['b'] })).toBe(false);
});
