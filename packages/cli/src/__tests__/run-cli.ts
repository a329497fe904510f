import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main, type CliIO } from '@modelpass/cli';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const binPath = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], cwd = repoRoot): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    cwd,
    stdout: (text) => void (stdout += text.endsWith('\n') ? text : `${text}\n`),
    stderr: (text) => void (stderr += text.endsWith('\n') ? text : `${text}\n`),
    stderrIsTTY: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Runs the built `modelpass` binary as a user would. */
export function spawnCli(argv: string[], cwd = repoRoot): CliResult {
  const result = spawnSync(process.execPath, [binPath, ...argv], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
