/** QA s17 round 15: 'modelpass help compare' listed --input-value as '… e.g. sr=16000 (repeatable) (repeatable)'. */
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { CliIO } from '../cli-io.js';

function capture(): CliIO & { out: string[] } {
  const out: string[] = [];
  return { cwd: process.cwd(), stderrIsTTY: false, stdout: (text) => out.push(text), stderr: () => undefined, out };
}

describe('command help', () => {
  it.each(['convert', 'compare', 'inspect', 'diff', 'eval', 'batch'])("'%s' says '(repeatable)' at most once per option", async (command) => {
    const io = capture();
    expect(await main(['help', command], io)).toBe(0);
    const text = io.out.join('\n');
    expect(text).toContain('usage: modelpass');
    for (const line of text.split('\n')) expect(line.match(/repeatable/g)?.length ?? 0, line).toBeLessThanOrEqual(1);
  });
});
