import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { CliIO } from '../cli-io.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What a source file loads at run time through static `import … from` / `export … from` (not `import type`, not `import()`). */
function staticImports(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gms)) {
    if (match[2]) continue;
    const specifier = match[3]!;
    if (specifier.startsWith('.')) files.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    else packages.push(specifier);
  }
  return { files, packages };
}

/** The source files (relative to src) and packages a module loads before any of its code runs. */
function staticClosure(entry: string): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const pending = [resolve(SRC, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const found = staticImports(file);
    pending.push(...found.files);
    for (const name of found.packages) packages.add(name);
  }
  return { files: [...seen].map((file) => relative(SRC, file)), packages };
}

function captureIO(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { cwd: process.cwd(), stderrIsTTY: false, stdout: (text) => out.push(text), stderr: (text) => err.push(text), out, err };
}

describe("the CLI's modules", () => {
  it('main loads no command module up front: a command is imported when it runs', () => {
    const { files, packages } = staticClosure('main.ts');
    expect(files.filter((file) => file.startsWith('commands/'))).toEqual([]);
    expect(packages.has('@modelpass/distributed')).toBe(false);
  });

  it('convert loads no other command and not @modelpass/distributed (only --redis/--shards import it)', () => {
    const { files, packages } = staticClosure('commands/convert.ts');
    expect(files.filter((file) => file.startsWith('commands/'))).toEqual(['commands/convert.ts']);
    expect(packages.has('@modelpass/distributed')).toBe(false);
  });

  it("convert loads --check's and --report's modules and @modelpass/report only when those flags are given", () => {
    const { files, packages } = staticClosure('commands/convert.ts');
    expect(files).toContain('report/report-flag.ts');
    expect(files.filter((file) => ['check/check-instrumentation.ts', 'check/check-output.ts', 'report/report-file.ts', 'report/model-report.ts'].includes(file))).toEqual([]);
    expect(packages.has('@modelpass/report')).toBe(false);
  });

  it('the top-level help still lists every command, in order, and an unknown one is still suggested', async () => {
    const io = captureIO();
    expect(await main(['help'], io)).toBe(0);
    const names = io.out.join('\n').split('\n').filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim().split(/\s+/)[0]);
    expect(names).toEqual(['convert', 'inspect', 'compare', 'diff', 'eval', 'passes', 'replay', 'batch', 'worker']);
    const unknown = captureIO();
    expect(await main(['wroker'], unknown)).toBe(2);
    expect(unknown.err.join('\n')).toContain("did you mean 'worker'");
    const help = captureIO();
    expect(await main(['help', 'batch'], help)).toBe(0);
    expect(help.out.join('\n')).toContain('usage: modelpass batch');
  });
});
