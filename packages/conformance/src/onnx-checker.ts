import { spawnSync } from 'node:child_process';

/** Debian's Python with the `onnx` module (the pyenv `python3` on PATH does not have it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

const CHECKER_SCRIPT = `
import json, sys
import onnx
paths = json.load(sys.stdin)
out = {}
for p in paths:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
        out[p] = None
    except Exception as e:
        out[p] = (type(e).__name__ + ': ' + str(e))[:500]
json.dump(out, sys.stdout)
`;

/**
 * Runs ONNX's checker (full_check) over many files in ONE Python process.
 * Returns, per path, null when accepted or the checker's message.
 */
export function runOnnxChecker(paths: readonly string[]): Map<string, string | null> {
  const result = spawnSync(DEBIAN_PYTHON, ['-c', CHECKER_SCRIPT], {
    input: JSON.stringify(paths),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (result.status !== 0) {
    throw new Error(`ONNX checker failed to run (${DEBIAN_PYTHON}): ${result.error?.message ?? result.stderr}; run tools/setup.sh`);
  }
  const parsed = JSON.parse(result.stdout) as Record<string, string | null>;
  return new Map(Object.entries(parsed));
}
