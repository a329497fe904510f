import { ProgressBar, silentProgress, type ProgressReporter, type ProgressUnit } from './progress-bar.js';
import { colorEnabled, stylist } from './terminal-style.js';

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
  /**
   * Writes progress-bar text to stderr as is, without adding a newline (the bar redraws its line
   * with `\r`). Only `ProgressBar` uses it, and it makes its untrusted parts terminal-safe. Without
   * it (tests' captured IO), no progress bar is drawn.
   */
  readonly stderrProgress?: (text: string) => void;
  /** Terminal width for progress bars (default 80). */
  readonly stderrColumns?: number;
}

export const processIO: CliIO = {
  cwd: process.cwd(),
  stdout: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stderrIsTTY: process.stderr.isTTY === true,
  stderrStyled: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stderrProgress: (text) => void process.stderr.write(text),
  get stderrColumns() {
    return process.stderr.columns;
  },
};

/**
 * A progress bar on stderr when it is a terminal (not `TERM=dumb`), coloured per NO_COLOR /
 * FORCE_COLOR; otherwise a reporter that prints nothing at all.
 */
export function progressReporter(io: CliIO, label: string, subject: string | undefined, unit: ProgressUnit, env: NodeJS.ProcessEnv = process.env): ProgressReporter {
  if (!io.stderrIsTTY || !io.stderrProgress || env['TERM'] === 'dumb') return silentProgress;
  const colour = colorEnabled(true, env);
  return new ProgressBar({
    write: io.stderrProgress,
    label,
    ...(subject !== undefined ? { subject } : {}),
    unit,
    style: stylist(colour),
    noEscapes: !colour,
    ...(io.stderrColumns ? { columns: io.stderrColumns } : {}),
  });
}

