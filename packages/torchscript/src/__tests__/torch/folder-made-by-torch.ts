/**
 * A fresh temp folder of models a test's own Python source makes with Debian torch: the source is saved there as
 * make.py and run (through runPython, which names a missing torch) with the folder as `sys.argv[1]`. The caller
 * removes the folder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPython } from './torch-fixtures.js';

export function folderMadeByTorch(folderPrefix: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), folderPrefix));
  const script = join(dir, 'make.py');
  writeFileSync(script, source);
  runPython(script, [dir]);
  return dir;
}
