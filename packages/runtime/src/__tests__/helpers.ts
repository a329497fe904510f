import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's Python (with numpy and onnx); `python3` on PATH is a different interpreter. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const CONFORMANCE = '/usr/share/libonnx-testdata/data/node';

export function python(code: string, args: readonly string[] = []): string {
  return execFileSync(DEBIAN_PYTHON, ['-c', code, ...args], { encoding: 'utf8' });
}

export function temporaryDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `modelpass-runtime-${label}-`));
}

/** Converts a conformance case's test_data_set_0 `.pb` files to `.npy` with ONNX's own numpy_helper. */
export function conformanceAsNpy(testCase: string): string {
  return protoDataAsNpy(join(CONFORMANCE, testCase), testCase);
}

/** The same for any folder holding `test_data_set_0/*.pb`. */
export function protoDataAsNpy(caseDir: string, label = 'case'): string {
  const dir = temporaryDir(label);
  python(
    `
import glob, os, sys, numpy as np, onnx
from onnx import numpy_helper
src, dst = sys.argv[1], sys.argv[2]
for path in glob.glob(os.path.join(src, 'test_data_set_0', '*.pb')):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    a = numpy_helper.to_array(t)
    if a.dtype == object:
        a = a.astype(str)
    np.save(os.path.join(dst, os.path.basename(path)[:-3] + '.npy'), a)
`,
    [caseDir, dir],
  );
  return dir;
}
