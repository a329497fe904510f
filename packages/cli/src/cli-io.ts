/** Where a command writes and where it runs; tests pass their own to capture output. */
export interface CliIO {
  readonly cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress goes to stderr only when it is a terminal. */
  readonly stderrIsTTY: boolean;
  /**
   * Writes styled text to stderr as is: `main` does not escape it, so the caller must have passed every
   * untrusted piece through `escapeForTerminal` and added only its own SGR colour codes. Without it
   * (tests' captured IO), styled output falls back to `stderr` uncoloured.
   */
  readonly stderrStyled?: (text: string) => void;
}

export const processIO: CliIO = {
  cwd: process.cwd(),
  stdout: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stderrIsTTY: process.stderr.isTTY === true,
  stderrStyled: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A one-line progress note on a terminal (silent when stderr is a pipe or file). */
export function progress(io: CliIO, message: string): void {
  if (io.stderrIsTTY) io.stderr(`modelpass: ${message}`);
}
