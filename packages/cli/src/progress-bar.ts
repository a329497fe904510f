/**
 * Progress bars on stderr: one line redrawn in place (`\r` and erase-to-end-of-line), with a bar,
 * percentage, amounts and an ETA. Only on a terminal (see `progressReporter` in cli-io.ts); a pipe or
 * file gets nothing at all. Redraws are throttled, so a callback per MiB costs little.
 */
import type { Stylist } from './terminal-style.js';
import { escapeForTerminal } from './terminal-text.js';

export type ProgressUnit = 'bytes' | 'count';

export interface ProgressBarOptions {
  /** Raw stderr writer: text is written as is, no newline added. */
  readonly write: (text: string) => void;
  /** What is being done, e.g. `writing` (made terminal-safe here). */
  readonly label: string;
  /** What it is done to, e.g. a file path; shortened from the left to fit the terminal. */
  readonly subject?: string;
  readonly unit: ProgressUnit;
  /** Colours the bar (the identity stylist when colour is off). */
  readonly style: Stylist;
  /** Terminal width (default 80). */
  readonly columns?: number;
  /** Clock in ms (tests pass their own). */
  readonly now?: () => number;
  /** Least time between redraws in ms (default 100); the first and last draws always happen. */
  readonly redrawMs?: number;
  /**
   * No escape sequences at all (NO_COLOR): a redraw pads with spaces over the longer line it
   * replaces instead of erasing to the end of the line.
   */
  readonly noEscapes?: boolean;
}

/** What commands call: `update` as work advances, `done` once at the end. */
export interface ProgressReporter {
  update(done: number, total: number, detail?: string): void;
  /** Draws the final state and ends the line (`keep`, default) or erases it. */
  done(keep?: boolean): void;
  /** Erases the bar so other stderr text starts on a clean line; the next update draws it again. */
  interrupt(): void;
}

const BAR_WIDTH = 20;
const MIN_BAR_WIDTH = 8;
const ERASE_LINE = '\u001b[K';

export function formatAmount(value: number, unit: ProgressUnit): string {
  if (unit === 'count') return String(Math.round(value));
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let k = 0;
  while (scaled >= 1024 && k < units.length - 1) {
    scaled /= 1024;
    k++;
  }
  return k === 0 ? `${Math.round(scaled)} B` : `${scaled.toFixed(1)} ${units[k]}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export class ProgressBar implements ProgressReporter {
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private doneAmount = 0;
  private total = 0;
  private detail = '';
  private drawn = false;
  private finished = false;
  /** Visible length of the line on screen (for padding in `noEscapes` mode). */
  private shownLength = 0;

  constructor(private readonly options: ProgressBarOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  update(done: number, total: number, detail?: string): void {
    if (this.finished) return;
    this.doneAmount = Math.max(0, Math.min(done, total));
    this.total = Math.max(0, total);
    if (detail !== undefined) this.detail = detail;
    const time = this.now();
    if (this.drawn && time - this.lastDraw < (this.options.redrawMs ?? 100)) return;
    this.lastDraw = time;
    this.draw(false);
  }

  done(keep = true): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.drawn) return;
    if (keep) {
      this.doneAmount = this.total;
      this.draw(true);
      this.options.write('\n');
    } else {
      this.options.write(this.erase());
    }
  }

  interrupt(): void {
    if (this.finished || !this.drawn) return;
    this.drawn = false;
    this.options.write(this.erase());
  }

  /** The line as it would be drawn now (without the carriage return). */
  line(final: boolean): string {
    const { unit, style } = this.options;
    const columns = Math.max(20, this.options.columns ?? 80) - 1; // the last column would wrap on some terminals
    const fraction = this.total > 0 ? this.doneAmount / this.total : 0;
    const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    const amounts = `${formatAmount(this.doneAmount, unit)}/${formatAmount(this.total, unit)}`;
    const elapsed = (this.now() - this.started) / 1000;
    const timing = final
      ? `in ${formatSeconds(elapsed)}`
      : this.doneAmount > 0 && elapsed >= 0.2
        ? `ETA ${formatSeconds((elapsed * (this.total - this.doneAmount)) / this.doneAmount)}`
        : 'ETA …';
    const shortDetail = this.detail.length > 24 ? `${this.detail.slice(0, 23)}…` : this.detail;
    const detail = shortDetail ? ` ${escapeForTerminal(shortDetail)}` : '';
    const label = `modelpass: ${escapeForTerminal(this.options.label)}`;
    let subject = this.options.subject === undefined ? '' : ` ${escapeForTerminal(this.options.subject)}`;
    // Fit the terminal: shorten the subject (from the left) to 12 columns, then the bar down to
    // 8 cells, then the subject further, then drop the detail; the line never wraps (a wrapped line
    // cannot be redrawn in place).
    let numbers = ` ${percent} ${amounts} ${timing}${detail}`;
    const used = (barWidth: number, subjectLength: number) => label.length + subjectLength + 3 + barWidth + numbers.length;
    const shorten = (to: number) => {
      if (subject.length > to) subject = to <= 2 ? '' : ` …${subject.slice(subject.length - to + 2)}`;
    };
    shorten(Math.max(12, columns - used(BAR_WIDTH, 0)));
    const barWidth = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, columns - used(0, subject.length)));
    shorten(Math.max(0, columns - used(barWidth, 0)));
    if (used(barWidth, subject.length) > columns) numbers = ` ${percent} ${amounts} ${timing}`;
    // A very narrow terminal: the words without the bar, cut at its width.
    if (used(barWidth, subject.length) > columns) return [...`${label}${numbers}`].slice(0, columns).join('');
    const filled = Math.round(fraction * barWidth);
    const bar = `[${style('cyan', '█'.repeat(filled))}${style('dim', '░'.repeat(barWidth - filled))}]`;
    return `${label}${subject} ${bar}${numbers}`;
  }

  private draw(final: boolean): void {
    this.drawn = true;
    const line = this.line(final);
    if (!this.options.noEscapes) {
      this.options.write(`\r${line}${ERASE_LINE}`);
      return;
    }
    const length = [...line].length;
    this.options.write(`\r${line}${' '.repeat(Math.max(0, this.shownLength - length))}`);
    this.shownLength = length;
  }

  /** Clears the bar's line and returns to its start. */
  private erase(): string {
    if (!this.options.noEscapes) return `\r${ERASE_LINE}`;
    const blank = `\r${' '.repeat(this.shownLength)}\r`;
    this.shownLength = 0;
    return blank;
  }
}

/** Draws nothing: what commands get when stderr is not a terminal. */
export const silentProgress: ProgressReporter = { update() {}, done() {}, interrupt() {} };
