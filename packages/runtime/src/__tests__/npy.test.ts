import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '@modelpass/ir';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '@modelpass/runtime';
import { python, temporaryDir } from './helpers.js';

const cases: { numpy: string; dtype: DType; values: (number | bigint | boolean)[] }[] = [
  { numpy: 'float32', dtype: 'float32', values: [0, -1.5, 3.25, 1e-8, -65504.5, 0.1] },
  { numpy: 'float64', dtype: 'float64', values: [0, -1.5, Math.PI, 1e-300, -2.5e300, 0.1] },
  { numpy: 'float16', dtype: 'float16', values: [0, -1.5, 65504, 0.0999755859375, -2, 6.103515625e-5] },
  { numpy: 'int8', dtype: 'int8', values: [0, -128, 127, -1, 5, 100] },
  { numpy: 'int16', dtype: 'int16', values: [0, -32768, 32767, -1, 5, 1000] },
  { numpy: 'int32', dtype: 'int32', values: [0, -(2 ** 31), 2 ** 31 - 1, -1, 5, 100000] },
  { numpy: 'int64', dtype: 'int64', values: [0n, -(2n ** 63n), 2n ** 63n - 1n, -1n, 5n, 2n ** 53n + 1n] },
  { numpy: 'uint8', dtype: 'uint8', values: [0, 255, 1, 128, 5, 7] },
  { numpy: 'uint16', dtype: 'uint16', values: [0, 65535, 1, 32768, 5, 7] },
  { numpy: 'uint32', dtype: 'uint32', values: [0, 2 ** 32 - 1, 1, 2 ** 31, 5, 7] },
  { numpy: 'uint64', dtype: 'uint64', values: [0n, 2n ** 64n - 1n, 1n, 2n ** 63n, 5n, 7n] },
  { numpy: 'bool_', dtype: 'bool', values: [true, false, false, true, true, false] },
];

const pyValue = (v: number | bigint | boolean) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));

