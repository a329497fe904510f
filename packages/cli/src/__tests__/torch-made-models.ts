/**
 * Models made by Debian torch (`/usr/bin/python3`) for the CLI tests that compare a .onnx with a .pt: checks the
 * CLI is built, writes the Python source as make.py in a fresh temp folder and runs it with that folder as
 * `sys.argv[1]` (where it saves its models). The caller removes the folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { binPath } from './run-cli.js';

export function modelsMadeByTorch(folderPrefix: string, source: string): string {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  const work = mkdtempSync(join(tmpdir(), folderPrefix));
  const script = join(work, 'make.py');
  writeFileSync(script, source);
  execFileSync('/usr/bin/python3', [script, work], { stdio: ['ignore', 'ignore', 'inherit'] });
  return work;
}
