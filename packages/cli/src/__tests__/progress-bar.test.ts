import { describe, expect, it } from 'vitest';
import { parsePipeline } from '@modelpass/pass-manager';
import { builtinEnvironment, expectedPassRuns, formatAmount, formatSeconds, ProgressBar, progressReporter, silentProgress, type CliIO } from '@modelpass/cli';

const ESC = '\u001b';
const plain = (_style: string, text: string) => text;

function recorder(columns = 100) {
  const writes: string[] = [];
  let clock = 0;
  const bar = (label: string, subject?: string) =>
    new ProgressBar({ write: (t) => writes.push(t), label, ...(subject !== undefined ? { subject } : {}), unit: 'bytes', style: plain, columns, now: () => clock });
  return { writes, bar, tick: (ms: number) => (clock += ms) };
}

describe('ProgressBar', () => {
  it('redraws one line in place with percentage, amounts and an ETA from the rate so far', () => {
    const { writes, bar, tick } = recorder();
    const progress = bar('writing', 'out.onnx');
    progress.update(0, 1024 ** 3);
    tick(1000);
    progress.update(256 * 1024 ** 2, 1024 ** 3);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(`\rmodelpass: writing out.onnx [█████░░░░░░░░░░░░░░░]  25% 256.0 MiB/1.0 GiB ETA 3s${ESC}[K`);
    progress.done();
    expect(writes.at(-2)).toMatch(/^\rmodelpass: writing out\.onnx \[█{20}\] 100% 1\.0 GiB\/1\.0 GiB in 1s/);
    expect(writes.at(-1)).toBe('\n');
    progress.update(1, 2); // after done: nothing
    expect(writes.at(-1)).toBe('\n');
  });

  it('draws at most every 100 ms between the first and the final draw', () => {
    const { writes, bar, tick } = recorder();
    const progress = bar('reading');
    for (let k = 0; k <= 100; k++) {
      progress.update(k, 100);
      tick(5);
    }
    expect(writes.length).toBeGreaterThanOrEqual(5);
    expect(writes.length).toBeLessThanOrEqual(7);
  });

  it('shortens the subject from the left to fit the terminal, never the verb or the bar', () => {
    const { writes, bar } = recorder(80);
    bar('writing', `/very/long/${'folder/'.repeat(20)}model.onnx`).update(1, 2);
    const line = writes[0]!.replace(`${ESC}[K`, '').replace('\r', '');
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toMatch(/^modelpass: writing …\S*model\.onnx \[/);
  });

  it('never draws past the terminal width: narrow terminals shrink the subject and the bar', () => {
    for (const columns of [40, 50, 60, 80, 120]) {
      const writes: string[] = [];
      const bar = new ProgressBar({ write: (t) => writes.push(t), label: 'evaluating', subject: 'fashion-mnist:test', unit: 'count', style: plain, columns, now: () => 0 });
      bar.update(5000, 10000, 'a-pass-with-a-long-name{and=options}');
      const visible = writes[0]!.replace(`${ESC}[K`, '').replace('\r', '');
      expect(visible.length, `${columns} columns: ${visible}`).toBeLessThan(columns);
      if (columns >= 60) expect(visible).toMatch(/^modelpass: evaluating .*\[█+░+\]  50% 5000\/10000/);
      else expect(visible).toMatch(/^modelpass: evaluating  50%/);
    }
  });

  it('makes control characters in the subject visible and erases itself on interrupt or done(false)', () => {
    const { writes, bar } = recorder();
    const progress = bar('reading', `evil${ESC}]0;title\u0007.onnx`);
    progress.update(1, 2);
    expect(writes[0]).toContain('evil\\u001b]0;title\\u0007.onnx');
    progress.interrupt();
    expect(writes.at(-1)).toBe(`\r${ESC}[K`);
    progress.update(2, 2); // redrawn at once after an interruption
    expect(writes.at(-1)).toContain('100%');
    progress.done(false);
    expect(writes.at(-1)).toBe(`\r${ESC}[K`);
  });

  it('formats amounts and durations', () => {
    expect(formatAmount(512, 'bytes')).toBe('512 B');
    expect(formatAmount(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatAmount(7, 'count')).toBe('7');
    expect(formatSeconds(59.4)).toBe('59s');
    expect(formatSeconds(125)).toBe('2m05s');
    expect(formatSeconds(7260)).toBe('2h01m');
  });
});

describe('progressReporter', () => {
  const io = (stderrIsTTY: boolean, writes: string[]): CliIO => ({
    cwd: '/',
    stdout: () => {},
    stderr: () => {},
    stderrIsTTY,
    stderrProgress: (text) => void writes.push(text),
  });

  it('is silent unless stderr is a terminal (and not TERM=dumb); colour follows NO_COLOR/FORCE_COLOR', () => {
    const writes: string[] = [];
    expect(progressReporter(io(false, writes), 'reading', 'x', 'bytes', { FORCE_COLOR: '1' })).toBe(silentProgress);
    expect(progressReporter(io(true, writes), 'reading', 'x', 'bytes', { TERM: 'dumb' })).toBe(silentProgress);
    const noColour = progressReporter(io(true, writes), 'reading', 'x', 'bytes', { TERM: 'xterm', NO_COLOR: '1' });
    noColour.update(1, 2);
    noColour.interrupt();
    noColour.update(2, 2);
    noColour.done();
    expect(writes.join('')).not.toContain(ESC); // NO_COLOR: no escape sequence at all, lines blanked with spaces
    expect(writes[1]).toMatch(/^\r {40,}\r$/);
    progressReporter(io(true, writes), 'reading', 'x', 'bytes', { TERM: 'xterm' }).update(1, 2);
    expect(writes.at(-1)).toContain(`${ESC}[36m`);
  });
});

describe('expectedPassRuns', () => {
  it('counts repeat{times} bodies that many times and fixed points once', () => {
    const environment = builtinEnvironment();
    const count = (text: string) => expectedPassRuns(parsePipeline(text, environment.passes).steps);
    expect(count('canonicalize,dce')).toBe(2);
    expect(count('repeat{times=3}(cse,dce),dce')).toBe(7);
    expect(count('fixed-point(canonicalize,repeat{times=2}(cse)),dce')).toBe(4);
  });
});