describe('npy against Debian numpy', () => {
  const dir = temporaryDir('npy');
  // numpy writes one file per dtype (shape 2x3), plus reads back the files we write.
  const script = cases
    .map((c, i) => `np.save(os.path.join(d, 'np_${i}.npy'), np.array([${c.values.map(pyValue).join(', ')}], dtype=np.${c.numpy}).reshape(2, 3))`)
    .join('\n');
  python(`import os, sys, numpy as np\nd = sys.argv[1]\n${script}`, [dir]);

  it.each(cases.map((c, i) => [c.numpy, c, i] as const))('reads numpy %s', (_, c, i) => {
    const tensor = readNpy(join(dir, `np_${i}.npy`));
    expect(tensor.dtype).toBe(c.dtype);
    expect(tensor.shape).toEqual([2, 3]);
    expect(tensor.equals(Tensor.fromValues(c.dtype, [2, 3], c.values as never))).toBe(true);
  });

  it('writes files numpy reads back with the same dtype, shape and values', () => {
    cases.forEach((c, i) => writeNpy(Tensor.fromValues(c.dtype, [3, 2], c.values as never), join(dir, `ours_${i}.npy`)));
    const out = python(
      `import os, sys, numpy as np
d = sys.argv[1]
for i in range(${cases.length}):
    a = np.load(os.path.join(d, 'ours_%d.npy' % i))
    print(a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'], ' '.join(repr(x) for x in a.ravel().tolist()))`,
      [dir],
    ).trim().split('\n');
    cases.forEach((c, i) => {
      const [descr, ...rest] = out[i]!.split(' ');
      expect(descr).toMatch(new RegExp(`^[<|]${c.dtype === 'bool' ? 'b1' : ''}`));
      expect(out[i]).toContain('(3, 2) True');
      const printed = rest.slice(3).join(' ');
      const expectedValues = c.values.map((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : v)).map(String);
      if (c.dtype.startsWith('float')) {
        expect(printed.split(' ').map(Number)).toEqual(Array.from(Tensor.fromValues(c.dtype, [6], c.values as never).toNumbers()));
      } else {
        expect(printed.split(' ')).toEqual(expectedValues);
      }
    });
  });

  it('reads scalars, 1-D arrays, empty arrays, versions 2.0 and 3.0, big-endian data and strings', () => {
    python(
      `import os, sys, numpy as np
from numpy.lib import format as f
d = sys.argv[1]
np.save(os.path.join(d, 'scalar.npy'), np.float32(2.5))
np.save(os.path.join(d, 'vector.npy'), np.arange(5, dtype=np.int64))
np.save(os.path.join(d, 'empty.npy'), np.zeros((0, 4), dtype=np.float32))
with open(os.path.join(d, 'v2.npy'), 'wb') as fh: f.write_array(fh, np.arange(6, dtype=np.int32).reshape(3, 2), version=(2, 0))
with open(os.path.join(d, 'v3.npy'), 'wb') as fh: f.write_array(fh, np.arange(6, dtype=np.uint16).reshape(2, 3), version=(3, 0))
np.save(os.path.join(d, 'big.npy'), np.array([1.5, -2.0, 1e10], dtype='>f8'))
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(d, 'unicode.npy'), np.array(['a', 'héllo ✓']))
np.save(os.path.join(d, 'bytes.npy'), np.array([b'ab', b'', b'xyz']))
np.save(os.path.join(d, 'complex.npy'), np.zeros(2, dtype=np.complex64))`,
      [dir],
    );
    const scalar = readNpy(join(dir, 'scalar.npy'));
    expect(scalar.shape).toEqual([]);
    expect(scalar.toNumbers()).toEqual([2.5]);
    expect(readNpy(join(dir, 'vector.npy')).toNumbers()).toEqual([0, 1, 2, 3, 4]);
    expect(readNpy(join(dir, 'empty.npy')).shape).toEqual([0, 4]);
    expect(readNpy(join(dir, 'v2.npy')).toNumbers()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(readFileSync(join(dir, 'v2.npy'))[6]).toBe(2);
    const v3 = readNpy(join(dir, 'v3.npy'));
    expect([v3.dtype, v3.shape, v3.toNumbers()]).toEqual(['uint16', [2, 3], [0, 1, 2, 3, 4, 5]]);
    expect(readNpy(join(dir, 'big.npy')).toNumbers()).toEqual([1.5, -2, 1e10]);
    expect(() => readNpy(join(dir, 'fortran.npy'))).toThrow(/Fortran/);
    const unicode = readNpy(join(dir, 'unicode.npy'));
    expect([unicode.dtype, unicode.strings]).toEqual(['string', ['a', 'héllo ✓']]);
    expect(readNpy(join(dir, 'bytes.npy')).strings).toEqual(['ab', '', 'xyz']);
    expect(() => readNpy(join(dir, 'complex.npy'))).toThrow(/unsupported dtype '<c8'/);
    writeNpy(Tensor.fromStrings([2], ['𝄞 clef', 'b']), join(dir, 'ours_strings.npy'));
    expect(python(`import sys, numpy as np\na = np.load(sys.argv[1])\nprint(a.dtype.str, repr(a.tolist()))`, [join(dir, 'ours_strings.npy')]).trim()).toBe("<U6 ['𝄞 clef', 'b']");
  });

  it('round-trips through encode/decode and aligns data to 64 bytes', () => {
    const tensor = Tensor.fromValues('float32', [2, 2], [1, 2, 3, 4]);
    const bytes = encodeNpy(tensor);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(decodeNpy(bytes).equals(tensor)).toBe(true);
  });

  it('rejects garbage and truncated files with a ModelpassError naming the file', () => {
    const bad = join(dir, 'bad.npy');
    writeFileSync(bad, 'not numpy at all');
    expect(() => readNpy(bad)).toThrow(expect.objectContaining({ name: 'ModelpassError', message: expect.stringContaining(bad) }));
    const full = encodeNpy(Tensor.fromValues('float64', [4], [1, 2, 3, 4]));
    const truncated = full.subarray(0, full.length - 8);
    expect(() => decodeNpy(truncated, 't.npy')).toThrow(/shorter than its shape/);
    expect(() => decodeNpy(full.subarray(0, 40), 't.npy')).toThrow(/truncated header/);
    expect(() => readNpy(join(dir, 'missing.npy'))).toThrow(/cannot read NumPy file/);
    expect(() => encodeNpy(Tensor.fromValues('bfloat16', [1], [1]))).toThrow(/cannot write a bfloat16 tensor/);
  });
});
